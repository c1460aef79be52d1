"""Every write to listings. Durable services own their transaction (lock → actor check → transition →
save → audit → notify/emit on commit); `listing_reserve`, `listing_release` and `listing_mark_sold`
are NON-durable: escrow calls them inside its own transaction with the listing row already locked."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from accounts.models import Role, User
from accounts.selectors import seller_blockers
from core.audit import audit_record
from core.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from core.events import ask, emit
from core.money import Money
from core.notifications import notify
from core.permissions import has_role, is_member
from core.tenancy import require_tenant
from core.uploads import DOCUMENTS, validate_upload
from rights.expiry import remaining_term
from rights.registry import get_register

from .models import Listing, RegisterRecord, Right, Watch
from .search import refresh_listing_search
from .selectors import verification_checklist

LIVE_STATES = (Listing.State.DRAFT, Listing.State.SUBMITTED, Listing.State.IN_VERIFICATION,
               Listing.State.AWAITING_MARGIN, Listing.State.PUBLISHED, Listing.State.RESERVED,
               Listing.State.REJECTED)
EDITABLE_STATES = (Listing.State.DRAFT, Listing.State.REJECTED)
MAX_RIGHTS = 50


def lock_listing(listing_or_pk) -> Listing:
    pk = getattr(listing_or_pk, "pk", listing_or_pk)
    return Listing.objects.select_for_update(of=("self",)).select_related("seller_org").get(pk=pk)


def _require_seller(actor, organization):
    if actor is None or not actor.is_authenticated:
        raise NotAllowed(_("Log in to sell."))
    if not is_member(actor, organization):
        raise NotAllowed(_("Only members of %(org)s can manage its listings.") % {"org": organization.legal_name})
    if not has_role(actor, Role.SELLER):
        raise NotAllowed(_("Your account does not have the seller role on this exchange."))
    blockers = seller_blockers(actor, organization)
    if blockers:
        raise NotAllowed(" ".join(str(b) for b in blockers))


def _require_verifier(actor):
    if actor is None or not actor.is_authenticated or not (actor.is_superuser or has_role(actor, Role.VERIFIER)):
        raise NotAllowed(_("Only the exchange's verifiers can verify listings."))


def _transition(listing, name, *, actor, action, reason="", data=None, extra_fields=()):
    method = getattr(listing, name)
    if not can_proceed(method):
        raise InvalidTransition(
            _("This listing is %(state)s; that is not possible now.") % {"state": listing.get_state_display()})
    before = listing.state
    method()
    listing.save(update_fields=["state", "updated_at", *extra_fields])
    audit_record(actor=actor, action=action, obj=listing, from_state=before, to_state=listing.state,
                 reason=reason, data=data)
    return before


def _seller_users(listing):
    return list(User.objects.filter(memberships__organization_id=listing.seller_org_id, is_active=True).distinct())


def _verifiers():
    return list(User.objects.filter(
        tenant_roles__tenant=require_tenant(), tenant_roles__role__in=[Role.VERIFIER, Role.TENANT_ADMIN],
        is_active=True).distinct())


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
        if not isinstance(self.price_minor, int) or self.price_minor <= 0:
            errors["price"] = [_("Enter a price above zero.")]
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


def _check_records(records, *, listing=None):
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
    _check_records(records)
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
        _check_records(records, listing=listing)
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


@transaction.atomic(durable=True)
def listing_submit(*, listing, actor) -> Listing:
    listing = lock_listing(listing)
    _require_seller(actor, listing.seller_org)
    if not listing.rights.exists():
        raise ValidationFailed(_("Add at least one right before submitting."))
    listing.submitted_at = timezone.now()
    _transition(listing, "submit", actor=actor, action="listing.submit", extra_fields=("submitted_at",))
    notify(users=_verifiers(), kind="listing.submitted", subject=gettext_lazy("Listing to verify: %(title)s"),
           body=gettext_lazy("%(org)s submitted “%(title)s” for verification."),
           params={"title": listing.title, "org": listing.seller_org.legal_name},
           url=f"/admin/listings/listing/{listing.pk}/change/")
    return listing


@transaction.atomic(durable=True)
def listing_start_verification(*, listing, actor) -> Listing:
    listing = lock_listing(listing)
    _require_verifier(actor)
    _transition(listing, "start_verification", actor=actor, action="listing.start_verification")
    return listing


@transaction.atomic(durable=True)
def listing_decide(*, listing, actor, approve: bool, reasons: str = "", confirmed: dict | None = None,
                   ip_address=None) -> Listing:
    """The verifier's decision. Approve needs every checklist item confirmed; it publishes the listing,
    or (when the tenant requires a margin) moves it to awaiting_margin. Reject needs reasons, which the
    seller sees; they fix the listing and resubmit."""
    listing = lock_listing(listing)
    _require_verifier(actor)
    if listing.state == Listing.State.SUBMITTED:
        _transition(listing, "start_verification", actor=actor, action="listing.start_verification")
    if listing.state != Listing.State.IN_VERIFICATION:
        raise InvalidTransition(_("This listing is %(state)s; it is not waiting for a decision.")
                                % {"state": listing.get_state_display()})
    checklist = verification_checklist(listing)
    confirmed = {k: bool(v) for k, v in (confirmed or {}).items()}
    checked = [{"code": c["code"], "automatic": c["ok"], "confirmed": confirmed.get(c["code"], False),
                "details": c["details"]} for c in checklist]
    now = timezone.now()
    listing.verification = {"checked_at": now.isoformat(), "by": actor.email, "approve": approve,
                            "checks": checked}
    listing.verified_by = actor
    listing.verified_at = now
    fields = ("verification", "verified_by", "verified_at")
    if approve:
        missing = [c["code"] for c in checked if not c["confirmed"]]
        if missing:
            raise ValidationFailed(_("Confirm every item of the checklist before approving, or reject the listing "
                                     "with the reason."), field_errors={"checks": missing})
        margin = ask("listing.margin_minor", listing=listing)  # escrow owns the margin rule
        listing.margin_minor = margin
        listing.rejection_reason = ""
        fields += ("margin_minor", "rejection_reason")
        if margin > 0:
            _transition(listing, "approve_pending_margin", actor=actor, action="listing.approve", reason=reasons,
                        data={"checks": checked, "margin_minor": margin}, extra_fields=fields)
            subject = gettext_lazy("“%(title)s” is verified: pay the margin to publish it")
            body = gettext_lazy("Pay the margin of %(margin)s and the listing goes live.")
        else:
            listing.published_at = now
            _transition(listing, "approve", actor=actor, action="listing.approve", reason=reasons,
                        data={"checks": checked, "margin_minor": 0}, extra_fields=fields + ("published_at",))
            subject = gettext_lazy("“%(title)s” is verified and published")
            body = gettext_lazy("Buyers can now find it and order it.")
        emit("listing.verified", organizations=[listing.seller_org],
             data={"listing": listing.pk, "state": listing.state, "margin_minor": margin})
        notify(users=_seller_users(listing), kind="listing.verified", subject=subject, body=body,
               params={"title": listing.title, "margin": str(Money(margin, listing.currency))},
               url=f"/sell/listings/{listing.pk}/")
    else:
        if not (reasons or "").strip():
            raise ValidationFailed(_("Say why the listing is rejected: the seller sees the reasons."),
                                   field_errors={"reasons": [_("Required when rejecting.")]})
        listing.rejection_reason = reasons.strip()
        _transition(listing, "reject", actor=actor, action="listing.reject", reason=reasons.strip(),
                    data={"checks": checked}, extra_fields=fields + ("rejection_reason",))
        emit("listing.rejected", organizations=[listing.seller_org],
             data={"listing": listing.pk, "reasons": listing.rejection_reason})
        notify(users=_seller_users(listing), kind="listing.rejected",
               subject=gettext_lazy("“%(title)s” needs changes before it can be published"),
               body=gettext_lazy("The verifier's reasons: %(reasons)s"),
               params={"title": listing.title, "reasons": listing.rejection_reason},
               url=f"/sell/listings/{listing.pk}/")
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


@transaction.atomic(durable=True)
def listing_lapse(*, listing, reason: str, actor=None) -> Listing:
    """Take a published listing out of search because a right lapsed or expired; tell the seller."""
    listing = lock_listing(listing)
    if actor is not None:
        _require_verifier(actor)
    listing.lapsed_reason = reason
    _transition(listing, "lapse", actor=actor, action="listing.lapse", reason=reason,
                extra_fields=("lapsed_reason",))
    emit("listing.lapsed", organizations=[listing.seller_org], data={"listing": listing.pk, "reason": reason},
         listing=listing, actor=actor, reason=reason)
    notify(users=_seller_users(listing), kind="listing.lapsed",
           subject=gettext_lazy("“%(title)s” was taken off the market"),
           body=gettext_lazy("The register shows: %(reason)s"), params={"title": listing.title, "reason": reason},
           url=f"/sell/listings/{listing.pk}/")
    return listing


@transaction.atomic(durable=True)
def listing_set_featured(*, listing, actor, featured: bool) -> Listing:
    listing = lock_listing(listing)
    if not (actor.is_superuser or has_role(actor, Role.TENANT_ADMIN, Role.VERIFIER)):
        raise NotAllowed(_("Only the exchange's staff can feature listings."))
    listing.featured = featured
    listing.save(update_fields=["featured", "updated_at"])
    audit_record(actor=actor, action="listing.feature" if featured else "listing.unfeature", obj=listing)
    return listing


def lapse_reason(record, *, today=None) -> str:
    """Why a right in `record` can no longer be traded, or '' when it still can."""
    if record is None:
        return _("the right is no longer in the register")
    if record.legal_status != "valid":
        return _("%(number)s is now “%(status)s” in the register") % {
            "number": f"{record.jurisdiction} {record.number}", "status": record.get_legal_status_display()}
    left = remaining_term(record.expiry_date, today)
    if left is not None and left.expired:
        return _("%(number)s expired on %(date)s") % {"number": f"{record.jurisdiction} {record.number}",
                                                     "date": record.expiry_date.isoformat()}
    return ""


def listing_recheck(*, listing) -> bool:
    """Compare a published listing's rights with the register now: refresh the snapshots and lapse the
    listing when a right lapsed or expired. Returns True when it was lapsed."""
    register = get_register()
    reasons = []
    for right in listing.rights.all():
        record = register.get(jurisdiction=right.jurisdiction, number=right.number)
        reason = lapse_reason(record)
        if reason:
            reasons.append(reason)
        if record is not None:
            changed = {f: getattr(record, f) for f in ("legal_status", "expiry_date", "renewal_paid_through", "owner_name")
                       if getattr(right, f) != getattr(record, f)}
            if changed:
                Right.objects.filter(pk=right.pk).update(**changed)
    if not reasons:
        return False
    try:
        listing_lapse(listing=listing, reason="; ".join(reasons))
    except InvalidTransition:  # no longer published (ordered or withdrawn meanwhile): nothing to do
        return False
    return True


# --- NON-durable: escrow calls these inside its transaction, the listing row already locked ----------


def listing_reserve(*, listing) -> Listing:
    """An order was placed: the listing leaves search until the order ends."""
    _transition(listing, "reserve", actor=None, action="listing.reserve")
    return listing


def listing_release(*, listing) -> Listing:
    """The order was cancelled or refunded: the listing is published again."""
    _transition(listing, "release", actor=None, action="listing.release")
    return listing


def listing_mark_sold(*, listing) -> Listing:
    _transition(listing, "mark_sold", actor=None, action="listing.sold")
    return listing


def listing_margin_paid(*, listing, actor_label: str, data: dict) -> Listing:
    """Escrow holds the seller's margin: the listing awaiting it is published."""
    before = listing.state
    listing.margin_paid()
    listing.published_at = listing.published_at or timezone.now()
    listing.save(update_fields=["state", "published_at", "updated_at"])
    audit_record(actor_label=actor_label, action="listing.margin_paid", obj=listing, from_state=before,
                 to_state=listing.state, data=data)
    notify(users=_seller_users(listing), kind="margin.paid",
           subject=gettext_lazy("Margin received: “%(title)s” is published"),
           params={"title": listing.title}, url="")
    return listing


# --- watchlist ------------------------------------------------------------------------------


def watch_toggle(*, user, listing) -> bool:
    """Add the listing to the user's watchlist, or remove it; returns whether it is watched now."""
    if not user.is_authenticated:
        raise NotAllowed(_("Log in to keep a watchlist."))
    with transaction.atomic():
        deleted, _count = Watch.objects.filter(user=user, listing=listing).delete()
        if deleted:
            return False
        Watch.objects.get_or_create(user=user, listing=listing)
        return True


__all__ = [
    "ListingInput", "listing_create_from_register", "listing_update", "listing_attach_certificate",
    "listing_submit", "listing_start_verification", "listing_decide", "listing_withdraw", "listing_lapse",
    "listing_set_featured", "listing_reserve", "listing_release", "listing_mark_sold", "listing_margin_paid",
    "watch_toggle", "lock_listing", "listing_recheck", "lapse_reason",
]
