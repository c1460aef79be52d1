"""Issue 10, authorization: one person on one side; staff refunds check the state and record the true
reason; the simulated payment webhook needs the installation's own secret."""

import pytest

from core.errors import NotAllowed
from core.permissions import require_one_side
from escrow import services as s
from escrow.models import Order, OrderState
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    escrow_listing,
    make_member,
    seller_with_org,
)

pytestmark = pytest.mark.django_db


def test_a_seller_cannot_order_their_own_listing_through_a_second_organization(client, tenant):
    seller, org = seller_with_org()
    listing = escrow_listing(seller_org=org)
    second = OrganizationFactory(verification_status="unverified")
    MembershipFactory(user=seller, organization=second, is_default=False)
    # the seller switches to acting for the second organization
    s_default = seller.memberships.get(organization=second)
    seller.memberships.update(is_default=False)
    type(s_default).objects.filter(pk=s_default.pk).update(is_default=True)
    with pytest.raises(NotAllowed):
        s.order_place(listing=listing, buyer=seller, terms_accepted=True)
    client.force_login(seller)
    response = client.post(f"/orders/new/{listing.pk}/", {"terms": "on"})
    assert response.status_code < 500
    assert not Order.objects.exists()


def test_a_buyer_who_joined_the_seller_cannot_confirm_or_pay(tenant):
    from tests.factories import order_in_state

    order, seller, buyer = order_in_state(OrderState.PLACED)
    MembershipFactory(user=buyer, organization=order.seller_org, is_default=False)
    with pytest.raises(NotAllowed):
        s.order_seller_confirm(order=order, actor=buyer)
    s.order_seller_confirm(order=order, actor=seller)
    with pytest.raises(NotAllowed):
        s.payment_start(order=order, actor=buyer, provider="simulated")


def test_the_one_side_rule_is_one_function_for_every_trade(tenant):
    person = make_member()
    own = person.memberships.get().organization
    other = OrganizationFactory()
    require_one_side(person, acting_for=own, other_side=other)  # a stranger's organization: fine
    with pytest.raises(NotAllowed):
        require_one_side(person, acting_for=own, other_side=own)
    MembershipFactory(user=person, organization=other, is_default=False)
    with pytest.raises(NotAllowed):
        require_one_side(person, acting_for=own, other_side=other)


# --- staff refunds say what happened ------------------------------------------------------------------

def test_the_filing_refund_works_only_on_a_rejected_filing_and_needs_a_reason(client, tenant):
    from core.errors import DomainError
    from tests.factories import filed_order
    from transfers.services import transfer_refund

    order, seller, buyer, officer, filing = filed_order(outcome="")  # filed, the office has not answered
    with pytest.raises(DomainError):
        transfer_refund(order=order, actor=officer, reason="")
    with pytest.raises(DomainError):
        transfer_refund(order=order, actor=officer, reason="Buyer asked")
    client.force_login(officer)
    response = client.post(f"/transfers/staff/{filing.pk}/", {"action": "refund", "reason": ""})
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.state == OrderState.TRANSFER_FILED
    from core.models import Notification
    assert not Notification.objects.filter(body__contains="The office rejected the transfer").exists()


# --- the simulated payment webhook -------------------------------------------------------------------

def _forged(body, key):
    import hashlib
    import hmac
    import time

    t = int(time.time())
    mac = hmac.new(key.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@pytest.mark.parametrize("configured", [True, False])
def test_a_webhook_signed_with_the_public_development_key_is_refused(client, tenant, settings, configured):
    import hashlib
    import json

    from escrow.models import Payment
    from marketplace.settings import base
    from tests.factories import order_in_state

    settings.SECRET_KEY = base.PUBLIC_DEVELOPMENT_SECRET_KEY
    if not configured:
        settings.ESCROW_SIMULATED_WEBHOOK_SECRET = ""
    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    payment = s.payment_start(order=order, actor=buyer, provider="simulated")
    body = json.dumps({"id": "evt_forged", "type": "payment.succeeded", "created": 0, "data": {
        "tenant_id": tenant.pk, "payment_id": payment.pk, "reference": payment.reference,
        "amount_minor": payment.amount_minor, "currency": payment.currency, "provider_ref": "x", "reason": ""}})
    public = hashlib.sha256(f"simulated-webhook:{base.PUBLIC_DEVELOPMENT_SECRET_KEY}".encode()).hexdigest()
    response = client.post("/orders/webhooks/simulated/", body, content_type="application/json",
                           HTTP_X_SIMULATED_SIGNATURE=_forged(body, public))
    assert response.status_code == 400
    payment.refresh_from_db()
    assert payment.state == Payment.State.PENDING


def test_make_run_generates_a_secret_per_installation(tmp_path, monkeypatch):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("devpy", Path(__file__).resolve().parents[2] / "bin/dev.py")
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    monkeypatch.setattr(dev, "LOCAL", tmp_path)
    first = dev.local_secrets()
    assert len(first["ESCROW_SIMULATED_WEBHOOK_SECRET"]) == 64
    assert dev.local_secrets() == first  # kept across restarts
    monkeypatch.setattr(dev, "LOCAL", tmp_path / "elsewhere")
    assert dev.local_secrets()["ESCROW_SIMULATED_WEBHOOK_SECRET"] != first["ESCROW_SIMULATED_WEBHOOK_SECRET"]
    repo = Path(__file__).resolve().parents[2]
    assert first["ESCROW_SIMULATED_WEBHOOK_SECRET"] not in (repo / "marketplace/settings/base.py").read_text()


# --- organizations invite, never conscript ---------------------------------------------------------------

def test_a_manager_cannot_conscript_a_stranger_into_acting_for_their_organization(client, tenant):
    from accounts.models import Membership
    from accounts.selectors import active_organization

    manager = make_member(org=False)
    from accounts import services as accounts

    org = accounts.organization_create(user=manager, legal_name="Grabby Co", country="HK", registration_number="G1")
    stranger = make_member(org=False)  # registered, no organization yet
    client.force_login(manager)
    client.post(f"/account/organizations/{org.pk}/members/", {"email": stranger.email})
    # nothing changed for the stranger: not a member, not acting for it, the manager sees no purchase of theirs
    assert not Membership.objects.filter(user=stranger).exists()
    assert active_organization(stranger) is None
    assert not org.has_member(stranger)
    # the stranger sees the invitation and declines it
    client.force_login(stranger)
    page = client.get("/account/organizations/").content.decode()
    assert "Grabby Co" in page
    invitation = org.invitations.get(user=stranger)
    client.post(f"/account/organizations/invitations/{invitation.pk}/decline/")
    assert not Membership.objects.filter(user=stranger).exists()


def test_accepting_an_invitation_keeps_the_organization_one_acts_for(client, tenant):
    from accounts import services as accounts
    from accounts.selectors import active_organization

    person = make_member()
    own = active_organization(person)
    manager = make_member(org=False)
    other = accounts.organization_create(user=manager, legal_name="Other Co", country="HK", registration_number="O1")
    accounts.organization_add_member(organization=other, actor=manager, email=person.email)
    client.force_login(person)
    invitation = other.invitations.get(user=person)
    response = client.post(f"/account/organizations/invitations/{invitation.pk}/accept/", follow=True)
    assert other.has_member(person)
    assert active_organization(person) == own  # accepting never switches whom they act for
    assert own.legal_name in response.content.decode()


def test_the_organization_acted_for_is_shown_where_people_order_and_pay(client, tenant):
    from tests.factories import order_in_state

    listing = escrow_listing()
    buyer = make_member()
    client.force_login(buyer)
    org = buyer.memberships.get().organization
    assert org.legal_name in client.get(f"/orders/new/{listing.pk}/").content.decode()
    order, seller, buyer2 = order_in_state(OrderState.SELLER_CONFIRMED)
    client.force_login(buyer2)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "acting-for" in page
    assert order.buyer_org.legal_name in page
