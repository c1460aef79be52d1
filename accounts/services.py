from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.audit import audit_record
from marketplace.errors import InvalidTransition, NotAllowed
from marketplace.notifications import notify
from marketplace.tenancy import require_tenant

from .models import Membership, Organization, Role, TenantRole
from .selectors import has_role


def user_grant_role(*, user, role, actor=None) -> TenantRole:
    tenant = require_tenant()
    obj, created = TenantRole.objects.get_or_create(tenant=tenant, user=user, role=role)
    if created:
        user.__dict__.pop("_roles_cache", None)
        audit_record(actor=actor, action="role.grant", obj=user, tenant=tenant, data={"role": role})
    return obj


def organization_create(*, user, legal_name, kind=Organization.Kind.COMPANY, country="CN",
                        registration_number="", address="", legal_name_en="", contact_email="") -> Organization:
    with transaction.atomic():
        org = Organization.objects.create(
            kind=kind, legal_name=legal_name, legal_name_en=legal_name_en, country=country,
            registration_number=registration_number, address=address, contact_email=contact_email or user.email,
        )
        has_default = Membership.objects.filter(user=user, is_default=True).exists()
        Membership.objects.create(user=user, organization=org, is_admin=True, is_default=not has_default)
        user_grant_role(user=user, role=Role.SELLER, actor=user)
        audit_record(actor=user, action="organization.create", obj=org)
    return org


def organization_decide(*, organization, actor, approve: bool, note="") -> Organization:
    """Staff verify (or reject, with the reason shown to the organization) an organization."""
    if not (actor.is_superuser or has_role(actor, Role.VERIFIER)):
        raise NotAllowed(_("Only the exchange's verifiers may verify organizations."))
    if not approve and not note.strip():
        raise InvalidTransition(_("Say why the organization is rejected: the seller sees the reason."))
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        before = org.verification_status
        org.verification_status = Organization.Verification.VERIFIED if approve else Organization.Verification.REJECTED
        org.verification_note = note
        org.verified_at = timezone.now() if approve else None
        org.verified_by = actor if approve else None
        org.save(update_fields=["verification_status", "verification_note", "verified_at", "verified_by"])
        audit_record(actor=actor, action="organization.verify" if approve else "organization.reject", obj=org,
                     from_state=before, to_state=org.verification_status, reason=note)
        members = [m.user for m in Membership.objects.filter(organization=org).select_related("user")]
        if approve:
            notify(users=members, kind="organization.verified", subject=_("%(org)s is verified: you can now sell"),
                   params={"org": org.legal_name}, url="/account/organizations/")
        else:
            notify(users=members, kind="organization.rejected", subject=_("%(org)s could not be verified"),
                   body=_("Reason: %(note)s"), params={"org": org.legal_name, "note": note},
                   url="/account/organizations/")
    return org
