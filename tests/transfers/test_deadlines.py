from datetime import timedelta

import pytest
from django.utils import timezone

from escrow.models import Order, OrderState
from marketplace.models import Notification
from tests.factories import order_in_state, register_right, transfer_officer
from transfers.models import SIGNED_KINDS, TransferDocument
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


def test_seller_who_signed_is_not_blamed_staff_are_told_once(tenant):
    order, seller, buyer = _order(OrderState.FUNDED)
    officer = transfer_officer()
    transfer_prepare(order=order)
    for document in TransferDocument.objects.filter(order=order, kind__in=SIGNED_KINDS):
        document_sign(document=document, user=seller, typed_name="Seller Person", consent=True)
    _overdue(order, "filing_due")
    trade_deadlines_enforce()
    trade_deadlines_enforce()
    order.refresh_from_db()
    assert order.state == OrderState.FUNDED
    assert Notification.objects.filter(user=officer, kind="transfer.filing_overdue").count() == 1


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
