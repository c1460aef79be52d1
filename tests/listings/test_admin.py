"""The verification queue in the back-office: scoped to the exchange, decisions through the services."""

import pytest

from accounts.models import Role
from core.models import AuditEvent
from core.tenancy import tenant_context
from listings.models import Listing
from listings.services import listing_submit
from tests.factories import PASSWORD, draft_listing, make_member, register_record, seller_with_org


def login(client, user):
    assert client.login(email=user.email, password=PASSWORD)


@pytest.fixture
def queued(tenant):
    seller, org = seller_with_org()
    listing = draft_listing(seller=seller, org=org, title="待审核的专利")
    return listing_submit(listing=listing, actor=seller)


@pytest.fixture
def staff(tenant):
    return make_member(roles=(Role.VERIFIER,), org=False)


def test_queue_lists_submitted_listings(client, queued, staff):
    login(client, staff)
    response = client.get("/admin/listings/listingtoverify/")
    assert response.status_code == 200
    assert "待审核的专利" in response.content.decode()


def test_change_page_shows_claims_register_and_checklist(client, queued, staff):
    login(client, staff)
    response = client.get(f"/admin/listings/listing/{queued.pk}/change/")
    body = response.content.decode()
    assert response.status_code == 200
    assert queued.rights.get().number in body
    assert 'name="check_owner"' in body
    assert [c["code"] for c in response.context["checklist"]] == ["owner", "status", "term", "renewal", "encumbrances"]


def test_approve_in_the_admin_publishes_and_audits_what_was_checked(client, queued, staff):
    login(client, staff)
    checks = {f"check_{c}": "on" for c in ("owner", "status", "term", "renewal", "encumbrances")}
    response = client.post(f"/admin/listings/listing/{queued.pk}/decide/", {"decision": "approve", **checks})
    assert response.status_code == 302
    queued.refresh_from_db()
    assert queued.state == Listing.State.PUBLISHED
    event = AuditEvent.objects.get(action="listing.approve", object_id=str(queued.pk))
    assert event.actor == staff
    assert all(c["confirmed"] for c in event.data["checks"])


def test_approve_without_confirming_stays_in_the_queue(client, queued, staff):
    login(client, staff)
    client.post(f"/admin/listings/listing/{queued.pk}/decide/", {"decision": "approve", "check_owner": "on"})
    queued.refresh_from_db()
    assert queued.state == Listing.State.SUBMITTED


def test_reject_in_the_admin(client, queued, staff):
    login(client, staff)
    client.post(f"/admin/listings/listing/{queued.pk}/decide/", {"decision": "reject", "reasons": "证书不清晰"})
    queued.refresh_from_db()
    assert (queued.state, queued.rejection_reason) == (Listing.State.REJECTED, "证书不清晰")


def test_escrow_officer_may_view_but_not_decide(client, queued, tenant):
    officer = make_member(roles=(Role.ESCROW_OFFICER,), org=False)
    login(client, officer)
    assert client.get(f"/admin/listings/listing/{queued.pk}/change/").status_code == 200
    assert client.post(f"/admin/listings/listing/{queued.pk}/decide/", {"decision": "approve"}).status_code == 404
    queued.refresh_from_db()
    assert queued.state == Listing.State.SUBMITTED


def test_other_exchanges_queue_is_invisible(client, queued, other_tenant):
    with tenant_context(other_tenant):
        foreign_staff = make_member(roles=(Role.VERIFIER,), org=False)
        seller, org = seller_with_org()
        foreign = listing_submit(listing=draft_listing(seller=seller, org=org, title="别家的专利"), actor=seller)
    # The other exchange's verifier, on their own host, does not see our queue ...
    login(client, foreign_staff)
    body = client.get("/admin/listings/listingtoverify/", HTTP_HOST="beta.test").content.decode()
    assert "别家的专利" in body
    assert "待审核的专利" not in body
    assert client.get(f"/admin/listings/listing/{queued.pk}/change/", HTTP_HOST="beta.test").status_code == 404
    assert client.post(f"/admin/listings/listing/{queued.pk}/decide/", {"decision": "reject", "reasons": "x"},
                       HTTP_HOST="beta.test").status_code == 404
    # ... and on our host they are not staff at all.
    assert client.get("/admin/listings/listingtoverify/").status_code == 302
    with tenant_context(other_tenant):
        assert Listing.objects.get(pk=foreign.pk).state == Listing.State.SUBMITTED
    queued.refresh_from_db()
    assert queued.state == Listing.State.SUBMITTED


def test_register_admin_is_read_only_for_verifiers(client, tenant, staff):
    record = register_record()
    login(client, staff)
    assert client.get("/admin/rights/registerrecord/").status_code == 200
    assert client.get(f"/admin/rights/registerrecord/{record.pk}/change/").status_code == 200
    assert client.post(f"/admin/rights/registerrecord/{record.pk}/change/", {"title": "x"}).status_code == 403
