"""Issue 10, faults: a REAL worker is killed (SIGKILL, the whole process group) while it applies the
buyer's payment, and while it sends the seller's payout. The sweeper (beat, database-driven) run by a
fresh worker finishes each within minutes, and the broker's own redelivery of the dead worker's task
changes nothing more: the trade continues exactly once."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from core.models import AuditEvent
from escrow.models import Disbursement, Order, OrderState, Payment, WebhookEvent
from tests.factories import order_in_state
from tests.transfers.test_worker import broker, shared_media, worker  # noqa: F401 (fixtures)
from tests.transfers.workers import REDIS_URL, redis_up, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

if not redis_up():
    pytest.skip(f"Redis is not reachable at {REDIS_URL}", allow_module_level=True)

# The broker alone would redeliver the dead worker's task only after its visibility timeout (an hour
# before issue 10): the fresh worker keeps an hour, so only the sweeper can finish the work in time.
SWEEPER = {"ESCROW_SWEEP_AFTER_SECONDS": "0", "CELERY_VISIBILITY_TIMEOUT": "3600"}


def _broker_redelivers(worker, task, workers):  # noqa: F811
    """Later the broker does give the dead worker's task back (a worker with a short visibility timeout)."""
    late = worker(CELERY_VISIBILITY_TIMEOUT="2")
    wait_until(lambda: task in late.output() and "succeeded" in late.output().split(task, 1)[-1], timeout=60,
               what="the redelivered task", workers=[*workers, late])
    return late


def test_worker_killed_while_applying_the_payment(tenant, broker, worker, client):  # noqa: F811
    from escrow import services as s

    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    payment = s.payment_start(order=order, actor=buyer, provider="simulated")
    doomed = worker(IPEX_TEST_PAUSE_TASK="escrow.tasks.simulated_deliver")
    # the buyer approves on the provider's page: the event is delivered by a task
    client.force_login(buyer)
    client.post(f"/orders/{order.reference}/pay/simulated/?payment={payment.reference}", {"decision": "approve"})
    doomed.wait_for("paused in escrow.tasks.simulated_deliver", timeout=30)
    doomed.kill()
    payment.refresh_from_db()
    assert payment.state == Payment.State.PENDING
    assert Order.objects.get(pk=order.pk).state == OrderState.SELLER_CONFIRMED
    # a fresh worker runs the sweeper (beat) and also gets the dead worker's task back from the broker
    fresh = worker(**SWEEPER)
    broker.send_task("escrow.tasks.sweep_in_flight")
    wait_until(lambda: Order.objects.get(pk=order.pk).state == OrderState.FUNDED, timeout=60,
               what="the payment applied", workers=[doomed, fresh])
    fresh.stop()
    _broker_redelivers(worker, "escrow.tasks.simulated_deliver", [doomed, fresh])
    assert Payment.objects.get(pk=payment.pk).state == Payment.State.SUCCEEDED
    events = WebhookEvent.objects.filter(provider="simulated")
    assert events.count() == 1
    funded = AuditEvent.objects.filter(object_id=str(order.pk), to_state=OrderState.FUNDED)
    assert funded.count() == 1


def test_worker_killed_while_sending_the_payout(tenant, broker, worker):  # noqa: F811
    doomed = worker(IPEX_TEST_PAUSE_TASK="escrow.tasks.execute_disbursement")
    order, seller, buyer = order_in_state(OrderState.COMPLETED)
    payout = wait_until(lambda: Disbursement.objects.filter(order=order, kind="payout").first(), what="payout row")
    doomed.wait_for("paused in escrow.tasks.execute_disbursement", timeout=30)
    doomed.kill()
    payout.refresh_from_db()
    assert payout.state == Disbursement.State.PENDING
    with transaction.atomic():
        Disbursement.objects.filter(pk=payout.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    fresh = worker(**SWEEPER)
    broker.send_task("escrow.tasks.sweep_in_flight")
    wait_until(lambda: Disbursement.objects.get(pk=payout.pk).state == Disbursement.State.PAID, timeout=60,
               what="the payout paid", workers=[doomed, fresh])
    fresh.stop()
    _broker_redelivers(worker, "escrow.tasks.execute_disbursement", [doomed, fresh])
    payout.refresh_from_db()
    assert payout.provider_ref == f"sim_payout_{payout.pk}"
    assert Disbursement.objects.filter(order=order, kind="payout").count() == 1
    assert payout.attempts <= 2  # the sweeper's call; the redelivered task found it paid
