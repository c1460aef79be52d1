from django.utils.translation import gettext as _

from marketplace.tenancy import get_current_tenant

from .models import STAFF_ROLES, Membership, Organization, Role, TenantRole


def user_roles(user, tenant=None) -> frozenset[str]:
    """The user's roles in the tenant in context (cached on the user object for the request)."""
    tenant = tenant or get_current_tenant()
    if user is None or not user.is_authenticated or tenant is None:
        return frozenset()
    cache = user.__dict__.setdefault("_roles_cache", {})
    if tenant.pk not in cache:
        cache[tenant.pk] = frozenset(
            TenantRole.objects.unscoped().filter(tenant=tenant, user=user).values_list("role", flat=True)
        )
    return cache[tenant.pk]


def has_role(user, *roles, tenant=None) -> bool:
    """True when the user holds any of `roles` in the tenant (tenant admins hold every staff role)."""
    held = user_roles(user, tenant)
    if Role.TENANT_ADMIN in held and set(roles) & STAFF_ROLES:
        return True
    return bool(held & set(roles))


def is_tenant_staff(user, tenant=None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or bool(user_roles(user, tenant) & STAFF_ROLES)


def user_organizations(user):
    return Organization.objects.filter(memberships__user=user).order_by("legal_name")


def active_organization(user) -> Organization | None:
    """The organization the user acts for: their default membership, else their first one."""
    if user is None or not user.is_authenticated:
        return None
    membership = (
        Membership.objects.filter(user=user).select_related("organization").order_by("-is_default", "joined_at").first()
    )
    return membership.organization if membership else None


def is_member(user, organization) -> bool:
    return (
        user is not None and user.is_authenticated and organization is not None
        and Membership.objects.filter(user=user, organization=organization).exists()
    )


def seller_blockers(user, organization=None) -> list[str]:
    """Why this user may not sell yet, in words they can act on; empty when they may."""
    organization = organization or active_organization(user)
    reasons = []
    if organization is None:
        reasons.append(_("Register the organization you sell for (company, university, institute or yourself)."))
        return reasons
    status = organization.verification_status
    if status == Organization.Verification.UNVERIFIED:
        reasons.append(_("Upload the verification documents of %(org)s and submit it for verification.")
                       % {"org": organization.legal_name})
    elif status == Organization.Verification.PENDING:
        reasons.append(_("%(org)s is awaiting verification by the exchange's staff.") % {"org": organization.legal_name})
    elif status == Organization.Verification.REJECTED:
        reasons.append(_("The exchange could not verify %(org)s: %(note)s")
                       % {"org": organization.legal_name, "note": organization.verification_note or "-"})
    return reasons
