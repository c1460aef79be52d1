"""The exchange's side: verification and its decision, featuring, and the register re-check that
takes lapsed or expired rights off the market."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Role
from core.audit import audit_record
from core.errors import InvalidTransition, NotAllowed, ValidationFailed
from core.events import ask, emit
from core.money import Money
from core.notifications import notify
from core.permissions import has_role
from rights.expiry import remaining_term
from rights.registry import get_register

from ..models import Listing, Right
from ..selectors import verification_checklist
from .common import _require_verifier, _seller_users, _transition, lock_listing


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
        from rights.services import confirm_certificate_records

        # Rights entered from their certificates become part of the register once the verifier approves.
        confirm_certificate_records(records=[r.register_record for r in listing.rights.select_related(
            "register_record")], actor=actor)
        emit("listing.verified", organizations=[listing.seller_org],
             data={"listing": listing.pk, "state": listing.state, "margin_minor": margin})
        if listing.state == Listing.State.PUBLISHED:
            emit("listing.published", organizations=[listing.seller_org], data={"listing": listing.pk},
                 listing=listing)
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
