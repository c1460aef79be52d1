"""The seller's side of a listing: create from the register, edit, attach certificate scans, submit,
withdraw. Durable services own their transaction."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.errors import Conflict, InvalidTransition, ValidationFailed
from core.events import emit
from core.notifications import notify
from core.tenancy import require_tenant
from core.text import CONTROL_MESSAGE, LONG_TEXT, has_control_characters
from core.uploads import DOCUMENTS, validate_upload
from rights.routes import has_filing_route, parse_states

from ..models import Listing, RegisterRecord, Right
from ..search import refresh_listing_search
from .common import (
    EDITABLE_STATES,
    LIVE_STATES,
    MAX_RIGHTS,
    _require_seller,
    _transition,
    _verifiers,
    lock_listing,
)

MAX_PRICE_MINOR = 10**15  # the largest price anyone may ask (forms and the API say the same)


@dataclass
class ListingInput:
    """What the seller types; price in minor units of the tenant currency."""

    title: str
    price_minor: int
    deal_type: str = Listing.DealType.ASSIGNMENT
    description: str = ""
    licence_term_months: int | None = None
    licence_territory: str = ""
    industry_tags: tuple = ()

    def validate(self):
        errors = {}
        if not (self.title or "").strip():
            errors["title"] = [_("Give the listing a title.")]
        elif has_control_characters(self.title) or len(self.title) > 300:
            errors["title"] = [str(CONTROL_MESSAGE) if has_control_characters(self.title)
                               else _("Keep the title under 300 characters.")]
        if not isinstance(self.price_minor, int) or self.price_minor <= 0:
            errors["price"] = [_("Enter a price above zero.")]
        elif self.price_minor > MAX_PRICE_MINOR:
            errors["price"] = [_("That price is too large.")]
        if len(self.description or "") > LONG_TEXT:
            errors["description"] = [_("Keep the description under %(n)d characters.") % {"n": LONG_TEXT}]
        if has_control_characters(self.licence_territory or "") or len(self.licence_territory or "") > 200:
            errors["licence_territory"] = [str(CONTROL_MESSAGE)]
        if any(has_control_characters(str(t)) or len(str(t)) > 50 for t in self.industry_tags or ()):
            errors["industry_tags"] = [str(CONTROL_MESSAGE)]
        if self.deal_type not in Listing.DealType.values:
            errors["deal_type"] = [_("Choose a deal type.")]
        if self.deal_type in (Listing.DealType.EXCLUSIVE_LICENCE, Listing.DealType.NON_EXCLUSIVE_LICENCE):
            if not self.licence_term_months or self.licence_term_months <= 0:
                errors["licence_term_months"] = [_("A licence needs a term in months.")]
            if not (self.licence_territory or "").strip():
                errors["licence_territory"] = [_("A licence needs a territory (e.g. mainland China).")]
        if errors:
            raise ValidationFailed(_("Please correct the listing."), field_errors=errors)


def _snapshot(record: RegisterRecord, position: int) -> dict:
    return dict(register_record=record, number=record.number, jurisdiction=record.jurisdiction, kind=record.kind,
                title=record.title, abstract=record.abstract, owner_name=record.owner_name,
                filing_date=record.filing_date, grant_date=record.grant_date, expiry_date=record.expiry_date,
                legal_status=record.legal_status, renewal_paid_through=record.renewal_paid_through,
                classes=list(record.classes), image_url=record.image_url,
                publication_number=record.publication_number, position=position)


def _check_transferred_away(records, organization):
    """A right this organization sold on the exchange (transfer recorded) cannot be listed again by it."""
    from rights.selectors import transfer_refusal_message, transferred_away

    gone = transferred_away(records=records, organization=organization)
    if gone:
        raise Conflict(transfer_refusal_message(gone[0]), code="transferred_away")


def _check_records(records, *, listing=None, organization=None):
    if organization is not None:
        _check_transferred_away(records, organization)
    if not records:
        raise ValidationFailed(_("Add at least one right to the listing."))
    if len(records) > MAX_RIGHTS:
        raise ValidationFailed(_("A package can hold at most %(n)s rights.") % {"n": MAX_RIGHTS})
    if len({r.pk for r in records}) != len(records):
        raise ValidationFailed(_("The same right is in the package twice."))
    taken = (Right.objects.filter(register_record__in=records, listing__state__in=LIVE_STATES)
             .exclude(listing=listing).select_related("listing").first())
    if taken is not None:
        raise Conflict(_("%(number)s is already in the listing “%(title)s”. Withdraw that listing first.")
                       % {"number": f"{taken.jurisdiction} {taken.number}", "title": taken.listing.title})


def _set_rights(listing, records):
    keep = {r.register_record_id: r for r in listing.rights.all()}
    wanted = [r.pk for r in records]
    for record_id, right in keep.items():
        if record_id not in wanted:
            right.delete()
    for position, record in enumerate(records):
        right = keep.get(record.pk)
        if right is None:
            Right.objects.create(tenant=listing.tenant, listing=listing, **_snapshot(record, position))
        elif right.position != position:
            right.position = position
            right.save(update_fields=["position"])


@transaction.atomic(durable=True)
def listing_create_from_register(*, actor, organization, records: list[RegisterRecord], data: ListingInput) -> Listing:
    """A draft listing of one right or a bundle, each right snapshotted from the register."""
    tenant = require_tenant()
    _require_seller(actor, organization)
    data.validate()
    _check_records(records, organization=organization)
    listing = Listing.objects.create(
        tenant=tenant, seller_org=organization, created_by=actor, title=data.title.strip()[:300],
        description=data.description.strip(), price_minor=data.price_minor, currency=tenant.currency,
        deal_type=data.deal_type, licence_term_months=data.licence_term_months if data.deal_type != "assignment" else None,
        licence_territory=data.licence_territory.strip() if data.deal_type != "assignment" else "",
        industry_tags=[t.strip()[:50] for t in data.industry_tags if t.strip()][:10],
    )
    _set_rights(listing, records)
    refresh_listing_search(listing)
    audit_record(actor=actor, action="listing.create", obj=listing, to_state=listing.state,
                 data={"rights": [f"{r.jurisdiction} {r.number}" for r in records], "price_minor": data.price_minor})
    return listing


@transaction.atomic(durable=True)
def listing_update(*, listing, actor, data: ListingInput, records: list[RegisterRecord] | None = None) -> Listing:
    """Change a draft or a rejected listing (the seller fixes it before resubmitting)."""
    listing = lock_listing(listing)
    _require_seller(actor, listing.seller_org)
    if listing.state not in EDITABLE_STATES:
        raise InvalidTransition(_("Only drafts and rejected listings can be changed; this one is %(state)s.")
                                % {"state": listing.get_state_display()})
    data.validate()
    if records is not None:
        _check_records(records, listing=listing, organization=listing.seller_org)
        _set_rights(listing, records)
    listing.title = data.title.strip()[:300]
    listing.description = data.description.strip()
    listing.price_minor = data.price_minor
    listing.deal_type = data.deal_type
    is_licence = data.deal_type != Listing.DealType.ASSIGNMENT
    listing.licence_term_months = data.licence_term_months if is_licence else None
    listing.licence_territory = data.licence_territory.strip() if is_licence else ""
    listing.industry_tags = [t.strip()[:50] for t in data.industry_tags if t.strip()][:10]
    listing.save(update_fields=["title", "description", "price_minor", "deal_type", "licence_term_months",
                                "licence_territory", "industry_tags", "updated_at"])
    refresh_listing_search(listing)
    audit_record(actor=actor, action="listing.update", obj=listing,
                 data={"rights": [f"{r.jurisdiction} {r.number}" for r in listing.rights.all()]})
    return listing


@transaction.atomic(durable=True)
def listing_attach_certificate(*, right, actor, file) -> Right:
    """The scan of a right's certificate, checked by content (PDF, PNG, JPEG) and size."""
    listing = lock_listing(right.listing_id)
    _require_seller(actor, listing.seller_org)
    if listing.state not in EDITABLE_STATES:
        raise InvalidTransition(_("Certificates can only be changed while the listing is a draft or rejected."))
    try:
        content_type = validate_upload(file, allowed=DOCUMENTS)
    except ValidationError as exc:
        raise ValidationFailed(exc.messages[0], field_errors={"certificate": exc.messages}) from None
    right = Right.objects.select_for_update(of=("self",)).get(pk=right.pk, listing=listing)
    if right.certificate:
        right.certificate.delete(save=False)
    right.certificate.save(file.name.rsplit("/", 1)[-1][-80:], file, save=False)
    right.certificate_content_type = content_type
    right.save(update_fields=["certificate", "certificate_content_type"])
    audit_record(actor=actor, action="listing.certificate", obj=listing,
                 data={"right": f"{right.jurisdiction} {right.number}", "content_type": content_type})
    return right


def _check_filing_routes(rights):
    """No buyer pays for a deal that cannot be filed: a right without a filing route (a granted EP
    patent is recorded by the national offices where it was validated) needs the seller to name the
    route first."""
    missing = [r for r in rights if needs_filing_route(r)]
    if missing:
        raise ValidationFailed(
            _("%(number)s has no filing route on this exchange: name the offices where the transfer will be "
              "recorded (for a granted European patent, the national offices of the states where it was "
              "validated, e.g. DE, FR, GB) before submitting.") % {
                "number": f"{missing[0].jurisdiction} {missing[0].number}"},
            field_errors={"filing_route": [_("Required for this right.")]})


def needs_filing_route(right) -> bool:
    """A right no office on the platform records until the seller names its validation states."""
    return not has_filing_route(right.jurisdiction, right.kind, legal_status=right.legal_status,
                                filing_route=right.filing_route)


@transaction.atomic(durable=True)
def listing_name_filing_route(*, right, actor, route: str):
    """The seller names where a right without a platform route will be recorded (e.g. 'DE, FR, GB')."""
    listing = lock_listing(right.listing_id)
    _require_seller(actor, listing.seller_org)
    try:
        states = parse_states(route)
    except ValueError as exc:
        raise ValidationFailed(_("Not a state where a European patent can be validated: %(codes)s. Use the "
                                 "two-letter codes, e.g. DE, FR, GB.") % {"codes": str(exc)},
                               field_errors={"filing_route": [_("Unknown state code.")]}) from None
    if not states:
        raise ValidationFailed(_("Name the offices where the transfer will be recorded."),
                               field_errors={"filing_route": [_("Required.")]})
    if listing.state not in (Listing.State.DRAFT, Listing.State.REJECTED):
        raise InvalidTransition(_("The filing route can be named while the listing is a draft."))
    right = Right.objects.select_for_update().get(pk=right.pk)
    right.filing_route = ", ".join(states)
    right.save(update_fields=["filing_route"])
    audit_record(actor=actor, action="listing.filing_route", obj=listing,
                 data={"right": f"{right.jurisdiction} {right.number}", "route": right.filing_route})
    return right


@transaction.atomic(durable=True)
def listing_submit(*, listing, actor) -> Listing:
    listing = lock_listing(listing)
    _require_seller(actor, listing.seller_org)
    if not listing.rights.exists():
        raise ValidationFailed(_("Add at least one right before submitting."))
    rights = list(listing.rights.select_related("register_record"))
    _check_transferred_away([r.register_record for r in rights], listing.seller_org)
    _check_filing_routes(rights)
    listing.submitted_at = timezone.now()
    _transition(listing, "submit", actor=actor, action="listing.submit", extra_fields=("submitted_at",))
    notify(users=_verifiers(), kind="listing.submitted", subject=gettext_lazy("Listing to verify: %(title)s"),
           body=gettext_lazy("%(org)s submitted “%(title)s” for verification."),
           params={"title": listing.title, "org": listing.seller_org.legal_name},
           url=f"/admin/listings/listing/{listing.pk}/change/")
    return listing


@transaction.atomic(durable=True)
def listing_withdraw(*, listing, actor, reason: str = "") -> Listing:
    listing = lock_listing(listing)
    _require_seller(actor, listing.seller_org)
    if listing.state == Listing.State.RESERVED:
        raise InvalidTransition(_("A buyer has a live order for this listing; it cannot be withdrawn now."))
    before = _transition(listing, "withdraw", actor=actor, action="listing.withdraw", reason=reason)
    if before in (Listing.State.PUBLISHED, Listing.State.AWAITING_MARGIN):  # escrow returns a held margin
        emit("listing.withdrawn", organizations=[listing.seller_org], data={"listing": listing.pk},
             listing=listing, actor=actor, reason=reason or "withdrawn")
    return listing
