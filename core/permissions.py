"""Who may act: staff roles in an exchange, and membership of an organization — the one place views,
admin, API and services ask.

The library imports no app: the user and organization models (owned by `accounts`) answer through two
small methods, `user.roles_in(tenant)` and `organization.has_member(user)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from .errors import NotAllowed
from .tenancy import get_current_tenant

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise

    from .models import Tenant

# The user and organization models belong to `accounts`, which the library may not import (not even
# for annotations): they are `Any` here and answer through `roles_in(tenant)` / `has_member(user)`.
User = Any
Organization = Any


class Role(models.TextChoices):
    BUYER = "buyer", _("Buyer")
    SELLER = "seller", _("Seller")
    VERIFIER = "verifier", _("Verifier")
    ESCROW_OFFICER = "escrow_officer", _("Escrow officer")
    FINANCE = "finance", _("Finance")
    TENANT_ADMIN = "tenant_admin", _("Exchange administrator")


STAFF_ROLES = frozenset({Role.VERIFIER, Role.ESCROW_OFFICER, Role.FINANCE, Role.TENANT_ADMIN})


def user_roles(user: User | None, tenant: Tenant | None = None) -> frozenset[str]:
    """The user's roles in the tenant in context (cached on the user object for the request)."""
    tenant = tenant or get_current_tenant()
    if user is None or not user.is_authenticated or tenant is None:
        return frozenset()
    cache = user.__dict__.setdefault("_roles_cache", {})
    if tenant.pk not in cache:
        cache[tenant.pk] = frozenset(user.roles_in(tenant))
    roles: frozenset[str] = cache[tenant.pk]
    return roles


def has_role(user: User | None, *roles: str, tenant: Tenant | None = None) -> bool:
    """True when the user holds any of `roles` in the tenant (tenant admins hold every staff role)."""
    held = user_roles(user, tenant)
    if Role.TENANT_ADMIN in held and set(roles) & STAFF_ROLES:
        return True
    return bool(held & set(roles))


def is_tenant_staff(user: User | None, tenant: Tenant | None = None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or bool(user_roles(user, tenant) & STAFF_ROLES)


def is_member(user: User | None, organization: Organization | None) -> bool:
    """May this person act for this organization (a member of it)?"""
    return (
        user is not None and user.is_authenticated and organization is not None
        and organization.has_member(user)
    )


def require_role(user: User | None, *roles: str, message: _StrOrPromise | None = None) -> None:
    if not has_role(user, *roles):
        raise NotAllowed(message or _("Only the exchange's staff can do this."))


def require_member(user: User | None, organization: Organization | None, message: _StrOrPromise | None = None) -> None:
    if not is_member(user, organization):
        raise NotAllowed(message or _("Only members of %(org)s can do this.") % {"org": organization})


def require_one_side(user: Any, *, acting_for: Any, other_side: Any, message: Any = None) -> None:
    """One person, one side: the same person or organization is never on both sides of a trade (an
    order, an offer, a bid, a licence). `acting_for` is the organization the user acts for in this
    step; `other_side` the counterparty's organization. Refused when they are the same organization,
    or when the user is also a member of the counterparty (a second organization of the seller's own
    people). Every service that puts two parties together calls this (escrow today; negotiation's
    offers and licences and demand's bids call the same rule)."""
    if other_side is None:
        return
    if acting_for is not None and acting_for.pk == other_side.pk:
        raise NotAllowed(message or _("You cannot trade with your own organization."))
    if user is not None and getattr(user, "is_authenticated", False) and other_side.has_member(user):
        raise NotAllowed(message or _("You are a member of %(org)s, the other side of this trade: one person "
                                      "can only be on one side.") % {"org": other_side})
