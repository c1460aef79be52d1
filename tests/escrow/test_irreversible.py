"""Issue 11: irreversible actions ask first (summary + second confirmation; API takes the expected
amount), and buying needs a verified organization above the exchange's amount."""

import pytest

from accounts.models import Organization
from core.errors import Conflict, NotAllowed
from escrow import services as s
from escrow.models import Disbursement, Order, OrderState
from tests.factories.escrow import escrow_parties, order_in_state

S = OrderState


def test_confirm_certificate_refuses_a_different_amount_and_changes_nothing(tenant):
    order, seller, buyer = order_in_state(S.TRANSFER_APPROVED)
    with pytest.raises(Conflict):
        s.order_confirm_certificate(order=order, actor=buyer, expected_amount_minor=order.payout_minor - 1)
    assert Order.objects.get(pk=order.pk).state == S.TRANSFER_APPROVED
    assert not Disbursement.objects.filter(order=order).exists()
    s.order_confirm_certificate(order=order, actor=buyer, expected_amount_minor=order.payout_minor)
    assert Order.objects.get(pk=order.pk).state == S.COMPLETED


def test_website_shows_a_summary_then_needs_the_second_confirmation(tenant, client):
    order, seller, buyer = order_in_state(S.TRANSFER_APPROVED)
    client.force_login(buyer)
    host = {"HTTP_HOST": tenant.hosts[0]}
    page = client.get(f"/orders/{order.reference}/confirm-release/", **host)
    assert page.status_code == 200
    text = page.content.decode()
    assert order.seller_org.legal_name in text
    assert f'value="{order.payout_minor}"' in text
    # a single click (no confirmation) only leads to the summary
    first = client.post(f"/orders/{order.reference}/act/certificate/", {}, **host)
    assert first.status_code == 302
    assert first["Location"].endswith("/confirm-release/")
    assert Order.objects.get(pk=order.pk).state == S.TRANSFER_APPROVED
    # a confirmation of another amount is refused
    client.post(f"/orders/{order.reference}/act/certificate/",
                {"confirmed": "1", "understood": "on", "expected_amount_minor": order.payout_minor + 5}, **host)
    assert Order.objects.get(pk=order.pk).state == S.TRANSFER_APPROVED
    client.post(f"/orders/{order.reference}/act/certificate/",
                {"confirmed": "1", "understood": "on", "expected_amount_minor": order.payout_minor}, **host)
    assert Order.objects.get(pk=order.pk).state == S.COMPLETED


def test_the_seller_cannot_see_the_buyers_release_summary(tenant, client):
    order, seller, buyer = order_in_state(S.TRANSFER_APPROVED)
    client.force_login(seller)
    response = client.get(f"/orders/{order.reference}/confirm-release/", HTTP_HOST=tenant.hosts[0])
    assert response.status_code == 302


def test_unverified_buyer_organization_cannot_buy_above_the_exchange_amount(tenant):
    listing, seller, buyer = escrow_parties(price_minor=2_000_000)
    Organization.objects.filter(memberships__user=buyer).update(
        verification_status=Organization.Verification.PENDING)
    with pytest.raises(NotAllowed, match="verified"):
        s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    assert not Order.objects.filter(listing=listing).exists()
    tenant.verified_buyer_above_minor = 2_000_000  # up to 20,000.00 without verification
    tenant.save(update_fields=["verified_buyer_above_minor"])
    order = s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    assert order.state == S.PLACED
