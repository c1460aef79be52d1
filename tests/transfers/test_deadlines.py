from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditEvent, Notification
from escrow.models import Order, OrderState
from tests.factories import order_in_state, register_right, sign_all_papers, transfer_officer
from transfers.models import SIGNED_KINDS, TransferDocument
from transfers.selectors import buyer_sign_grace, current_filing
from transfers.services import document_sign, trade_deadlines_enforce, transfer_prepare

PAST = timedelta(minutes=1)


def _order(state):
    order, seller, buyer = order_in_state(state)
    if not order.listing.rights.exists():
        register_right(listing=order.listing)
    return Order.objects.get(pk=order.pk), seller, buyer


def _overdue(order, field):
    Order.objects.filter(pk=order.pk).update(**{field: timezone.now() - PAST})


@pytest.mark.parametrize(("state", "field"), [
    (OrderState.PLACED, "seller_confirm_due"),
    (OrderState.SELLER_CONFIRMED, "payment_due"),
])
def test_confirmation_and_payment_deadlines_cancel(tenant, state, field):
    order, seller, buyer = _order(state)
    _overdue(order, field)
    counts = trade_deadlines_enforce()
    order.refresh_from_db()
    assert order.state == OrderState.CANCELLED
    assert sum(v for k, v in counts.items() if k.startswith("expired")) == 1
    assert Notification.objects.filter(user=buyer, kind="order.cancel").exists()


def test_deadline_not_reached_changes_nothing(tenant):
    order, seller, buyer = _order(OrderState.PLACED)
    counts = trade_deadlines_enforce()
    order.refresh_from_db()
    assert order.state == OrderState.PLACED
    assert not counts.get("expired_unconfirmed")


def test_seller_who_did_not_sign_defaults(tenant):
    # given a funded order whose seller never signed, past the signing-and-filing deadline
    order, seller, buyer = _order(OrderState.FUNDED)
    transfer_prepare(order=order)
    _overdue(order, "filing_due")
    # when the deadlines run
    counts = trade_deadlines_enforce()
    # then the seller defaults: the buyer is refunded
    order.refresh_from_db()
    assert counts.get("seller_default") == 1
    assert order.state == OrderState.REFUNDED


def _seller_signs(order, seller):
    transfer_prepare(order=order)
    for document in TransferDocument.objects.filter(order=order, kind__in=SIGNED_KINDS):
        document_sign(document=document, user=seller, typed_name=seller.full_name, consent=True)


def test_late_buyer_is_told_then_refunded_after_the_grace_period(tenant):
    # given a funded order the seller signed and the buyer did not, just past the deadline
    order, seller, buyer = _order(OrderState.FUNDED)
    officer = transfer_officer()
    _seller_signs(order, seller)
    _overdue(order, "filing_due")
    # when the deadlines run (twice, as two beats would)
    first = trade_deadlines_enforce()
    trade_deadlines_enforce()
    # then the seller is not blamed; buyer, seller and staff are each told once what happens and when
    order.refresh_from_db()
    assert order.state == OrderState.FUNDED
    assert first.get("buyer_late_told") == 1
    assert not first.get("seller_default")
    for user in (buyer, seller, officer):
        assert Notification.objects.filter(user=user, kind="transfer.buyer_sign_overdue").count() == 1
    # when the grace period is over too
    Order.objects.filter(pk=order.pk).update(filing_due=timezone.now() - buyer_sign_grace() - PAST)
    counts = trade_deadlines_enforce()
    # then the platform refunds the buyer; the listing is back on sale; the seller's margin is untouched
    order.refresh_from_db()
    assert counts.get("buyer_late_refunded") == 1
    assert order.state == OrderState.REFUNDED
    assert "buyer did not sign" in order.close_reason
    assert not AuditEvent.objects.filter(action="margin.forfeited").exists()
    assert trade_deadlines_enforce().get("buyer_late_refunded") is None


def test_buyer_who_signs_during_the_grace_period_is_not_refunded(tenant):
    order, seller, buyer = _order(OrderState.FUNDED)
    officer = transfer_officer()
    _seller_signs(order, seller)
    _overdue(order, "filing_due")
    trade_deadlines_enforce()
    for document in TransferDocument.objects.filter(order=order, kind__in=SIGNED_KINDS):
        document_sign(document=document, user=buyer, typed_name=buyer.full_name, consent=True)
    Order.objects.filter(pk=order.pk).update(filing_due=timezone.now() - buyer_sign_grace() - PAST)
    trade_deadlines_enforce()
    order.refresh_from_db()
    assert order.state == OrderState.FUNDED
    # now only staff are late: they are told to file
    assert Notification.objects.filter(user=officer, kind="transfer.filing_overdue").count() == 1


def test_signed_but_not_filed_flags_staff_once(tenant):
    order, seller, buyer = _order(OrderState.FUNDED)
    officer = transfer_officer()
    sign_all_papers(order, seller, buyer)
    _overdue(order, "filing_due")
    trade_deadlines_enforce()
    trade_deadlines_enforce()
    order.refresh_from_db()
    assert order.state == OrderState.FUNDED
    assert Notification.objects.filter(user=officer, kind="transfer.filing_overdue").count() == 1
    assert current_filing(order).last_error.startswith("filing overdue")


def test_parties_are_reminded_once_before_the_deadline(tenant):
    # given a funded order due in two days; the seller signed, the buyer did not
    order, seller, buyer = _order(OrderState.FUNDED)
    _seller_signs(order, seller)
    Order.objects.filter(pk=order.pk).update(filing_due=timezone.now() + timedelta(days=2))
    # when the deadlines run twice
    assert trade_deadlines_enforce().get("sign_reminders") == 1
    assert not trade_deadlines_enforce().get("sign_reminders")
    # then only the buyer, who still has papers to sign, is reminded, once
    assert Notification.objects.filter(user=buyer, kind="transfer.sign_reminder").count() == 1
    assert not Notification.objects.filter(user=seller, kind="transfer.sign_reminder").exists()


def test_no_reminder_long_before_the_deadline(tenant):
    order, seller, buyer = _order(OrderState.FUNDED)
    transfer_prepare(order=order)
    assert not trade_deadlines_enforce().get("sign_reminders")


def test_inspection_deadline_confirms_for_the_buyer_and_pays_out(tenant):
    order, seller, buyer = _order(OrderState.TRANSFER_APPROVED)
    _overdue(order, "inspection_due")
    counts = trade_deadlines_enforce()
    order.refresh_from_db()
    assert counts.get("auto_confirmed") == 1
    assert order.state == OrderState.COMPLETED
    # running again does nothing more
    assert trade_deadlines_enforce().get("auto_confirmed") is None


def test_funded_order_without_papers_gets_them(tenant):
    order, seller, buyer = _order(OrderState.FUNDED)
    TransferDocument.objects.filter(order=order).delete()
    counts = trade_deadlines_enforce()
    assert counts.get("papers_prepared") == 1
    assert TransferDocument.objects.filter(order=order).count() == len(SIGNED_KINDS)
