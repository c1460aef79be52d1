"""Rights as the registers record them, and who holds them.

- `RegisterRecord` is public data shared by all exchanges (not tenant-owned): one row per right per
  office, filled by the register gateway (`rights.registry`: embedded register, live adapters, or a
  verified certificate), which also serves as the adapters' cache.
- `Holding` is tenant-owned: an organization of an exchange holds a right. When the office records a
  transfer made on ipex (`rights.services.owner_record_transfer`), the seller's holding ends (naming
  the transfer) and the buyer's begins; the register record's owner of record becomes the buyer.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Cast, Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.tenancy import TenantOwned


class Jurisdiction(models.TextChoices):
    CN = "CN", _("China")
    US = "US", _("United States")
    EP = "EP", _("Europe (EPO/EUIPO)")
    WO = "WO", _("International (WIPO)")


class RightKind(models.TextChoices):
    INVENTION = "invention", _("Invention patent")
    UTILITY_MODEL = "utility_model", _("Utility model")
    DESIGN = "design", _("Design")
    TRADEMARK = "trademark", _("Trademark")
    SOFTWARE_COPYRIGHT = "software_copyright", _("Software copyright")
    WORKS_COPYRIGHT = "works_copyright", _("Copyright in a work")


COPYRIGHT_KINDS = (RightKind.SOFTWARE_COPYRIGHT, RightKind.WORKS_COPYRIGHT)


class RecordSource(models.TextChoices):
    EMBEDDED = "embedded", _("Embedded register")
    BULK = "bulk", _("Register bulk file")
    USPTO_ODP = "uspto_odp", _("USPTO Open Data Portal")
    USPTO_TSDR = "uspto_tsdr", _("USPTO TSDR")
    EPO_OPS = "epo_ops", _("EPO Open Patent Services")
    CERTIFICATE = "certificate", _("Certificate and register extract checked by a verifier")


class LegalStatus(models.TextChoices):
    VALID = "valid", _("In force")
    PENDING = "pending", pgettext_lazy("legal status", "Pending")
    LAPSED = "lapsed", _("Lapsed (fees unpaid)")
    EXPIRED = "expired", _("Expired")
    INVALIDATED = "invalidated", _("Invalidated")


class RegisterRecord(models.Model):
    """One right as the register (patent or trademark office) records it. Not tenant-owned."""

    number = models.CharField(max_length=40, help_text=_("Normalised application/registration number"))
    application_number = models.CharField(max_length=40, blank=True,
                                          help_text=_("When it differs from the number (US patents and trademarks)"))
    jurisdiction = models.CharField(max_length=2, choices=Jurisdiction.choices)
    kind = models.CharField(max_length=20, choices=RightKind.choices)
    publication_number = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=500)
    title_en = models.CharField(max_length=500, blank=True)
    abstract = models.TextField(blank=True)
    abstract_en = models.TextField(blank=True)
    owner_name = models.CharField(max_length=300)
    owner_country = models.CharField(max_length=2, blank=True)
    owner_registration_number = models.CharField(max_length=40, blank=True)
    filing_date = models.DateField(null=True, blank=True)
    grant_date = models.DateField(null=True, blank=True, help_text=_("Grant or registration date"))
    expiry_date = models.DateField(null=True, blank=True)
    legal_status = models.CharField(max_length=20, choices=LegalStatus.choices, default=LegalStatus.VALID)
    renewal_paid_through = models.DateField(null=True, blank=True)
    classes = ArrayField(models.CharField(max_length=20), default=list, blank=True)
    image_url = models.CharField(max_length=500, blank=True)
    encumbrances = models.JSONField(default=list, blank=True, help_text=_("Recorded pledges and licences"))
    # Copyrights: the software's version, when it was completed and first published, the certificate number.
    version = models.CharField(max_length=40, blank=True)
    completion_date = models.DateField(null=True, blank=True)
    publication_date = models.DateField(null=True, blank=True, help_text=_("First publication"))
    certificate_number = models.CharField(max_length=60, blank=True)
    # Where the record came from and when the source was last read (the adapters' cache).
    source = models.CharField(max_length=20, choices=RecordSource.choices, default=RecordSource.EMBEDDED)
    fetched_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True, help_text=_("What the live register answered, as mapped"))
    awaiting_verification = models.BooleanField(
        default=False, help_text=_("Entered from a certificate; part of the register once a verifier approves it"))
    keys = ArrayField(models.CharField(max_length=60), default=list, blank=True,
                      help_text=_("Lookup keys of every accepted form of its numbers (rights.numbers)"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["jurisdiction", "number"], name="register_number_unique")]
        indexes = [GinIndex(fields=["keys"], name="register_keys_gin"),
                   models.Index(fields=["jurisdiction", "kind", "owner_name"], name="register_owner_idx"),
                   # Search by owner/applicant name (prefix, any case): owner_name__istartswith.
                   models.Index(OpClass(Upper(Cast("owner_name", models.TextField())), name="text_pattern_ops"),
                                name="register_owner_prefix"),
                   # A name inside the owner's name (owner_name__icontains), where PostgreSQL has pg_trgm
                   # (migration 0011 creates it only there; the search falls back to the prefix).
                   GinIndex(OpClass(Upper(Cast("owner_name", models.TextField())), name="gin_trgm_ops"),
                            name="register_owner_trgm")]
        verbose_name = _("register record")
        verbose_name_plural = _("rights register")

    def __str__(self):
        return f"{self.jurisdiction} {self.number} {self.title}"

    def save(self, *args, **kwargs):
        from .numbers import keys_for_record

        self.keys = keys_for_record(jurisdiction=self.jurisdiction, kind=self.kind, number=self.number,
                                    application_number=self.application_number,
                                    publication_number=self.publication_number,
                                    certificate_number=self.certificate_number)
        super().save(*args, **kwargs)

    def title_for(self, language: str | None = None) -> str:
        """The title in the reader's language where the register has it (else the other one)."""
        from django.utils.translation import get_language

        english = not (language or get_language() or "en").lower().startswith("zh")
        if english:
            return self.title_en or self.title
        return self.title or self.title_en

    def abstract_for(self, language: str | None = None) -> str:
        from django.utils.translation import get_language

        english = not (language or get_language() or "en").lower().startswith("zh")
        if english:
            return self.abstract_en or self.abstract
        return self.abstract or self.abstract_en

    @property
    def is_copyright(self):
        return self.kind in COPYRIGHT_KINDS


class Holding(TenantOwned):
    """An organization of this exchange holds a right (owner of record, or verified by the exchange).

    At most one current holding per right per exchange; an ended holding says why (the recorded
    transfer), which is what the listing check names when a former owner tries to sell again."""

    class Basis(models.TextChoices):
        REGISTER = "register", _("Named in the register")
        TRANSFER = "transfer", _("Transfer recorded by the office")
        IMPORTED = "imported", _("Added to the portfolio")

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="holdings")
    record = models.ForeignKey(RegisterRecord, on_delete=models.PROTECT, related_name="holdings")
    basis = models.CharField(max_length=20, choices=Basis.choices, default=Basis.REGISTER)
    since = models.DateField(null=True, blank=True)
    acquired_reference = models.CharField(max_length=80, blank=True,
                                          help_text=_("The order and office reference it was acquired by"))
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reference = models.CharField(max_length=80, blank=True)
    transferred_to = models.ForeignKey("accounts.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    transferred_to_name = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Monitoring (rights.monitoring): only holdings with next_check_at <= now are re-checked.
    next_check_at = models.DateTimeField(null=True, blank=True)
    check_attempts = models.PositiveIntegerField(default=0)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    snapshot = models.JSONField(default=dict, blank=True, help_text=_("What the register said at the last check"))
    # Copies of the record's kind, office, status and expiry, so a 10,000-right portfolio is filtered,
    # counted and sorted without joining the register (millions of rows). Written with the stored fees
    # (`rights.services.holding_fees_store`: holding start, monitoring re-check, `recompute_fees`).
    kind = models.CharField(max_length=20, choices=RightKind.choices, blank=True)
    jurisdiction = models.CharField(max_length=2, choices=Jurisdiction.choices, blank=True)
    legal_status = models.CharField(max_length=20, choices=LegalStatus.choices, blank=True)
    expiry_date = models.DateField(null=True, blank=True)
    # ... and of its number and title, so sorting a 10,000-right portfolio by either reads the holdings'
    # own indexes instead of joining the register for every right (the page joins it for the 50 shown).
    number = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=500, blank=True)
    # The holder lets buyers' wants be matched with this right although it is not for sale (demand):
    # the holder is told of each match, the buyer sees who holds it only once the holder answers.
    open_to_wants = models.BooleanField(_("open to buyers' wants"), default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "record"], condition=models.Q(ended_at__isnull=True),
                                    name="holding_one_current_per_right"),
        ]
        indexes = [models.Index(fields=["tenant", "organization", "ended_at"], name="holding_org_idx"),
                   models.Index(fields=["tenant", "organization", "expiry_date", "id"], name="holding_org_expiry",
                                condition=models.Q(ended_at__isnull=True)),
                   models.Index(fields=["tenant", "organization", "jurisdiction", "number", "id"],
                                name="holding_org_number", condition=models.Q(ended_at__isnull=True)),
                   models.Index(fields=["tenant", "organization", "title", "id"], name="holding_org_title",
                                condition=models.Q(ended_at__isnull=True)),
                   models.Index(fields=["tenant", "organization", "legal_status", "id"], name="holding_org_status",
                                condition=models.Q(ended_at__isnull=True)),
                   models.Index(fields=["tenant", "next_check_at"], name="holding_due",
                                condition=models.Q(ended_at__isnull=True)),
                   models.Index(fields=["tenant", "organization"], name="holding_open_to_wants",
                                condition=models.Q(ended_at__isnull=True, open_to_wants=True))]
        ordering = ["-created_at", "-id"]
        verbose_name = _("holding")
        verbose_name_plural = _("holdings")

    def __str__(self):
        return f"{self.organization} · {self.record}"

    @property
    def current(self):
        return self.ended_at is None


class HoldingFee(TenantOwned):
    """A fee of a held right (`rights.fees`), stored so the portfolio page, its charts, the deadline list,
    the export and the calendar add up in SQL instead of computing every right's fees per request.

    Written only by `rights.portfolio.fees_store` — when a holding begins (import, register, transfer),
    on every monitoring re-check of the right, and by `manage.py recompute_fees` after the fee rules
    (`rights.fees`) change. Covers the fees still payable (in their late period) and those due within
    `STORED_FEE_YEARS`; readers filter by date, so a day-old computation stays right."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    holding = models.ForeignKey(Holding, on_delete=models.CASCADE, related_name="fees")
    office = models.CharField(max_length=10)
    code = models.CharField(max_length=20, help_text=_("Which fee (rights.fees.fee_label translates it)"))
    n = models.CharField(max_length=8, blank=True, help_text=_("Its year or stage"))
    label = models.CharField(max_length=80, help_text=_("The rule's own (English) name; the key of its alerts"))
    due = models.DateField()
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    grace_until = models.DateField()
    surcharge_minor = models.BigIntegerField(default=0)
    window_opens = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=120, blank=True)
    rules_as_of = models.DateField(help_text=_("The date of the fee tables it was computed with"))

    class Meta:
        # The deadline list walks (organization, due, id) in order; the fees-per-year chart reads the rest
        # from the index alone.
        indexes = [models.Index(fields=["tenant", "organization", "due", "id"], name="holdingfee_org_due",
                                include=["grace_until", "currency", "amount_minor"])]
        ordering = ["due", "id"]
        verbose_name = _("fee of a held right")
        verbose_name_plural = _("fees of held rights")

    def __str__(self):
        return f"{self.label} {self.due}"

    @property
    def display_label(self) -> str:
        from .fees import fee_label

        return fee_label(self.code, self.n, self.label)

    @property
    def amount(self) -> str:
        return f"{self.amount_minor / 100:,.2f}"


class Alert(TenantOwned):
    """Something a holder must know about one of its rights, with what to do and by when. Created at
    most once per (holding, kind, key): the monitoring cycle may run twice, the alert exists once."""

    class Kind(models.TextChoices):
        STATUS = "status_change", _("Legal status changed")
        LAPSE = "lapse", _("The right lapsed")
        FEE_DUE = "fee_due", _("Fee due")
        FEE_OVERDUE = "fee_overdue", _("Fee overdue (late period)")
        ASSIGNMENT = "assignment", _("Assignment recorded")
        LICENCE = "licence", _("Licence recorded")
        PLEDGE = "pledge", _("Pledge recorded")
        OWNER_NAME = "owner_name", _("Owner of record changed")
        OPPOSITION = "opposition", _("Opposition or invalidation")

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="right_alerts")
    holding = models.ForeignKey(Holding, on_delete=models.CASCADE, related_name="alerts")
    record = models.ForeignKey(RegisterRecord, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=120, help_text=_("What makes this alert unique (a date, a reference)"))
    # As first written, in the worker's language (admin, webhooks, alerts older than the columns below) ...
    message = models.TextField()
    action = models.TextField(blank=True, help_text=_("What to do"))
    # ... and the event: the untranslated messages and their parameters (core.notifications.Message),
    # so every reader reads it in their own language (`display_message`, `display_action`).
    message_source = models.TextField(blank=True, default="")
    action_source = models.TextField(blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    due_by = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "holding", "kind", "key"], name="alert_once")]
        indexes = [models.Index(fields=["tenant", "organization", "-created_at"], name="alert_org_idx")]
        ordering = ["-created_at", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")

    def __str__(self):
        return f"{self.get_kind_display()} · {self.record}"

    @property
    def message_obj(self):
        """The message to render when read (`str()` in the active language); the stored text for old rows."""
        from core.notifications import Message

        return Message.restore(self.message_source, self.params) if self.message_source else self.message

    @property
    def action_obj(self):
        from core.notifications import Message

        return Message.restore(self.action_source, self.params) if self.action_source else self.action

    @property
    def display_message(self) -> str:
        return str(self.message_obj)

    @property
    def display_action(self) -> str:
        return str(self.action_obj)


class AlertPreference(TenantOwned):
    """What one member of a holder gets of its rights' alerts: which kinds (none chosen = all) and how
    by e-mail. Without a row: every kind in the site, urgent ones also by e-mail at once."""

    class Email(models.TextChoices):
        URGENT = "urgent", _("E-mail at once for urgent alerts only (lapse, overdue fee, assignment, opposition)")
        IMMEDIATE = "immediate", _("E-mail at once for every alert I get")
        DIGEST = "digest", _("One e-mail a day with the day's alerts")
        NONE = "none", _("No e-mail: on the site only")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    kinds = ArrayField(models.CharField(max_length=20, choices=Alert.Kind.choices), default=list, blank=True,
                       help_text=_("The kinds of alert this member gets; none chosen means all"))
    email = models.CharField(max_length=10, choices=Email.choices, default=Email.URGENT)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    # Read/unread, per member: every alert of the organization with id <= this is read ("mark all as
    # read"); above it, the ones in AlertRead are.
    alerts_read_through = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user", "organization"], name="alert_pref_once")]
        verbose_name = _("alert preference")
        verbose_name_plural = _("alert preferences")

    def gets(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


class AlertRead(TenantOwned):
    """One member has read one alert (above their `AlertPreference.alerts_read_through`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="reads")
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user", "alert"], name="alert_read_once")]
        verbose_name = _("alert read")
        verbose_name_plural = _("alerts read")


class PortfolioImport(TenantOwned):
    """A list of numbers an organization brings in (CSV, XLSX or pasted), imported by the worker one row
    at a time; the page follows `processed` / `total`."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    source_name = models.CharField(max_length=200, blank=True)
    numbers = models.JSONField(default=list, help_text=_("The numbers as read from the file, in order"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text=_("[{row, number, message}]"))
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("portfolio import")
        verbose_name_plural = _("portfolio imports")

    def __str__(self):
        return f"{self.source_name or self.pk} ({self.processed}/{self.total})"

    @property
    def percent(self):
        return 100 if not self.total else int(self.processed * 100 / self.total)


class CalendarFeed(TenantOwned):
    """The private address of an organization's deadline calendar (iCalendar); a new token revokes the old."""

    organization = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
