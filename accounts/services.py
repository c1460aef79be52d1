from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import InvalidTransition, NotAllowed, ValidationFailed
from core.events import emit
from core.notifications import notify
from core.permissions import has_role, require_role
from core.tenancy import require_tenant

from .models import Membership, Organization, OrganizationInvitation, Role, TenantRole, User
from .validators import bank_details_problems, compact


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


PROFILE_FIELDS = ("full_name", "phone", "language")


def _name_key(value: str) -> str:
    return "".join(value.split()).casefold()


def signing_names(full_name: str) -> set[str]:
    """The forms of a profile name a person may type to sign: the whole name and, when the profile has
    both scripts ("陈静 Chen Jing"), either script part alone. Compared without case and spaces."""
    name = " ".join((full_name or "").split())
    if not name:
        return set()
    keys = {_name_key(name)}
    cjk = "".join(ch for ch in name if ord(ch) > 0x2E80)
    latin = " ".join(part for part in name.split() if not any(ord(ch) > 0x2E80 for ch in part))
    if cjk and latin:
        keys |= {_name_key(cjk), _name_key(latin)}
    return keys


def name_matches_profile(user, typed_name: str) -> bool:
    return bool(typed_name) and _name_key(typed_name) in signing_names(user.full_name)


def user_lock_name(*, user) -> None:
    """Called when the person signs: from now on their profile name cannot change (idempotent)."""
    if user.name_locked_at is None:
        User.objects.filter(pk=user.pk, name_locked_at__isnull=True).update(name_locked_at=timezone.now())
        user.name_locked_at = User.objects.values_list("name_locked_at", flat=True).get(pk=user.pk)
        audit_record(actor=user, action="user.name_locked", obj=user, data={"full_name": user.full_name})
ORGANIZATION_FIELDS = ("kind", "legal_name", "legal_name_en", "country", "registration_number", "address",
                       "contact_email")


def user_update_profile(*, user, full_name=None, phone=None, language=None) -> None:
    """Name, phone and preferred language (emails and pages use it). The name of someone who has signed
    a paper is locked: the signature must keep naming the person who gave it."""
    if (full_name is not None and user.name_locked_at is not None
            and " ".join(full_name.split()) != " ".join((user.full_name or "").split())):
        raise ValidationFailed(
            _("Your name cannot be changed: you signed papers with it on %(when)s. Ask the exchange's support "
              "to correct it.") % {"when": timezone.localtime(user.name_locked_at).strftime("%Y-%m-%d")},
            field_errors={"full_name": [_("Locked since you signed papers with this name.")]})
    changed = []
    for field, value in (("full_name", full_name), ("phone", phone), ("language", language)):
        if value is not None and getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if changed:
        user.save(update_fields=changed)


def _require_manager(user, organization):
    if not Membership.objects.filter(user=user, organization=organization, is_admin=True).exists():
        raise NotAllowed(_("Only the people who manage %(org)s may change it.") % {"org": organization.legal_name})


def organization_update(*, organization, actor, **fields) -> Organization:
    """Edit an organization's details. A verified organization that changes its identity
    (name, country, number, type) goes back to 'not yet submitted' and must be verified again."""
    _require_manager(actor, organization)
    identity = {"kind", "legal_name", "country", "registration_number"}
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        changed = [f for f in ORGANIZATION_FIELDS if f in fields and getattr(org, f) != fields[f]]
        if org.verification_status == Organization.Verification.PENDING and changed:
            raise InvalidTransition(_("%(org)s is being verified; wait for the staff's decision before changing it.")
                                    % {"org": org.legal_name})
        for f in changed:
            setattr(org, f, fields[f])
        before = org.verification_status
        if before == Organization.Verification.VERIFIED and identity & set(changed):
            org.verification_status = Organization.Verification.UNVERIFIED
            org.verified_at = None
            org.verified_by = None
            changed += ["verification_status", "verified_at", "verified_by"]
        if changed:
            org.save(update_fields=changed)
            audit_record(actor=actor, action="organization.update", obj=org, from_state=before,
                         to_state=org.verification_status, data={"fields": changed})
    return org


def organization_add_document(*, organization, actor, kind, file, content_type=""):
    """Attach a verification document (already checked by content and size by the form)."""
    from .models import OrganizationDocument

    _require_manager(actor, organization)
    if organization.verification_status == Organization.Verification.PENDING:
        raise InvalidTransition(_("%(org)s is being verified; wait for the staff's decision before adding documents.")
                                % {"org": organization.legal_name})
    with transaction.atomic():
        doc = OrganizationDocument.objects.create(organization=organization, kind=kind, file=file,
                                                  content_type=content_type, uploaded_by=actor)
        audit_record(actor=actor, action="organization.document_add", obj=organization,
                     data={"document": doc.pk, "kind": kind})
    return doc


def organization_remove_document(*, document, actor) -> None:
    organization = document.organization
    _require_manager(actor, organization)
    if organization.verification_status in (Organization.Verification.PENDING, Organization.Verification.VERIFIED):
        raise InvalidTransition(_("Documents of an organization that is verified or being verified cannot be removed."))
    with transaction.atomic():
        audit_record(actor=actor, action="organization.document_remove", obj=organization,
                     data={"document": document.pk, "kind": document.kind})
        document.file.delete(save=False)
        document.delete()


def organization_submit(*, organization, actor) -> Organization:
    """Ask the exchange's staff to verify the organization (again, after a rejection)."""
    from .validators import registration_number_problems

    _require_manager(actor, organization)
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        if org.verification_status not in (Organization.Verification.UNVERIFIED, Organization.Verification.REJECTED):
            raise InvalidTransition(_("%(org)s is already %(status)s.")
                                    % {"org": org.legal_name, "status": org.get_verification_status_display()})
        problems = registration_number_problems(kind=org.kind, country=org.country, number=org.registration_number)
        if not org.documents.exists():
            problems.append(str(_("Upload at least one document: the business licence, or an ID for an individual.")))
        if problems:
            raise InvalidTransition(" ".join(problems))
        before = org.verification_status
        org.verification_status = Organization.Verification.PENDING
        org.save(update_fields=["verification_status"])
        audit_record(actor=actor, action="organization.submit", obj=org, from_state=before,
                     to_state=org.verification_status)
        staff = [r.user for r in TenantRole.objects.filter(role__in=[Role.VERIFIER, Role.TENANT_ADMIN])
                 .select_related("user").order_by("pk")]
        notify(users=staff, kind="organization.submitted", subject=_("%(org)s asks to be verified"),
               params={"org": org.legal_name}, url=f"/admin/accounts/organization/{org.pk}/change/")
    return org


def membership_set_default(*, user, organization) -> None:
    """Make `organization` the one the user acts for (buys and sells as)."""
    with transaction.atomic():
        memberships = list(Membership.objects.select_for_update().filter(user=user).order_by("pk"))
        target = next((m for m in memberships if m.organization_id == organization.pk), None)
        if target is None:
            raise NotAllowed(_("You are not a member of this organization."))
        for m in memberships:
            should = m.pk == target.pk
            if m.is_default != should:
                m.is_default = should
                m.save(update_fields=["is_default"])


def user_revoke_role(*, role: TenantRole, actor=None) -> None:
    with transaction.atomic():
        audit_record(actor=actor, action="role.revoke", obj=role.user, tenant=role.tenant, data={"role": role.role})
        role.delete()
    role.user.__dict__.pop("_roles_cache", None)


def organization_add_member(*, organization, actor, email, is_admin=False) -> OrganizationInvitation:
    """A manager invites a colleague who has signed up on this exchange. Nothing changes for the colleague
    until they accept (`invitation_answer`): an invitation never makes anyone a member, let alone the
    organization they act for."""
    from .models import User

    _require_manager(actor, organization)
    user = (User.objects.filter(email__iexact=(email or "").strip(), tenant_roles__tenant=require_tenant())
            .distinct().first())
    if user is None:
        raise ValidationFailed(_("Nobody with this email address has signed up on this exchange yet: "
                                 "ask them to sign up first."), field_errors={"email": "unknown"})
    with transaction.atomic():
        if Membership.objects.filter(user=user, organization=organization).exists():
            raise ValidationFailed(_("%(user)s is already a member.") % {"user": user.email})
        if OrganizationInvitation.objects.filter(user=user, organization=organization,
                                                 answered_at__isnull=True).exists():
            raise ValidationFailed(_("%(user)s has already been invited.") % {"user": user.email})
        invitation = OrganizationInvitation.objects.create(user=user, organization=organization, invited_by=actor,
                                                           is_admin=is_admin)
        audit_record(actor=actor, action="organization.member_invite", obj=organization,
                     data={"user": user.pk, "is_admin": is_admin})
        notify(users=[user], kind="organization.invited", subject=_("%(org)s invites you to act for it"),
               body=_("Accept or decline the invitation in your account. Until you accept, nothing changes."),
               params={"org": organization.legal_name}, url="/account/organizations/")
    return invitation


def invitation_answer(*, invitation, user, accept: bool) -> Membership | None:
    """The invited person accepts (becomes a member; the organization they act for stays as it was,
    unless they had none) or declines."""
    with transaction.atomic():
        invitation = OrganizationInvitation.objects.select_for_update().filter(
            pk=invitation.pk, user=user, answered_at__isnull=True).select_related("organization").first()
        if invitation is None:
            raise NotAllowed(_("This invitation is no longer open."))
        invitation.answered_at = timezone.now()
        invitation.accepted = accept
        invitation.save(update_fields=["answered_at", "accepted"])
        audit_record(actor=user, action="organization.invitation_" + ("accept" if accept else "decline"),
                     obj=invitation.organization, data={"user": user.pk})
        if not accept:
            return None
        membership, _created = Membership.objects.get_or_create(
            user=user, organization=invitation.organization,
            defaults={"is_admin": invitation.is_admin, "is_default": not Membership.objects.filter(user=user).exists()})
        return membership


# --- where an organization is paid -------------------------------------------------------------

PAYOUT_FIELDS = ("payout_bank_name", "payout_account_name", "payout_bank_account", "payout_swift", "payout_cnaps")


def organization_set_payout_bank(*, organization, actor, bank_name: str, account_name: str, account_number: str,
                                 swift: str = "", cnaps: str = "") -> Organization:
    """A manager sets the bank account payouts go to. Any change holds payouts until finance verifies
    the new details, and every member is told (the usual payout-fraud path is a quiet change)."""
    _require_manager(actor, organization)
    bank_name, account_name = " ".join(bank_name.split()), " ".join(account_name.split())
    problems = bank_details_problems(account_number=account_number, swift=swift, cnaps=cnaps,
                                     country=organization.country)
    if not bank_name:
        problems["bank_name"] = _("Enter the bank's name.")
    if not account_name:
        problems["account_name"] = _("Enter the account holder's name as the bank has it.")
    if problems:
        raise ValidationFailed(_("The payout details were not saved: check the fields."),
                               field_errors={k: [v] for k, v in problems.items()})
    values = {"payout_bank_name": bank_name[:120], "payout_account_name": account_name[:200],
              "payout_bank_account": " ".join(account_number.upper().split())[:60],
              "payout_swift": compact(swift)[:11], "payout_cnaps": compact(cnaps)[:12]}
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        changed = [f for f in PAYOUT_FIELDS if getattr(org, f) != values[f]]
        if not changed:
            return org
        for f in changed:
            setattr(org, f, values[f])
        org.payout_verified_at, org.payout_verified_by, org.payout_changed_at = None, None, timezone.now()
        org.save(update_fields=[*changed, "payout_verified_at", "payout_verified_by", "payout_changed_at"])
        audit_record(actor=actor, action="organization.payout_details_changed", obj=org,
                     data={"fields": changed, "account": org.payout_bank_label()})
        notify(users=list(User.objects.filter(memberships__organization=org, is_active=True).distinct()),
               kind="organization.payout_details_changed",
               subject=gettext_lazy("The payout bank account of %(org)s was changed"),
               body=gettext_lazy("%(who)s set the account payouts go to: %(account)s. Payouts wait until the "
                                 "exchange's finance team has verified it. If you did not expect this, contact "
                                 "the exchange at once."),
               params={"org": org.legal_name, "who": actor.get_full_name(), "account": org.payout_bank_label()},
               url=f"/account/organizations/{org.pk}/")
        notify(users=_finance_staff(), kind="organization.payout_details_to_verify",
               subject=gettext_lazy("Verify the new payout account of %(org)s"),
               params={"org": org.legal_name}, url=f"/admin/accounts/organization/{org.pk}/change/")
    return org


def organization_verify_payout_bank(*, organization, actor) -> Organization:
    """Finance confirms the bank details (e.g. by a call-back to a known number); held payouts go out."""
    require_role(actor, Role.FINANCE, message=_("Only the exchange's finance staff verify payout details."))
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        if not org.payout_bank_account:
            raise ValidationFailed(_("%(org)s has not entered payout details yet.") % {"org": org.legal_name})
        if org.payout_verified_at:
            raise InvalidTransition(_("These payout details are verified already."))
        org.payout_verified_at, org.payout_verified_by = timezone.now(), actor
        org.save(update_fields=["payout_verified_at", "payout_verified_by"])
        audit_record(actor=actor, action="organization.payout_details_verified", obj=org,
                     data={"account": org.payout_bank_label()})
        emit("organization.payout_destination_ready", organizations=[org], data={"organization": org.pk},
             organization=org, actor=actor)
    return org


def organization_set_stripe_account(*, organization, account_id: str, payouts_enabled: bool) -> Organization:
    """The Stripe connected account of an organization and whether Stripe lets it receive payouts
    (from Connect onboarding and the `account.updated` webhook)."""
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=organization.pk)
        was_ready = bool(org.stripe_account_id and org.stripe_payouts_enabled)
        org.stripe_account_id, org.stripe_payouts_enabled = account_id, payouts_enabled
        org.save(update_fields=["stripe_account_id", "stripe_payouts_enabled"])
        audit_record(actor_label="stripe", action="organization.stripe_account_updated", obj=org,
                     data={"account": account_id, "payouts_enabled": payouts_enabled})
        if payouts_enabled and not was_ready:
            emit("organization.payout_destination_ready", organizations=[org], data={"organization": org.pk},
                 organization=org, actor=None)
    return org


def _finance_staff():
    return list(User.objects.filter(tenant_roles__tenant=require_tenant(),
                                    tenant_roles__role__in=[Role.FINANCE, Role.TENANT_ADMIN],
                                    is_active=True).distinct())
