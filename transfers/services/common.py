"""Helpers shared by the transfer services: who is who in an order, who to tell."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from accounts.mandates import mandates_in_force
from accounts.models import Mandate, User
from core.errors import NotAllowed
from core.permissions import Role, has_role, is_member
from core.tenancy import require_tenant
from escrow.models import Order
from transfers.models import Party

OFFICER_ROLES = (Role.ESCROW_OFFICER, Role.TENANT_ADMIN)


def party_of(user: Any, order: Order) -> str | None:
    """'seller' or 'buyer' when the user acts for that side of the order, else None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if is_member(user, order.seller_org):
        return Party.SELLER
    if is_member(user, order.buyer_org):
        return Party.BUYER
    return None


def signing_party(user: Any, order: Order) -> tuple[str | None, Any]:
    """(party, mandate) the user may sign the order's papers for: a member of the party's organization
    (mandate None), or a broker's member under a mandate in force from that party that covers the listing
    and allows signing. (None, None) otherwise."""
    party = party_of(user, order)
    if party is not None or user is None or not getattr(user, "is_authenticated", False):
        return party, None
    for side, principal in ((Party.SELLER, order.seller_org_id), (Party.BUYER, order.buyer_org_id)):
        for mandate in mandates_in_force(principal_org=principal, side=Mandate.Side.SELLER if side == Party.SELLER
                                         else Mandate.Side.BUYER):
            if mandate.may_sign and mandate.covers_listing(order.listing_id) and is_member(user, mandate.broker_org):
                return side, mandate
    return None, None


def is_officer(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or has_role(user, *OFFICER_ROLES)


def require_officer(user: Any) -> None:
    if not is_officer(user):
        raise NotAllowed(_("Only the exchange's escrow officers can do this."))


def can_view_order_papers(user: Any, order: Order) -> bool:
    if signing_party(user, order)[0] is not None or is_officer(user):
        return True
    # a broker that negotiated the deal (for either side) reads the papers
    return ((order.broker_org_id is not None and is_member(user, order.broker_org))
            or (order.buyer_broker_org_id is not None and is_member(user, order.buyer_broker_org)))


def party_users(order: Order, party: str | None = None) -> list[User]:
    by_party: dict[str | None, list[int]] = {Party.SELLER: [order.seller_org_id], Party.BUYER: [order.buyer_org_id]}
    orgs = by_party.get(party, [order.seller_org_id, order.buyer_org_id])
    return list(User.objects.filter(memberships__organization__in=orgs, is_active=True).distinct().order_by("pk"))


def officers() -> list[User]:
    tenant = require_tenant()
    return list(User.objects.filter(tenant_roles__tenant=tenant, tenant_roles__role__in=OFFICER_ROLES,
                                    is_active=True).distinct().order_by("pk"))


def order_url(order: Order) -> str:
    try:
        return order.get_absolute_url()
    except Exception:  # noqa: BLE001 - the order page may not be routed yet
        return f"/orders/{order.reference}/"
