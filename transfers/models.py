"""Transfers: the papers of a trade, their signatures, and the filing with the patent or trademark
office (DESIGN sections 2 and 4, seed Fig. 3).

- `TransferFiling`: one per order and attempt (a refile after a rejection is a new attempt). It
  follows the office: reference, when to ask next (`next_poll_at`, with backoff), the notice, a
  correction request. Its status is a protected FSM with `ConcurrentTransitionMixin`, the poller's
  safety net on top of row locks.
- `TransferDocument`: a generated PDF (transfer agreement, power of attorney, dismissal letter,
  office cover data, the office notice) with the SHA-256 of its exact bytes.
- `Signature`: one party's signature on one document: typed full name, explicit consent, time, IP
  and the SHA-256 of the exact PDF bytes signed.
- `SimulatedOfficeCase`: the embedded office's own register of filings (not tenant data: it plays
  the part of the outside office).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.tenancy import TenantOwned
from core.uploads import export_certificate_path, tenant_path  # noqa: F401 (migrations name it here too)


class Office(models.TextChoices):
    CNIPA_PATENT = "cnipa_patent", _("CNIPA (China National IP Administration), patents")
    CNIPA_TRADEMARK = "cnipa_trademark", _("CNIPA Trademark Office")
    USPTO_PATENT = "uspto_patent", _("USPTO, patent assignments")
    USPTO_TRADEMARK = "uspto_trademark", _("USPTO, trademark assignments")
    EUIPO = "euipo", _("EUIPO (EU trade marks and designs)")
    WIPO_MADRID = "wipo_madrid", _("WIPO Madrid (international trademarks)")
    CPCC = "cpcc", _("Copyright Protection Center of China (CPCC), copyright contracts")
    EPO = "epo", _("EPO, European Patent Register (applications)")
    EP_NATIONAL = "ep_national", _("National offices of the states where the European patent is validated")


class FilingStatus(models.TextChoices):
    PREPARING = "preparing", _("Papers being signed")
    PACKAGE_READY = "package_ready", _("Filing package ready for staff to submit")
    FILED = "filed", _("Filed, awaiting the office")
    CORRECTION_REQUESTED = "correction_requested", _("Office asks for a correction")
    APPROVED = "approved", _("Approved by the office")
    REJECTED = "rejected", _("Rejected by the office")
    WITHDRAWN = "withdrawn", _("Closed without a decision")


FS = FilingStatus
# Filings the poller follows.
OPEN_STATUSES = (FS.FILED, FS.CORRECTION_REQUESTED)
FINAL_STATUSES = (FS.APPROVED, FS.REJECTED, FS.WITHDRAWN)


class FilingKind(models.TextChoices):
    TRANSFER = "transfer", _("Transfer to the buyer")
    RETURN = "return", _("Transfer back to the seller")


class TransferFiling(ConcurrentTransitionMixin, TenantOwned):
    order = models.ForeignKey("escrow.Order", on_delete=models.PROTECT, related_name="transfer_filings")
    kind = models.CharField(_("filing"), max_length=10, choices=FilingKind.choices, default=FilingKind.TRANSFER,
                            help_text=_("A transfer back follows a refund after the office recorded the buyer"))
    attempt = models.PositiveSmallIntegerField(default=1)
    office = models.CharField(_("office"), max_length=20, choices=Office.choices, blank=True)
    adapter = models.CharField(max_length=20, default="simulated",
                               help_text=_("'simulated' (embedded office) or 'manual' (staff submit the package)"))
    status = FSMField(_("status"), default=FS.PREPARING, choices=FilingStatus.choices, protected=True)

    reference = models.CharField(_("office reference"), max_length=60, blank=True)
    filed_at = models.DateTimeField(null=True, blank=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    executed_on = models.DateField(_("execution date"), null=True, blank=True,
                                   help_text=_("The day the last party signed the papers"))
    late_recordation = models.BooleanField(
        _("recorded late"), default=False,
        help_text=_("USPTO: recorded more than three months after execution (35 U.S.C. 261)"))

    # Following the office: only filings with next_poll_at <= now are asked (partial index below).
    next_poll_at = models.DateTimeField(null=True, blank=True)
    poll_attempts = models.PositiveIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    expected_answer_at = models.DateTimeField(null=True, blank=True,
                                              help_text=_("When the office typically answers; later is overdue"))

    # The office's answer.
    notice_number = models.CharField(_("notice number"), max_length=60, blank=True)
    notice_text = models.TextField(_("office notice"), blank=True)
    notice_received_at = models.DateTimeField(null=True, blank=True)
    correction_text = models.TextField(_("what the office asks to correct"), blank=True)
    correction_due = models.DateTimeField(_("correction due"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    resolution = models.CharField(max_length=20, blank=True, help_text=_("After a rejection: refile or refund"))

    # Simulated office: the outcome a test or a demo chose for this filing (blank = settings default).
    simulated_outcome = models.CharField(max_length=20, blank=True)

    # Technology-export contract registration certificate (CN invention/utility model to a foreign buyer).
    export_certificate = models.FileField(_("technology-export contract registration certificate"),
                                          upload_to=export_certificate_path, blank=True)
    export_certificate_type = models.CharField(max_length=100, blank=True)
    export_certificate_uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                                       on_delete=models.SET_NULL, related_name="+")
    export_certificate_uploaded_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # A package whose rights are recorded by several offices has one filing per office.
            models.UniqueConstraint(fields=["tenant", "order", "kind", "attempt", "office"],
                                    name="transferfiling_order_kind_attempt_office"),
        ]
        indexes = [
            # The poller's only access path: due open filings. Partial, so it holds open filings only.
            models.Index(fields=["tenant", "next_poll_at"], name="transferfiling_due",
                         condition=models.Q(status__in=["filed", "correction_requested"])),
            models.Index(fields=["tenant", "status", "expected_answer_at"]),
        ]
        ordering = ["-created_at", "-id"]
        verbose_name = _("transfer filing")
        verbose_name_plural = _("transfer filings")

    def __str__(self):
        return f"{self.get_office_display()} · {self.reference or '-'} (#{self.attempt})"

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    # --- transitions: in-memory only; transfers/services does lock, save, audit, notify ---
    @transition(field=status, source=FS.PREPARING, target=FS.PACKAGE_READY)
    def package(self):
        pass

    @transition(field=status, source=[FS.PREPARING, FS.PACKAGE_READY, FS.CORRECTION_REQUESTED], target=FS.FILED)
    def file(self):
        pass

    @transition(field=status, source=FS.FILED, target=FS.CORRECTION_REQUESTED)
    def request_correction(self):
        pass

    @transition(field=status, source=[FS.FILED, FS.CORRECTION_REQUESTED], target=FS.APPROVED)
    def approve(self):
        pass

    @transition(field=status, source=[FS.FILED, FS.CORRECTION_REQUESTED], target=FS.REJECTED)
    def reject(self):
        pass

    @transition(field=status, source=[FS.PREPARING, FS.PACKAGE_READY, FS.FILED, FS.CORRECTION_REQUESTED],
                target=FS.WITHDRAWN)
    def withdraw(self):
        pass


class RecordalKind(models.TextChoices):
    PLEDGE = "pledge", _("Pledge registration")
    PLEDGE_RELEASE = "pledge_release", _("Pledge release")


class RecordalFiling(ConcurrentTransitionMixin, TenantOwned):
    """A recordal with an office that is not a trade's transfer: a pledge on rights (CNIPA patent pledge
    registration, trademark pledge registration, USPTO security interest, CPCC pledge) and its release.
    The app that asked for it is named by `subject` (e.g. "financing.application:PLG-2026-000001") and
    learns the outcome from the `recordal.decided` event; the register's encumbrances are written here,
    through `rights.encumbrances`, when the office records it."""

    kind = models.CharField(_("recordal"), max_length=20, choices=RecordalKind.choices)
    subject = models.CharField(max_length=80, db_index=True)
    office = models.CharField(_("office"), max_length=20, choices=Office.choices)
    adapter = models.CharField(max_length=20, default="simulated")
    status = FSMField(_("status"), default=FS.PREPARING, choices=FilingStatus.choices, protected=True)
    register_records = models.JSONField(default=list, help_text=_("Ids of the register records concerned"))
    pledgor = models.CharField(_("pledgor"), max_length=300)
    pledgee = models.CharField(_("pledgee"), max_length=300)
    pledgee_organization = models.ForeignKey("accounts.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                             related_name="+", help_text=_("The lender, when it is on the exchange"))
    secured_amount_minor = models.PositiveBigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    secured_until = models.DateField(null=True, blank=True)
    contract_sha256 = models.CharField(max_length=64, blank=True)
    pledge_reference = models.CharField(max_length=60, blank=True,
                                        help_text=_("For a release: the office reference of the pledge released"))

    reference = models.CharField(_("office reference"), max_length=60, blank=True)
    filed_at = models.DateTimeField(null=True, blank=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    next_poll_at = models.DateTimeField(null=True, blank=True)
    poll_attempts = models.PositiveIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    expected_answer_at = models.DateTimeField(null=True, blank=True)
    notice_number = models.CharField(_("notice number"), max_length=60, blank=True)
    notice_text = models.TextField(_("office notice"), blank=True)
    notice_received_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    simulated_outcome = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "next_poll_at"], name="recordalfiling_due",
                                condition=models.Q(status__in=["filed", "correction_requested"]))]
        ordering = ["-created_at", "-id"]
        verbose_name = _("recordal filing")
        verbose_name_plural = _("recordal filings (pledges)")

    def __str__(self):
        return f"{self.get_kind_display()} · {self.get_office_display()} · {self.reference or '-'}"

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    @transition(field=status, source=FS.PREPARING, target=FS.PACKAGE_READY)
    def package(self):
        pass

    @transition(field=status, source=[FS.PREPARING, FS.PACKAGE_READY], target=FS.FILED)
    def file(self):
        pass

    @transition(field=status, source=FS.FILED, target=FS.APPROVED)
    def approve(self):
        pass

    @transition(field=status, source=FS.FILED, target=FS.REJECTED)
    def reject(self):
        pass


class DocumentKind(models.TextChoices):
    AGREEMENT = "agreement", _("Transfer agreement")
    POWER_OF_ATTORNEY = "power_of_attorney", _("Power of attorney for the transfer")
    DISMISSAL = "dismissal", _("Dismissal letter")
    COVER = "cover", _("Office cover data")
    NOTICE = "notice", _("Office notice")
    RETURN = "return_assignment", _("Assignment back to the seller")


# Papers both parties sign (Fig. 3); the cover data and the notice are not signed by the parties.
SIGNED_KINDS = (DocumentKind.AGREEMENT, DocumentKind.POWER_OF_ATTORNEY, DocumentKind.DISMISSAL)
# A licence changes no owner: its paper is the licence contract alone (no power of attorney to transfer,
# no dismissal letter); the filing is the office's licence recordal.
LICENCE_SIGNED_KINDS = (DocumentKind.AGREEMENT,)
# The transfer back after a refund of a recorded assignment: one paper, the buyer assigns back to the seller.
RETURN_KINDS = (DocumentKind.RETURN,)


def signed_kinds_for(order) -> tuple:
    """The papers both parties sign for this order: the three transfer papers, or the licence contract."""
    deal = getattr(order, "deal_type", "") or ""
    return LICENCE_SIGNED_KINDS if deal and deal != "assignment" else SIGNED_KINDS


def document_path(instance, filename):
    return tenant_path(instance, "transfers", instance.order_id, filename)


class TransferDocument(TenantOwned):
    order = models.ForeignKey("escrow.Order", on_delete=models.PROTECT, related_name="transfer_documents")
    filing = models.ForeignKey(TransferFiling, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="documents")
    kind = models.CharField(_("paper"), max_length=30, choices=DocumentKind.choices)
    version = models.PositiveSmallIntegerField(default=1)
    file = models.FileField(upload_to=document_path)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    data = models.JSONField(default=dict, blank=True, help_text=_("The data the paper was generated from"))
    superseded = models.BooleanField(default=False)
    sealed_file = models.FileField(_("signed PDF"), upload_to=document_path, blank=True,
                                   help_text=_("The paper with both parties' signing record, signed by the "
                                               "platform's certificate (PAdES)."))
    sealed_sha256 = models.CharField(max_length=64, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "order", "kind", "version"], name="transferdocument_version"),
            # One current paper of a kind per filing (the cover data and notice of each office).
            models.UniqueConstraint(fields=["tenant", "order", "kind", "filing"], condition=models.Q(superseded=False),
                                    name="transferdocument_one_current_per_filing"),
        ]
        ordering = ["order", "kind", "-version"]
        verbose_name = _("transfer paper")
        verbose_name_plural = _("transfer papers")

    def __str__(self):
        return f"{self.get_kind_display()} v{self.version}"

    @property
    def needs_signatures(self):
        return self.kind in SIGNED_KINDS or self.kind in RETURN_KINDS

    @property
    def is_return(self):
        return self.kind in RETURN_KINDS

    @property
    def filename(self):
        return f"{self.kind}-v{self.version}.pdf"


class Party(models.TextChoices):
    SELLER = "seller", _("Seller (assignor)")
    BUYER = "buyer", _("Buyer (assignee)")


class Signature(TenantOwned):
    document = models.ForeignKey(TransferDocument, on_delete=models.PROTECT, related_name="signatures")
    party = models.CharField(max_length=10, choices=Party.choices)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transfer_signatures")
    typed_name = models.CharField(_("full name as typed"), max_length=150)
    consent = models.BooleanField(default=False)
    consent_text = models.TextField(blank=True)
    signed_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    document_sha256 = models.CharField(max_length=64, help_text=_("SHA-256 of the exact PDF bytes signed"))
    # A broker's member signed for the party (`organization`) under a mandate that allows signing.
    mandate = models.ForeignKey("accounts.Mandate", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    broker_org = models.ForeignKey("accounts.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "document", "party"], name="signature_one_per_party"),
        ]
        ordering = ["signed_at", "id"]
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")

    def __str__(self):
        return f"{self.typed_name} · {self.get_party_display()}"

    @property
    def signed_as(self) -> str:
        """"X for Y under mandate M" when a broker signed, else X."""
        if self.mandate_id:
            return _("%(name)s (%(broker)s) for %(org)s under mandate #%(mandate)s") % {
                "name": self.typed_name, "broker": self.broker_org.legal_name if self.broker_org_id else "",
                "org": self.organization.legal_name, "mandate": self.mandate_id}
        return self.typed_name


class OfficeNotice(TenantOwned):
    """Every answer of the office (approval notice, rejection, correction request), kept as received."""

    class Kind(models.TextChoices):
        APPROVAL = "approval", _("Notice of approval of the transfer")
        REJECTION = "rejection", _("Notice of rejection")
        CORRECTION = "correction", _("Request for correction")

    filing = models.ForeignKey(TransferFiling, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    number = models.CharField(max_length=60, blank=True)
    text = models.TextField(blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    document = models.ForeignKey(TransferDocument, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "filing", "kind", "number"], name="officenotice_once"),
        ]
        ordering = ["received_at", "id"]
        verbose_name = _("office notice")
        verbose_name_plural = _("office notices")

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"


class SimulatedOfficeCase(models.Model):
    """The embedded office's register (DESIGN section 4): what it received, when it will answer and
    how. Platform-wide, like a real office; not tenant data."""

    class Outcome(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Reject")
        CORRECTION = "correction", _("Ask for a correction, then approve")
        CORRECTION_THEN_REJECT = "correction_reject", _("Ask for a correction, then reject")

    office = models.CharField(max_length=20, choices=Office.choices)
    reference = models.CharField(max_length=60, unique=True)
    received_at = models.DateTimeField()
    decide_at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.APPROVE)
    corrections_asked = models.PositiveSmallIntegerField(default=0)
    correction_due = models.DateTimeField(null=True, blank=True)
    resubmitted_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("simulated office case")
        verbose_name_plural = _("simulated office cases")

    def __str__(self):
        return self.reference


class PaperFailure(TenantOwned):
    """Generating an order's papers failed (only the worker generates them). Written in its own
    transaction so it survives the failed one; parties see "being prepared", officers see the error
    and can generate again; resolved when a later attempt succeeds."""

    order = models.ForeignKey("escrow.Order", on_delete=models.CASCADE, related_name="paper_failures")
    error = models.CharField(max_length=500)
    attempts = models.PositiveIntegerField(default=1)
    failed_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "order"], condition=models.Q(resolved_at__isnull=True),
                                               name="paperfailure_one_open")]
        verbose_name = _("paper generation failure")
        verbose_name_plural = _("paper generation failures")

    def __str__(self):
        return f"{self.order_id}: {self.error[:60]}"
