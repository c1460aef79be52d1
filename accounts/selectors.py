from django.utils.translation import gettext as _

from .models import Membership, Organization


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


def acting_member(*, organization, actor, email: str | None):
    """The person who acts for `organization` through a partner key, named by email: an active member of
    the organization. Without an email, the key's own (machine) identity `actor`, which services that
    need a person refuse."""
    from core.errors import ValidationFailed

    if not email:
        return actor
    membership = (Membership.objects.filter(organization=organization, user__email__iexact=email.strip(),
                                            user__is_active=True).select_related("user").first())
    if membership is None:
        raise ValidationFailed("No active member of your organization has this email.",
                               field_errors={"signer_email": ["Not a member of your organization."]})
    return membership.user
