from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.permissions import STAFF_ROLES, Role  # noqa: F401 (the role vocabulary, used by fields here)
from core.tenancy import TenantOwned
from core.text import ADDRESS_TEXT, NOTE_TEXT, length_validator, validate_address, validate_single_line
from core.uploads import tenant_path


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_superuser=True, is_staff=True)
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Platform-wide; what they may do in an exchange comes from their TenantRoles."""

    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True, validators=[validate_single_line])
    phone = models.CharField(_("phone"), max_length=40, blank=True, validators=[validate_single_line])
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=[("zh-hans", "简体中文"), ("en", "English")]
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text=_("Platform operator: reaches the admin of every exchange.")
    )
    date_joined = models.DateTimeField(default=timezone.now)
    name_locked_at = models.DateTimeField(
        _("name locked at"), null=True, blank=True,
        help_text=_("Set when the person first signs a paper: the full name they signed with cannot change."))

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name or self.email

    def roles_in(self, tenant) -> list[str]:
        """This person's roles in `tenant` (asked by `core.permissions`)."""
        return list(TenantRole.objects.unscoped().filter(tenant=tenant, user=self).values_list("role", flat=True))

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email




class TenantRole(TenantOwned):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tenant_roles")
    role = models.CharField(max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user", "role"], name="tenantrole_unique")]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self):
        return f"{self.user} · {self.get_role_display()}"


class Organization(TenantOwned):
    """Who buys and sells: a company, a university, a research institute or an individual."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        UNIVERSITY = "university", _("University")
        INSTITUTE = "institute", _("Research institute")
        INDIVIDUAL = "individual", _("Individual")

    class Verification(models.TextChoices):
        UNVERIFIED = "unverified", _("Not yet submitted")
        PENDING = "pending", _("Awaiting verification")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.COMPANY)
    legal_name = models.CharField(_("legal name"), max_length=200, validators=[validate_single_line])
    legal_name_en = models.CharField(_("name in English"), max_length=200, blank=True,
                                     validators=[validate_single_line])
    country = models.CharField(_("country"), max_length=2, default="CN", help_text=_("ISO 3166 code, e.g. CN, US, DE"))
    registration_number = models.CharField(
        _("registration number"), max_length=40, blank=True,
        help_text=_("For Chinese entities the 18-character unified social credit code; for individuals an ID number."),
    )
    address = models.TextField(_("address"), blank=True, max_length=ADDRESS_TEXT,
                               validators=[length_validator(ADDRESS_TEXT), validate_address])
    contact_email = models.EmailField(_("contact email"), blank=True)
    verification_status = models.CharField(
        _("verification"), max_length=20, choices=Verification.choices, default=Verification.UNVERIFIED
    )
    verification_note = models.TextField(_("verification note"), blank=True, max_length=NOTE_TEXT)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Payouts: Stripe connected account, or bank details for bank-transfer payouts. A change of bank
    # details holds payouts until finance verifies them again (accounts.services.organization_set_payout_bank).
    stripe_account_id = models.CharField(max_length=64, blank=True)
    stripe_payouts_enabled = models.BooleanField(default=False)
    payout_bank_name = models.CharField(_("bank"), max_length=120, blank=True)
    payout_account_name = models.CharField(_("account holder"), max_length=200, blank=True)
    payout_bank_account = models.CharField(_("account number / IBAN"), max_length=60, blank=True)
    payout_swift = models.CharField(_("SWIFT/BIC"), max_length=11, blank=True)
    payout_cnaps = models.CharField(_("CNAPS code"), max_length=12, blank=True)
    payout_verified_at = models.DateTimeField(_("payout details verified at"), null=True, blank=True)
    payout_verified_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    payout_changed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "country", "registration_number"],
                condition=~models.Q(registration_number=""),
                name="organization_registration_unique",
            )
        ]
        indexes = [models.Index(fields=["tenant", "verification_status"])]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self):
        return self.legal_name

    @property
    def display_name(self) -> str:
        """The name a reader sees: the English name on English pages where the organization gave one."""
        english = (get_language() or "").startswith("en")
        return self.legal_name_en if english and self.legal_name_en else self.legal_name

    @property
    def payout_bank_verified(self) -> bool:
        return bool(self.payout_bank_account and self.payout_verified_at)

    def payout_bank_label(self) -> str:
        """The bank account as people are shown it: bank, holder and the last four characters."""
        if not self.payout_bank_account:
            return ""
        tail = self.payout_bank_account.replace(" ", "")[-4:]
        return f"{self.payout_bank_name} · {self.payout_account_name or self.legal_name} · ····{tail}"

    def has_member(self, user) -> bool:
        """Asked by `core.permissions.is_member`: may `user` act for this organization?"""
        return Membership.objects.filter(user=user, organization=self).exists()

    @property
    def is_verified(self):
        return self.verification_status == self.Verification.VERIFIED


class Membership(TenantOwned):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    is_admin = models.BooleanField(_("manages the organization"), default=False)
    is_default = models.BooleanField(default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "organization"], name="membership_unique"),
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self):
        return f"{self.user} @ {self.organization}"


class OrganizationInvitation(TenantOwned):
    """A manager invites a registered person; only when the person accepts does a Membership exist
    (organizations invite, never conscript: nobody acts for an organization they did not agree to)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="organization_invitations")
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    is_admin = models.BooleanField(_("manages the organization"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    accepted = models.BooleanField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "organization"], condition=models.Q(answered_at__isnull=True),
                                    name="invitation_one_open"),
        ]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self):
        return f"{self.user} → {self.organization}"


def org_document_path(instance, filename):
    return tenant_path(instance, "org", instance.organization_id, filename)


class OrganizationDocument(TenantOwned):
    class Kind(models.TextChoices):
        BUSINESS_LICENCE = "business_licence", _("Business licence")
        ID_DOCUMENT = "id_document", _("Identity document")
        OTHER = "other", _("Other")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("document"), max_length=30, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=org_document_path)
    content_type = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("verification document")
        verbose_name_plural = _("verification documents")

    def __str__(self):
        return f"{self.get_kind_display()} · {self.organization}"


class Mandate(TenantOwned):
    """A broker organization acts for a principal (seller or buyer) within a scope: the listings (or all
    the principal's listings; wants later), a commission rate and a term. Proposed by the broker,
    in force once a member of the principal accepts it on the site (audited); revocable by either."""

    class Side(models.TextChoices):
        SELLER = "seller", _("For the seller")
        BUYER = "buyer", _("For the buyer")

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Awaiting the principal")
        ACTIVE = "active", _("In force")
        DECLINED = "declined", _("Declined")
        REVOKED = "revoked", _("Revoked")

    principal_org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="mandates_given")
    broker_org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="mandates_held")
    side = models.CharField(_("acts"), max_length=10, choices=Side.choices, default=Side.SELLER)
    all_listings = models.BooleanField(_("all the principal's listings"), default=False)
    listing_ids = ArrayField(models.PositiveBigIntegerField(), default=list, blank=True,
                             help_text=_("The listings the broker may negotiate (when not all)"))
    want_ids = ArrayField(models.PositiveBigIntegerField(), default=list, blank=True)
    commission_bps = models.PositiveIntegerField(_("commission (basis points of the price)"), default=0)
    may_sign = models.BooleanField(_("may sign papers"), default=False)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "broker_org", "state"]),
                   models.Index(fields=["tenant", "principal_org", "state"])]
        constraints = [models.CheckConstraint(condition=models.Q(commission_bps__lte=5000), name="mandate_commission_max"),
                       models.CheckConstraint(condition=~models.Q(principal_org=models.F("broker_org")),
                                              name="mandate_not_self")]
        ordering = ["-created_at", "-id"]
        verbose_name = _("mandate")
        verbose_name_plural = _("mandates")

    def __str__(self):
        return f"{self.broker_org} → {self.principal_org}"

    def covers_listing(self, listing_id) -> bool:
        return self.all_listings or int(listing_id) in {int(i) for i in self.listing_ids}

    def in_force(self, today) -> bool:
        return self.state == self.State.ACTIVE and self.starts_on <= today <= self.ends_on
