"""What every listing service shares: the row lock, the actor checks, one transition helper."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django_fsm import can_proceed

from accounts.models import Role, User
from accounts.selectors import seller_blockers
from core.audit import audit_record
from core.errors import InvalidTransition, NotAllowed
from core.permissions import has_role, is_member
from core.tenancy import require_tenant

from ..models import Listing

LIVE_STATES = (Listing.State.DRAFT, Listing.State.SUBMITTED, Listing.State.IN_VERIFICATION,
               Listing.State.AWAITING_MARGIN, Listing.State.PUBLISHED, Listing.State.RESERVED,
               Listing.State.SOLD_OUT, Listing.State.REJECTED)
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
