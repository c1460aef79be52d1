"""Valuation and IP-backed financing (DESIGN section 9, trade extensions).

- `FinancePartner`: an organization the exchange lists as appraiser, bank or guarantor.
- `LoanApplication`: a holder asks for a loan secured on selected rights (`PledgedRight`); lenders
  make `LoanOffer`s; the holder accepts one; the pledge contract (`FinancingDocument`) is signed by
  both (`FinancingSignature`); staff file the pledge with the office (a `transfers.RecordalFiling`);
  once recorded the loan runs; on repayment the release is filed and recorded.
- `Appraisal`: a formal appraisal ordered from an appraiser partner, its fee paid through escrow's
  payment gateway and held (an escrow `Deposit`, subject "appraisal:<ref>") until the client accepts
  the signed report or the dispute period ends; `AppraisalDispute` when the client disputes it.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, FSMModelMixin, transition

from core.tenancy import TenantOwned


class PartnerKind(models.TextChoices):
    APPRAISER = "appraiser", _("Appraiser")
    BANK = "bank", _("Bank")
    GUARANTOR = "guarantor", _("Guarantor")


class FinancePartner(TenantOwned):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("role"), max_length=20, choices=PartnerKind.choices)
    description = models.CharField(_("description"), max_length=300, blank=True)
    appraisal_fee_minor = models.PositiveBigIntegerField(_("appraisal fee"), default=0)
    currency = models.CharField(max_length=3, blank=True)
    is_active = models.BooleanField(_("listed"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "organization", "kind"], name="financepartner_once")]
        ordering = ["kind", "id"]
        verbose_name = _("finance partner")
        verbose_name_plural = _("finance partners")

    def __str__(self):
        return f"{self.organization} · {self.get_kind_display()}"


class FinancingTerms(TenantOwned):
    """The exchange's own terms for arranging pledge loans (one row per exchange; without one the
    settings' defaults apply): its service fee, a rate of the amount paid out with a minimum, charged to
    the borrower when the bank confirms the disbursement and payable within `service_fee_days`."""

    service_fee_bps = models.PositiveIntegerField(_("service fee (basis points of the loan paid out)"), default=50)
    service_fee_min_minor = models.PositiveBigIntegerField(
        _("minimum service fee (minor units)"), default=0,
        help_text=_("In the exchange's currency; loans in other currencies pay the rate only"))
    service_fee_days = models.PositiveSmallIntegerField(_("days to pay the service fee"), default=30)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="financingterms_once")]
        verbose_name = _("financing terms")
        verbose_name_plural = _("financing terms")

    def __str__(self):
        return str(_("financing terms"))


class ApplicationState(models.TextChoices):
    OPEN = "open", _("Open for offers")
    ACCEPTED = "accepted", _("Offer accepted, contract to sign")
    SIGNED = "signed", _("Contract signed, pledge to file")
    PLEDGE_FILED = "pledge_filed", _("Pledge filed with the office")
    PLEDGED = "pledged", _("Pledge recorded, loan running")
    RELEASE_FILED = "release_filed", _("Repaid, release filed")
    RELEASED = "released", _("Pledge released")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired, no offer accepted in time")


AS = ApplicationState
LIVE_APPLICATION_STATES = (AS.OPEN, AS.ACCEPTED, AS.SIGNED, AS.PLEDGE_FILED, AS.PLEDGED, AS.RELEASE_FILED)


class LoanApplication(FSMModelMixin, TenantOwned):
    reference = models.CharField(max_length=24)
    applicant_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount_minor = models.PositiveBigIntegerField(_("amount"))
    currency = models.CharField(max_length=3)
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    purpose = models.TextField(_("use of the loan"))
    state = FSMField(default=AS.OPEN, choices=ApplicationState.choices, protected=True)
    accepted_offer = models.ForeignKey("LoanOffer", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    pledge_filing = models.ForeignKey("transfers.RecordalFiling", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    release_filing = models.ForeignKey("transfers.RecordalFiling", null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    secured_until = models.DateField(null=True, blank=True)
    # What the bank confirms (the money itself moves outside ipex).
    disbursed_on = models.DateField(null=True, blank=True)
    disbursed_amount_minor = models.PositiveBigIntegerField(null=True, blank=True)
    disbursement_reference = models.CharField(max_length=80, blank=True)
    repaid_on = models.DateField(null=True, blank=True)
    repayment_reference = models.CharField(max_length=80, blank=True)
    service_fee_minor = models.PositiveBigIntegerField(default=0)
    # The exchange's service fee terms the borrower saw when accepting the offer (snapshot of
    # `FinancingTerms`), when the fee falls due (set on the bank's disbursement confirmation) and how it
    # was paid: "simulated"/"stripe"/"bank_transfer" through escrow's gateway, or "recorded" by staff.
    service_fee_bps = models.PositiveIntegerField(null=True, blank=True)
    service_fee_min_minor = models.PositiveBigIntegerField(default=0)
    service_fee_due_on = models.DateField(null=True, blank=True)
    service_fee_paid_at = models.DateTimeField(null=True, blank=True)
    service_fee_paid_via = models.CharField(max_length=20, blank=True)
    service_fee_payment_reference = models.CharField(max_length=80, blank=True)
    service_fee_overdue_alerted_at = models.DateTimeField(null=True, blank=True)
    offers_due = models.DateTimeField(_("an offer must be accepted by"), null=True, blank=True,
                                      help_text=_("After this the application expires (beat)"))
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "reference"], name="loanapplication_reference")]
        indexes = [models.Index(fields=["tenant", "state", "-created_at"]),
                   models.Index(fields=["tenant", "applicant_org", "-created_at"])]
        ordering = ["-created_at", "-id"]
        verbose_name = _("pledge loan application")
        verbose_name_plural = _("pledge loan applications")

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return f"/financing/applications/{self.reference}/"

    @property
    def is_open(self):
        return self.state == AS.OPEN

    @transition(field=state, source=AS.OPEN, target=AS.ACCEPTED)
    def accept(self):
        pass

    @transition(field=state, source=AS.ACCEPTED, target=AS.SIGNED)
    def signed(self):
        pass

    @transition(field=state, source=AS.SIGNED, target=AS.PLEDGE_FILED)
    def file_pledge(self):
        pass

    @transition(field=state, source=AS.PLEDGE_FILED, target=AS.PLEDGED)
    def pledge_recorded(self):
        pass

    @transition(field=state, source=AS.PLEDGE_FILED, target=AS.SIGNED)
    def pledge_refused(self):
        pass

    @transition(field=state, source=AS.PLEDGED, target=AS.RELEASE_FILED)
    def file_release(self):
        pass

    @transition(field=state, source=AS.RELEASE_FILED, target=AS.RELEASED)
    def release_recorded(self):
        pass

    @transition(field=state, source=AS.RELEASE_FILED, target=AS.PLEDGED)
    def release_refused(self):
        pass

    @transition(field=state, source=[AS.OPEN, AS.ACCEPTED], target=AS.WITHDRAWN)
    def withdraw(self):
        pass

    @transition(field=state, source=AS.OPEN, target=AS.EXPIRED)
    def expire(self):
        pass


class PledgedRight(TenantOwned):
    application = models.ForeignKey(LoanApplication, on_delete=models.CASCADE, related_name="rights")
    register_record = models.ForeignKey("rights.RegisterRecord", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "application", "register_record"],
                                               name="pledgedright_once")]
        ordering = ["position", "id"]
        verbose_name = _("pledged right")
        verbose_name_plural = _("pledged rights")

    def __str__(self):
        return f"{self.register_record.jurisdiction} {self.register_record.number}"


class OfferState(models.TextChoices):
    OPEN = "open", pgettext_lazy("loan offer state", "Open")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Not chosen")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


class LoanOffer(TenantOwned):
    application = models.ForeignKey(LoanApplication, on_delete=models.PROTECT, related_name="offers")
    lender_org = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    lender_kind = models.CharField(max_length=20, choices=PartnerKind.choices, default=PartnerKind.BANK)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount_minor = models.PositiveBigIntegerField(_("amount"))
    currency = models.CharField(max_length=3)
    rate_bps = models.PositiveIntegerField(_("annual rate (basis points)"))
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    conditions = models.TextField(_("conditions"), blank=True)
    state = models.CharField(max_length=20, choices=OfferState.choices, default=OfferState.OPEN)
    expires_at = models.DateTimeField(_("valid until"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "application", "lender_org"],
                                               condition=models.Q(state="open"), name="loanoffer_one_open_per_lender")]
        ordering = ["created_at", "id"]
        verbose_name = _("loan offer")
        verbose_name_plural = _("loan offers")

    def __str__(self):
        return f"{self.application} · {self.lender_org}"

    @property
    def rate_percent(self):
        return f"{self.rate_bps / 100:.2f}%"


class FinancingDocumentKind(models.TextChoices):
    PLEDGE_CONTRACT = "pledge_contract", _("Pledge contract")
    RELEASE = "release", _("Pledge release agreement")


class PledgeParty(models.TextChoices):
    PLEDGOR = "pledgor", _("Pledgor (holder)")
    PLEDGEE = "pledgee", _("Pledgee (lender)")


def financing_document_path(instance, filename):
    return f"t{instance.tenant_id}/financing/{instance.application_id}/{filename}"


class FinancingDocument(TenantOwned):
    application = models.ForeignKey(LoanApplication, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=30, choices=FinancingDocumentKind.choices)
    file = models.FileField(upload_to=financing_document_path)
    sha256 = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "application", "kind"], name="financingdocument_once")]
        ordering = ["created_at", "id"]
        verbose_name = _("financing document")
        verbose_name_plural = _("financing documents")

    def __str__(self):
        return f"{self.application} · {self.get_kind_display()}"


class FinancingSignature(TenantOwned):
    document = models.ForeignKey(FinancingDocument, on_delete=models.PROTECT, related_name="signatures")
    party = models.CharField(max_length=10, choices=PledgeParty.choices)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    typed_name = models.CharField(max_length=150)
    consent_text = models.TextField(blank=True)
    signed_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    document_sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "document", "party"], name="financingsignature_once")]
        ordering = ["signed_at", "id"]

    def __str__(self):
        return f"{self.typed_name} · {self.get_party_display()}"


class AppraisalState(models.TextChoices):
    ORDERED = "ordered", _("Ordered, fee to pay")
    PAID = "paid", _("Fee held in escrow, appraiser working")
    DELIVERED = "delivered", _("Report delivered, fee held until accepted")
    DISPUTED = "disputed", _("Report disputed")
    COMPLETED = "completed", _("Completed, fee released")
    REFUNDED = "refunded", _("Fee refunded")
    CANCELLED = "cancelled", _("Cancelled")


def appraisal_report_path(instance, filename):
    return f"t{instance.tenant_id}/appraisals/{instance.pk or 'new'}/report.pdf"


class Appraisal(FSMModelMixin, TenantOwned):
    reference = models.CharField(max_length=24)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    appraiser = models.ForeignKey(FinancePartner, on_delete=models.PROTECT, related_name="appraisals")
    record_ids = ArrayField(models.BigIntegerField(), default=list, help_text=_("Register records appraised"))
    fee_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    state = FSMField(default=AppraisalState.ORDERED, choices=AppraisalState.choices, protected=True)
    value_minor = models.PositiveBigIntegerField(null=True, blank=True)
    value_date = models.DateField(null=True, blank=True)
    report = models.FileField(upload_to=appraisal_report_path, blank=True)
    report_sha256 = models.CharField(max_length=64, blank=True)
    # The report's digital signature as checked when it was uploaded (financing.signatures).
    report_signer = models.CharField(max_length=300, blank=True)
    report_signer_issuer = models.CharField(max_length=300, blank=True)
    report_signed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    dispute_due = models.DateTimeField(_("the client may dispute until"), null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "reference"], name="appraisal_reference")]
        ordering = ["-created_at", "-id"]
        verbose_name = _("appraisal")
        verbose_name_plural = _("appraisals")

    def __str__(self):
        return self.reference

    @transition(field=state, source=AppraisalState.ORDERED, target=AppraisalState.PAID)
    def pay(self):
        pass

    @transition(field=state, source=AppraisalState.PAID, target=AppraisalState.DELIVERED)
    def deliver(self):
        pass

    @transition(field=state, source=AppraisalState.DELIVERED, target=AppraisalState.COMPLETED)
    def accept(self):
        pass

    @transition(field=state, source=AppraisalState.DELIVERED, target=AppraisalState.DISPUTED)
    def dispute(self):
        pass

    @transition(field=state, source=AppraisalState.DISPUTED, target=AppraisalState.COMPLETED)
    def settle_paid(self):
        """Staff settled the dispute by releasing the fee, or splitting it."""

    @transition(field=state, source=AppraisalState.DISPUTED, target=AppraisalState.REFUNDED)
    def settle_refund(self):
        pass

    @transition(field=state, source=[AppraisalState.ORDERED, AppraisalState.PAID], target=AppraisalState.CANCELLED)
    def cancel(self):
        pass

    @property
    def escrow_subject(self) -> str:
        return f"appraisal:{self.reference}"


class AppraisalDispute(TenantOwned):
    """The client disputes a delivered report before `Appraisal.dispute_due`; the appraiser answers by
    `answer_due`; staff settle it: the fee released to the appraiser, refunded to the client, or split."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("dispute state", "Open")
        RESOLVED = "resolved", _("Resolved")

    class Outcome(models.TextChoices):
        RELEASE = "release", _("Fee released to the appraiser")
        REFUND = "refund", _("Fee refunded to the client")
        SPLIT = "split", _("Fee split between client and appraiser")

    appraisal = models.ForeignKey(Appraisal, on_delete=models.PROTECT, related_name="disputes")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"), max_length=5000)
    opened_at = models.DateTimeField(auto_now_add=True)
    answer_due = models.DateTimeField(_("the appraiser answers by"))
    answer = models.TextField(_("the appraiser's answer"), max_length=5000, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    # When staff were alerted that `answer_due` passed without an answer (beat; once per dispute).
    answer_overdue_alerted_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    refund_minor = models.PositiveBigIntegerField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "appraisal"], name="appraisal_dispute_one")]
        ordering = ["-opened_at", "-id"]
        verbose_name = _("appraisal dispute")
        verbose_name_plural = _("appraisal disputes")

    def __str__(self):
        return f"{self.appraisal} · {self.get_state_display()}"


def appraisal_evidence_path(instance, filename):
    from core.uploads import tenant_path

    return tenant_path(instance, "appraisal-disputes", instance.dispute_id, filename)


class AppraisalDisputeEvidence(TenantOwned):
    """A file one side attaches to an appraisal dispute (checked by content: PDF, PNG, JPEG)."""

    dispute = models.ForeignKey(AppraisalDispute, on_delete=models.CASCADE, related_name="evidence")
    party = models.CharField(max_length=10, help_text=_("client or appraiser"))
    file = models.FileField(upload_to=appraisal_evidence_path)
    name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self):
        return self.name or str(self.pk)

