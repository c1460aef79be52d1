"""Helpers shared by the financing services: references, who is who, who to tell."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.counters import next_number
from core.errors import NotAllowed
from core.permissions import Role, has_role, is_member
from core.tenancy import require_tenant
from financing.models import FinancePartner, PartnerKind

LENDER_KINDS = (PartnerKind.BANK, PartnerKind.GUARANTOR)
STAFF_ROLES = (Role.ESCROW_OFFICER, Role.FINANCE, Role.TENANT_ADMIN)


def next_reference(prefix: str) -> str:
    """`PLG-2026-000001`: numbered per exchange, kind and year (core.counters)."""
    year = timezone.localdate().year
    return f"{prefix}-{year}-{next_number(tenant=require_tenant(), name=f'financing.{prefix}:{year}'):06d}"


def partner_kinds(organization) -> set[str]:
    if organization is None:
        return set()
    return set(FinancePartner.objects.filter(organization=organization, is_active=True)
               .values_list("kind", flat=True))


def is_lender(organization) -> bool:
    return bool(partner_kinds(organization) & set(LENDER_KINDS))


def lender_kind(organization) -> str:
    kinds = partner_kinds(organization)
    return PartnerKind.BANK if PartnerKind.BANK in kinds else PartnerKind.GUARANTOR


def is_staff(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or has_role(user, *STAFF_ROLES)))


def require_staff(user):
    if not is_staff(user):
        raise NotAllowed(_("Only the exchange's staff can do this."))


def members(*organizations) -> list:
    ids = [o.pk for o in organizations if o is not None]
    return list(User.objects.filter(memberships__organization__in=ids, is_active=True).distinct().order_by("pk"))


def staff_users() -> list:
    return list(User.objects.filter(tenant_roles__tenant=require_tenant(), tenant_roles__role__in=STAFF_ROLES,
                                    is_active=True).distinct().order_by("pk"))


def lender_organizations() -> list:
    return [p.organization for p in FinancePartner.objects.filter(kind__in=LENDER_KINDS, is_active=True)
            .select_related("organization").order_by("pk")]


def lender_users() -> list:
    orgs = FinancePartner.objects.filter(kind__in=LENDER_KINDS, is_active=True).values_list("organization", flat=True)
    return list(User.objects.filter(memberships__organization__in=list(orgs), is_active=True).distinct()
                .order_by("pk"))


def acting_for(user, organization) -> bool:
    return is_member(user, organization)
