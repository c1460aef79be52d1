"""Issue 11: the money box tells the truth — "paid" only when the payout is paid, pending/held/failed as
such, nothing for the seller of a refunded order; the payout notice and page name the account."""

import pytest
from django.db import transaction
from django.utils import timezone

from core.models import Notification
from escrow import services as s
from escrow.models import Disbursement, OrderState
from escrow.services.core import lock_order
from tests.factories.escrow import escrow_parties, escrow_staff, order_in_state, pay_order

S = OrderState


def _page(client, tenant, order, user):
    client.force_login(user)
    html = client.get(order.get_absolute_url(), HTTP_HOST=tenant.hosts[0], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    return html[html.index('id="money-h"'):]


def _completed_by_bank(tenant, *, verified):
    listing, seller, buyer = escrow_parties()
    org = listing.seller_org
    if verified:
        type(org).objects.filter(pk=org.pk).update(
            payout_bank_name="HSBC Hong Kong", payout_account_name=org.legal_name,
            payout_bank_account="004-123-456789-838", payout_swift="HSBCHKHHHKH", payout_verified_at=timezone.now())
    order = s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    s.order_seller_confirm(order=order, actor=seller)
    pay_order(order, buyer, provider="bank_transfer")
    for step in ("file_transfer", "approve_transfer"):
        with transaction.atomic():
            s.order_step(lock_order(order.pk), step, actor_label="test office")
    s.order_confirm_certificate(order=order, actor=buyer)
    return order, seller, buyer


def test_held_payout_is_shown_held_with_the_reason_not_released(tenant, client):
    order, seller, buyer = _completed_by_bank(tenant, verified=False)
    box = _page(client, tenant, order, seller)
    assert "seller-held" in box
    assert "has not entered the bank account" in box
    assert "seller-paid" not in box


def test_pending_then_paid_payout_names_the_account(tenant, client):
    order, seller, buyer = _completed_by_bank(tenant, verified=True)
    payout = Disbursement.objects.get(order=order, kind=Disbursement.Kind.PAYOUT)
    assert payout.state == Disbursement.State.PENDING
    box = _page(client, tenant, order, seller)
    assert "seller-pending" in box
    assert "seller-paid" not in box
    s.disbursement_mark_paid(disbursement=payout, actor=escrow_staff(), bank_reference="HSBC-001")
    box = _page(client, tenant, order, seller)
    assert "seller-paid" in box
    assert "seller-pending" not in box
    payout.refresh_from_db()
    assert payout.destination
    assert payout.destination in box
    notice = Notification.objects.get(user=seller, kind="payout.paid")
    assert payout.destination in notice.body


def test_failed_payout_says_what_happens_next(tenant, client):
    order, seller, buyer = _completed_by_bank(tenant, verified=True)
    Disbursement.objects.filter(order=order, kind="payout").update(state="failed", last_error="Account closed.")
    box = _page(client, tenant, order, seller)
    assert "seller-failed" in box
    assert "Account closed." in box
    assert "finance retries" in box


@pytest.mark.parametrize("state", [S.REFUNDED])
def test_refunded_order_shows_the_seller_receives_nothing(tenant, client, state):
    order, seller, buyer = order_in_state(state)
    box = _page(client, tenant, order, seller)
    assert "seller-nothing" in box
    assert "seller-paid" not in box
