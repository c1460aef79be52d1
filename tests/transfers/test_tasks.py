"""The Celery tasks called in-process: thin wrappers, idempotent when run twice."""

from datetime import timedelta

from django.utils import timezone

from core.models import AuditEvent
from escrow.models import Order, OrderState
from tests.factories import filed_order, transfer_order
from transfers import tasks
from transfers.models import TransferDocument


def test_prepare_task_twice_generates_papers_once(tenant):
    order, seller, buyer = transfer_order()
    tasks.prepare_transfer(tenant_id=tenant.pk, order_id=order.pk)
    tasks.prepare_transfer(tenant_id=tenant.pk, order_id=order.pk)
    assert TransferDocument.objects.filter(order=order).count() == 3
    assert AuditEvent.objects.filter(action="transfer.papers_generated").count() == 1


def test_prepare_task_for_a_missing_order_does_nothing(tenant):
    tasks.prepare_transfer(tenant_id=tenant.pk, order_id=987654)


def test_poll_offices_task_twice_applies_once(tenant):
    order, seller, buyer, officer, filing = filed_order()
    first = tasks.poll_offices()
    second = tasks.poll_offices()
    assert first[tenant.pk]["approved"] == 1
    assert second[tenant.pk]["claimed"] == 0
    order.refresh_from_db()
    assert order.state == OrderState.TRANSFER_APPROVED
    assert AuditEvent.objects.filter(action="order.approve_transfer", object_id=str(order.pk)).count() == 1


def test_enforce_deadlines_task_runs_every_tenant(tenant):
    order, seller, buyer, officer, filing = filed_order()
    tasks.poll_offices()
    Order.objects.filter(pk=order.pk).update(inspection_due=timezone.now() - timedelta(minutes=1))
    result = tasks.enforce_deadlines()
    assert tenant.pk in result


def test_periodic_tasks_are_registered():
    from marketplace.celery import app

    app.loader.import_default_modules()
    app.finalize()
    names = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "transfers.tasks.poll_offices" in names
    assert "transfers.tasks.enforce_deadlines" in names
    # every scheduled task exists (a typo in the schedule would silently never run)
    assert names <= set(app.tasks), names - set(app.tasks)


def test_funding_queues_the_papers_in_the_same_transaction(tenant):
    # given a seller-confirmed order
    from core.models import OutboxMessage
    from tests.factories import deliver_payment, order_in_state

    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    from escrow.services import payment_start

    payment = payment_start(order=order, actor=buyer, provider="simulated")
    # when the payment arrives (the same success reported twice)
    deliver_payment(payment)
    deliver_payment(payment)
    # then the worker is asked once to prepare this order's papers
    queued = OutboxMessage.objects.filter(task_name="transfers.tasks.prepare_transfer")
    assert [m.kwargs for m in queued] == [{"tenant_id": tenant.pk, "order_id": order.pk}]
    # and running that message generates the papers without anyone opening the order page
    tasks.prepare_transfer(**queued[0].kwargs)
    assert TransferDocument.objects.filter(order=order).count() == 3
