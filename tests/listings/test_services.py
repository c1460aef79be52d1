"""The listing state machine through its services, and who may trigger each transition."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from accounts.models import Organization, Role
from core import events
from core.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from core.models import AuditEvent, Notification
from listings.models import Listing
from listings.selectors import similar_marks_not_in_package, verification_checklist
from listings.services import (
    ListingInput,
    listing_attach_certificate,
    listing_decide,
    listing_lapse,
    listing_mark_sold,
    listing_release,
    listing_reserve,
    listing_start_verification,
    listing_submit,
    listing_update,
    listing_withdraw,
)
from tests.factories import (
    OrganizationFactory,
    draft_listing,
    make_member,
    register_record,
    seller_with_org,
    verifier,
)

ALL_CONFIRMED = {"owner": True, "status": True, "term": True, "renewal": True, "encumbrances": True}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def captured_events():
    seen = []

    def receiver(**kwargs):
        seen.append(kwargs)

    events._receivers.append(receiver)
    yield seen
    events._receivers.remove(receiver)


def submitted(listing, seller):
    return listing_submit(listing=listing, actor=seller)


def test_seller_creates_a_draft_snapshotting_the_register(tenant):
    seller, org = seller_with_org()
    record = register_record(owner_name=org.legal_name, title="一种无线充电线圈对准检测方法")
    listing = draft_listing(seller=seller, org=org, records=[record])
    assert listing.state == Listing.State.DRAFT
    right = listing.rights.get()
    assert (right.number, right.title, right.owner_name) == (record.number, record.title, record.owner_name)
    assert listing.currency == tenant.currency
    assert AuditEvent.objects.filter(action="listing.create", object_id=str(listing.pk)).exists()


def test_bundle_of_several_rights(tenant):
    seller, org = seller_with_org()
    records = [register_record(owner_name=org.legal_name) for _ in range(3)]
    listing = draft_listing(seller=seller, org=org, records=records)
    assert listing.rights.count() == 3
    assert listing.rights_count == 3


@pytest.mark.parametrize("who", ["buyer_only", "other_org", "unverified_org"])
def test_only_sellers_of_a_verified_org_may_create(tenant, who):
    _seller, org = seller_with_org()
    if who == "buyer_only":
        actor = make_member(roles=(Role.BUYER,), org=org)
    elif who == "other_org":
        actor = make_member(roles=(Role.SELLER,))
    else:
        org.verification_status = Organization.Verification.PENDING
        org.save()
        actor = make_member(roles=(Role.SELLER,), org=org)
    with pytest.raises(NotAllowed):
        draft_listing(seller=actor, org=org)
    assert not Listing.objects.exists()


def test_licence_needs_term_and_territory(tenant):
    seller, org = seller_with_org()
    with pytest.raises(ValidationFailed) as err:
        draft_listing(seller=seller, org=org, deal_type="exclusive_licence", licence_term_months=None,
                      licence_territory="")
    assert set(err.value.field_errors) == {"licence_term_months", "licence_territory"}


def test_a_right_cannot_be_in_two_live_listings(tenant):
    seller, org = seller_with_org()
    record = register_record(owner_name=org.legal_name)
    draft_listing(seller=seller, org=org, records=[record])
    with pytest.raises(Conflict):
        draft_listing(seller=seller, org=org, records=[record])


def test_full_path_submit_verify_approve_publishes(tenant, captured_events):
    seller, org = seller_with_org()
    listing = draft_listing(seller=seller, org=org)
    staff = verifier()
    listing = submitted(listing, seller)
    assert listing.state == Listing.State.SUBMITTED
    assert Notification.objects.filter(user=staff, kind="listing.submitted").exists()
    listing = listing_start_verification(listing=listing, actor=staff)
    assert listing.state == Listing.State.IN_VERIFICATION
    listing = listing_decide(listing=listing, actor=staff, approve=True, confirmed=ALL_CONFIRMED)
    assert listing.state == Listing.State.PUBLISHED
    assert listing.published_at is not None
    assert listing.verification["checks"][0]["confirmed"] is True
    audit = AuditEvent.objects.get(action="listing.approve", object_id=str(listing.pk))
    assert (audit.actor, audit.from_state, audit.to_state) == (staff, "in_verification", "published")
    assert {c["code"] for c in audit.data["checks"]} == set(ALL_CONFIRMED)
    # verified (the seller's side) and published (matching wants react to it, issue 16)
    assert [e["event"] for e in captured_events] == ["listing.verified", "listing.published"]
    assert captured_events[0]["organization_ids"] == [org.pk]
    assert Notification.objects.filter(user=seller, kind="listing.verified").exists()


def test_approve_with_margin_bps_waits_for_margin(tenant):
    tenant.margin_bps = 100
    tenant.save()
    seller, org = seller_with_org()
    listing = submitted(draft_listing(seller=seller, org=org, price_minor=5_000_000), seller)
    listing = listing_decide(listing=listing, actor=verifier(), approve=True, confirmed=ALL_CONFIRMED)
    assert listing.state == Listing.State.AWAITING_MARGIN
    assert listing.margin_minor == 50_000


def test_fixed_margin_wins_over_percentage(tenant):
    tenant.margin_bps, tenant.margin_fixed_minor = 100, 200_000
    tenant.save()
    seller, org = seller_with_org()
    listing = submitted(draft_listing(seller=seller, org=org), seller)
    listing = listing_decide(listing=listing, actor=verifier(), approve=True, confirmed=ALL_CONFIRMED)
    assert (listing.state, listing.margin_minor) == (Listing.State.AWAITING_MARGIN, 200_000)


def test_approve_needs_every_check_confirmed(tenant):
    seller, org = seller_with_org()
    listing = submitted(draft_listing(seller=seller, org=org), seller)
    with pytest.raises(ValidationFailed):
        listing_decide(listing=listing, actor=verifier(), approve=True, confirmed={"owner": True})
    listing.refresh_from_db()
    assert listing.state == Listing.State.SUBMITTED  # nothing half-written


def test_reject_needs_reasons_then_seller_fixes_and_resubmits(tenant, captured_events):
    seller, org = seller_with_org()
    staff = verifier()
    listing = submitted(draft_listing(seller=seller, org=org), seller)
    with pytest.raises(ValidationFailed):
        listing_decide(listing=listing, actor=staff, approve=False, reasons="  ")
    listing = listing_decide(listing=listing, actor=staff, approve=False, reasons="证书扫描件不清晰")
    assert (listing.state, listing.rejection_reason) == (Listing.State.REJECTED, "证书扫描件不清晰")
    assert captured_events[-1]["event"] == "listing.rejected"
    note = Notification.objects.get(user=seller, kind="listing.rejected")
    assert "证书扫描件不清晰" in note.body
    listing = listing_update(listing=listing, actor=seller, data=ListingInput(title="新标题", price_minor=4_000_000))
    listing = submitted(listing, seller)
    assert listing.state == Listing.State.SUBMITTED


@pytest.mark.parametrize("actor_kind", ["seller", "buyer", "staff_without_verifier_role"])
def test_only_verifiers_decide(tenant, actor_kind):
    seller, org = seller_with_org()
    listing = submitted(draft_listing(seller=seller, org=org), seller)
    actor = {"seller": seller, "buyer": make_member(roles=(Role.BUYER,)),
             "staff_without_verifier_role": make_member(roles=(Role.ESCROW_OFFICER,), org=False)}[actor_kind]
    with pytest.raises(NotAllowed):
        listing_decide(listing=listing, actor=actor, approve=True, confirmed=ALL_CONFIRMED)
    with pytest.raises(NotAllowed):
        listing_start_verification(listing=listing, actor=actor)


def test_only_the_sellers_org_submits_and_withdraws(tenant):
    seller, org = seller_with_org()
    listing = draft_listing(seller=seller, org=org)
    stranger = make_member(roles=(Role.SELLER,))
    with pytest.raises(NotAllowed):
        listing_submit(listing=listing, actor=stranger)
    with pytest.raises(NotAllowed):
        listing_withdraw(listing=listing, actor=stranger)
    assert listing_withdraw(listing=listing, actor=seller).state == Listing.State.WITHDRAWN


def test_published_listing_can_be_withdrawn_but_not_when_reserved(tenant):
    seller, org = seller_with_org()
    listing = submitted(draft_listing(seller=seller, org=org), seller)
    listing = listing_decide(listing=listing, actor=verifier(), approve=True, confirmed=ALL_CONFIRMED)
    with transaction.atomic():
        locked = Listing.objects.select_for_update().get(pk=listing.pk)
        listing_reserve(listing=locked)
    with pytest.raises(InvalidTransition):
        listing_withdraw(listing=listing, actor=seller)


def test_reserve_release_and_mark_sold_inside_the_callers_transaction(tenant):
    seller, org = seller_with_org()
    listing = submitted(draft_listing(seller=seller, org=org), seller)
    listing = listing_decide(listing=listing, actor=verifier(), approve=True, confirmed=ALL_CONFIRMED)
    with transaction.atomic():
        locked = Listing.objects.select_for_update().get(pk=listing.pk)
        listing_reserve(listing=locked)
        listing_release(listing=locked)
        listing_reserve(listing=locked)
        listing_mark_sold(listing=locked)
    listing.refresh_from_db()
    assert listing.state == Listing.State.SOLD
    actions = list(AuditEvent.objects.filter(object_id=str(listing.pk)).values_list("action", flat=True))
    assert actions[-4:] == ["listing.reserve", "listing.release", "listing.reserve", "listing.sold"]
    with transaction.atomic(), pytest.raises(InvalidTransition):
        listing_release(listing=Listing.objects.select_for_update().get(pk=listing.pk))


def test_cannot_edit_after_submission(tenant):
    seller, org = seller_with_org()
    listing = submitted(draft_listing(seller=seller, org=org), seller)
    with pytest.raises(InvalidTransition):
        listing_update(listing=listing, actor=seller, data=ListingInput(title="x", price_minor=1))


def test_lapse_tells_the_seller(tenant):
    seller, org = seller_with_org()
    listing = submitted(draft_listing(seller=seller, org=org), seller)
    listing = listing_decide(listing=listing, actor=verifier(), approve=True, confirmed=ALL_CONFIRMED)
    listing = listing_lapse(listing=listing, reason="年费未缴，专利权终止")
    assert listing.state == Listing.State.LAPSED
    assert Notification.objects.filter(user=seller, kind="listing.lapsed").exists()


def test_checklist_flags_owner_status_term_fees_and_pledge(tenant):
    seller, org = seller_with_org()
    today = datetime.date.today()
    record = register_record(
        owner_name="Somebody Else Ltd", legal_status="lapsed", expiry_date=today - datetime.timedelta(days=1),
        renewal_paid_through=today - datetime.timedelta(days=30),
        encumbrances=[{"type": "pledge", "holder": "某银行", "until": "2099-01-01"}])
    listing = draft_listing(seller=seller, org=org, records=[record])
    checks = {c["code"]: c for c in verification_checklist(listing)}
    assert not any(c["ok"] for c in checks.values())
    assert "Somebody Else Ltd" in checks["owner"]["details"][0]


def test_checklist_passes_for_a_clean_right(tenant):
    seller, org = seller_with_org()
    listing = draft_listing(seller=seller, org=org)
    assert all(c["ok"] for c in verification_checklist(listing))


def test_non_exclusive_licence_on_record_only_conflicts_with_exclusive_deals(tenant):
    seller, org = seller_with_org()
    record = register_record(owner_name=org.legal_name,
                             encumbrances=[{"type": "non_exclusive_licence", "holder": "X", "until": ""}])
    listing = draft_listing(seller=seller, org=org, records=[record])
    assert {c["code"]: c["ok"] for c in verification_checklist(listing)}["encumbrances"] is True
    listing.deal_type = "exclusive_licence"
    assert {c["code"]: c["ok"] for c in verification_checklist(listing)}["encumbrances"] is False


def test_similar_chinese_marks_of_the_same_owner_left_out_are_found(tenant):
    owner = "清源大学技术转移中心"
    mark = register_record(kind="trademark", owner_name=owner, title="清源智芯", classes=["09", "42"])
    similar = register_record(kind="trademark", owner_name=owner, title="清源智芯 QINGYUAN", classes=["09"])
    register_record(kind="trademark", owner_name=owner, title="清源智芯", classes=["30"])  # other class
    register_record(kind="trademark", owner_name=owner, title="星河", classes=["09"])  # not similar
    assert [(a.pk, b.pk) for a, b in similar_marks_not_in_package(records=[mark])] == [(mark.pk, similar.pk)]
    assert similar_marks_not_in_package(records=[mark, similar]) == []


def test_certificate_upload_is_checked_by_content(tenant, settings):
    seller, org = seller_with_org()
    listing = draft_listing(seller=seller, org=org)
    right = listing.rights.get()
    with pytest.raises(ValidationFailed, match="content was checked"):
        listing_attach_certificate(right=right, actor=seller,
                                   file=SimpleUploadedFile("cert.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"))
    settings.UPLOAD_MAX_BYTES = 1024
    with pytest.raises(ValidationFailed, match="limit"):
        listing_attach_certificate(right=right, actor=seller,
                                   file=SimpleUploadedFile("cert.pdf", PDF + b"0" * 2048, "application/pdf"))
    right = listing_attach_certificate(right=right, actor=seller,
                                       file=SimpleUploadedFile("证书.pdf", PDF, "application/octet-stream"))
    assert right.certificate_content_type == "application/pdf"
    assert right.certificate.name


def test_other_tenants_listings_are_invisible(tenant, other_tenant):
    from core.tenancy import tenant_context

    seller, org = seller_with_org()
    listing = draft_listing(seller=seller, org=org)
    with tenant_context(other_tenant):
        assert not Listing.objects.filter(pk=listing.pk).exists()
        other_org = OrganizationFactory()
        assert other_org.tenant_id == other_tenant.pk
