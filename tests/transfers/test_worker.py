"""A REAL Celery worker process on the real Redis (mark `worker`).

The worker runs `celery -A marketplace worker` with DATABASE_URL pointing at the test database
(committed data: `transactional_db`) and REDIS_URL from the environment (default
redis://127.0.0.1:6379/4; CI uses /15). Skipped when Redis is unreachable.
"""

import time
from datetime import timedelta

import pytest
from django.db import OperationalError, transaction
from django.utils import timezone

from core.models import AuditEvent, Notification, OutboxMessage
from core.outbox import enqueue, relay_pending
from escrow.models import Disbursement, Order, OrderState
from tests.factories import PASSWORD, order_in_state, register_right, sign_all_papers, transfer_officer
from transfers.models import OfficeNotice, TransferDocument, TransferFiling
from transfers.selectors import current_filing
from transfers.services import transfer_file

from .workers import REDIS_URL, Worker, client_app, redis_up, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DEAD_BROKER = "redis://127.0.0.1:1/0"  # a closed port: the broker is "down"

if not redis_up():
    pytest.skip(f"Redis is not reachable at {REDIS_URL}: start redis-server (or set REDIS_URL) to run the "
                "real-worker tests.", allow_module_level=True)


@pytest.fixture(scope="module")
def shared_media(tmp_path_factory):
    return tmp_path_factory.mktemp("worker-media")


@pytest.fixture
def broker(monkeypatch, settings, shared_media):
    """The test process publishes to the real Redis (fresh queue) and shares media with the workers."""
    import marketplace.celery

    settings.MEDIA_ROOT = shared_media
    app = client_app()
    monkeypatch.setattr(marketplace.celery, "app", app)
    return app


@pytest.fixture
def worker(broker, tmp_path, shared_media):
    started = []

    def start(**env):
        w = Worker(tmp_path / f"worker{len(started)}.log", shared_media, **env)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()


def funded_order():
    order, seller, buyer = order_in_state(OrderState.FUNDED)
    register_right(listing=order.listing)
    return Order.objects.get(pk=order.pk), seller, buyer


def test_whole_trade_from_funded_to_paid_out_driven_by_the_worker(tenant, broker, worker):
    w = worker()
    # given a funded order; the papers are prepared by the worker
    order, seller, buyer = funded_order()
    with transaction.atomic():
        enqueue("transfers.tasks.prepare_transfer", tenant_id=tenant.pk, order_id=order.pk)
    wait_until(lambda: TransferDocument.objects.filter(order=order).count() == 3, what="papers")
    # when both parties sign and the officer files
    sign_all_papers(order, seller, buyer)
    transfer_file(order=order, actor=transfer_officer())
    # and the worker polls the office
    broker.send_task("transfers.tasks.poll_offices")
    wait_until(lambda: Order.objects.get(pk=order.pk).state == OrderState.TRANSFER_APPROVED, what="approval")
    assert OfficeNotice.objects.filter(filing__order=order, kind="approval").count() == 1
    # and the buyer lets the inspection deadline pass: the worker's deadline task confirms for them
    Order.objects.filter(pk=order.pk).update(inspection_due=timezone.now() - timedelta(minutes=1))
    broker.send_task("transfers.tasks.enforce_deadlines")
    wait_until(lambda: Order.objects.get(pk=order.pk).state == OrderState.COMPLETED, what="completion")
    # then the seller's payout is paid by the worker, and the emails went out
    wait_until(lambda: Disbursement.objects.filter(order=order, kind="payout", state="paid").exists(),
               what="payout paid")
    wait_until(lambda: not Notification.objects.filter(user=buyer, emailed_at__isnull=True).exists(),
               what="emails sent by the worker")
    assert "transfers.tasks.poll_tenant" in w.output() or "transfers.tasks.poll_offices" in w.output()


def test_worker_killed_mid_poll_leaves_no_duplicate_and_no_lost_transition(tenant, broker, worker):
    # given a filed transfer the office has approved
    order, seller, buyer = funded_order()
    sign_all_papers(order, seller, buyer)
    filing = transfer_file(order=order, actor=transfer_officer())
    # and a worker whose office answers slowly (the poll holds the claimed rows meanwhile)
    slow = worker(SIMULATED_OFFICE_LATENCY="30")
    broker.send_task("transfers.tasks.poll_tenant", kwargs={"tenant_id": tenant.pk})

    def locked():
        try:
            with transaction.atomic():
                TransferFiling.objects.select_for_update(nowait=True).get(pk=filing.pk)
        except OperationalError:
            return True
        return False

    wait_until(locked, timeout=20, every=0.1, what="the worker to claim the filing", workers=[slow])
    # when the worker is killed in the middle of the poll
    slow.kill()
    time.sleep(2.5)  # older than the new worker's visibility timeout
    order.refresh_from_db()
    assert order.state == OrderState.TRANSFER_FILED  # the half-done batch was rolled back
    # then a new worker gets the unacknowledged task back and completes it, once
    fresh = worker(CELERY_VISIBILITY_TIMEOUT="2")
    wait_until(lambda: Order.objects.get(pk=order.pk).state == OrderState.TRANSFER_APPROVED, timeout=20,
               what="the redelivered poll", workers=[slow, fresh])
    assert "transfers.tasks.poll_tenant" in fresh.output()
    time.sleep(0.5)
    assert AuditEvent.objects.filter(action="order.approve_transfer", object_id=str(order.pk)).count() == 1
    assert OfficeNotice.objects.filter(filing=filing).count() == 1
    assert TransferDocument.objects.filter(order=order, kind="notice").count() == 1
    assert current_filing(order).status == "approved"


def test_broker_down_orders_still_placed_and_work_runs_when_it_is_back(tenant, broker, worker, client,
                                                                      monkeypatch):
    import marketplace.celery
    from tests.factories import escrow_parties

    listing, seller, buyer = escrow_parties()
    # given the broker is down (its URL points at a closed port)
    dead = client_app("dead-broker", broker=DEAD_BROKER)
    dead.conf.broker_connection_timeout = 1
    monkeypatch.setattr(marketplace.celery, "app", dead)
    assert client.login(email=buyer.email, password=PASSWORD)
    # when the buyer places an order on the website
    started = time.monotonic()
    response = client.post(f"/orders/new/{listing.pk}/", {"terms": "on"})
    # then the request succeeds and the order exists
    assert response.status_code == 302
    assert time.monotonic() - started < 10
    order = Order.objects.get(listing=listing)
    assert order.state == OrderState.PLACED
    assert client.get(order.get_absolute_url()).status_code == 200
    pending = OutboxMessage.objects.filter(sent_at__isnull=True)
    assert pending.exists()
    assert all(m.last_error for m in pending)
    # when the broker is back, the outbox relay publishes and a worker does the work
    monkeypatch.setattr(marketplace.celery, "app", broker)
    worker()
    assert relay_pending() >= 1
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    wait_until(lambda: not Notification.objects.filter(user=seller, kind="order.place", emailed_at__isnull=True)
               .exists() and Notification.objects.filter(user=seller, kind="order.place").exists(),
               what="the seller's email sent by the worker")
    from django.core import mail

    assert mail.outbox == []  # sent by the worker process, not here
