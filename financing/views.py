"""Website pages of financing: the right's valuation page, pledge loan applications (holder, lender,
staff), the staff pipeline, appraisals. Views parse, call a selector or a service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import active_organization
from core.errors import DomainError, NotAllowed, ValidationFailed
from core.permissions import is_member
from core.storage import private_file_response
from core.tenancy import require_tenant
from escrow.payments import available_providers, get_provider
from rights.encumbrances import active_encumbrances
from rights.models import RegisterRecord
from transfers.services import recordal_record_notice, recordal_record_reference

from . import selectors, services
from .forms import (
    ApplicationForm,
    AppraisalDeliverForm,
    AppraisalOrderForm,
    ConfirmationForm,
    OfferForm,
    ReleaseSignForm,
    ServiceFeeRecordForm,
    SignForm,
    minor,
)
from .models import (
    ApplicationState,
    AppraisalDispute,
    AppraisalDisputeEvidence,
    FinancingDocumentKind,
    LoanOffer,
    OfferState,
)
from .services import loan_fees
from .services.common import is_lender, is_staff
from .valuation import labelled, valuate


def _minor(value, currency) -> int:
    try:
        return minor(value, currency)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field_errors={"amount": [str(exc)]}) from None


def _fail(request, exc: DomainError, form=None):
    messages.error(request, exc.message)
    if form is not None:
        for field, errors in (exc.field_errors or {}).items():
            if field in form.fields:
                for error in errors:
                    form.add_error(field, str(error))


def _pay(request, providers, start):
    """A fee's pay form posted (summary, method, second confirmation): the redirect to the checkout of the
    payment `start(provider)` opened, or None after saying what was wrong."""
    provider = request.POST.get("provider", "")
    try:
        if provider not in {p.name for p in providers}:
            raise ValidationFailed(_("Choose a payment method."))
        if request.POST.get("confirm") != "yes":
            raise ValidationFailed(_("Tick the box to confirm the payment."))
        payment = start(provider)
        return redirect(get_provider(payment.provider).checkout_url(payment, request=request))
    except DomainError as exc:
        _fail(request, exc)
    return None


# --- the right ------------------------------------------------------------------------------------

def right_detail(request, pk):
    """A right as the register records it, with its valuation indicators and recorded pledges."""
    record = get_object_or_404(RegisterRecord, pk=pk)
    appraisal = selectors.latest_appraisal([record])
    valuation = valuate([record], currency=require_tenant().currency, appraisal=appraisal)
    org = active_organization(request.user)
    owns = org is not None and selectors.rights_of(org).filter(pk=record.pk).exists()
    return render(request, "financing/right.html", {
        "record": record, "valuation": valuation, "pledges": active_encumbrances(record, kind="pledge"),
        "encumbrances": labelled(active_encumbrances(record)), "owns": owns, "records": [record],
    })


# --- applications ----------------------------------------------------------------------------------

@login_required
def dashboard(request):
    org = active_organization(request.user)
    applications = list(selectors.applications_visible(org)) if org else []
    appraisals = list(selectors.appraisals_visible(org)[:50]) if org else []
    return render(request, "financing/dashboard.html", {
        "org": org, "applications": applications, "is_lender": is_lender(org), "appraisals": appraisals,
        "is_staff": is_staff(request.user),
        "rights": list(selectors.rights_of(org)[:200]) if org else [],
    })


@login_required
def apply(request):
    org = active_organization(request.user)
    if org is None:
        messages.error(request, _("Join or register an organization in your account first."))
        return redirect("/account/")
    currency = require_tenant().currency
    records = list(selectors.rights_of(org)[:500])
    form = ApplicationForm(request.POST or None, records=records, currency=currency,
                           initial={"rights": [int(x) for x in request.GET.getlist("right") if x.isdigit()]})
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_create(
                actor=request.user, organization=org, record_ids=form.cleaned_data["rights"],
                amount_minor=_minor(form.cleaned_data["amount"], currency), currency=currency,
                term_months=form.cleaned_data["term_months"],
                purpose=form.cleaned_data["purpose"])
        except DomainError as exc:
            _fail(request, exc, form)
        else:
            messages.success(request, _("Application %(ref)s is open: banks and guarantors can now make offers.")
                             % {"ref": application.reference})
            return redirect(application.get_absolute_url())
    return render(request, "financing/apply.html", {"form": form, "org": org, "records": records})


@login_required
def application_detail(request, reference):
    application = selectors.application_for(reference=reference, user=request.user)
    role = selectors.viewer_role(application, user=request.user)
    lender = selectors.lender_org_of(application, request.user) if role in ("lender", "staff") else None
    see_all = role in ("applicant", "staff")
    contract = application.documents.filter(kind=FinancingDocumentKind.PLEDGE_CONTRACT).first()
    signatures = {s.party: s for s in contract.signatures.all()} if contract else {}
    release = application.documents.filter(kind=FinancingDocumentKind.RELEASE).first()
    release_signatures = {s.party: s for s in release.signatures.all()} if release else {}
    party = services.party_for(request.user, application)
    own_offer = next((o for o in selectors.offers_for(application, organization=lender)
                      if o.state == OfferState.OPEN), None) if lender else None
    terms = loan_fees.application_terms(application)
    offers = list(selectors.offers_for(application, organization=lender, see_all=see_all))
    for o in offers:  # the exchange's fee on each offer, shown before the borrower accepts one
        o.service_fee_quote = terms.fee(o.amount_minor, o.currency)
    fee_state = loan_fees.fee_state(application)
    return render(request, "financing/application.html", {
        "application": application, "role": role, "lender": lender, "party": party,
        "offers": offers, "fee_terms": terms, "fee_state": fee_state, "fee_payable": fee_state in ("due", "overdue"),
        "fee_min_applies": bool(terms.min_minor) and application.currency == terms.currency,
        "fee_form": ServiceFeeRecordForm(initial={"received_on": timezone.localdate()}),
        "own_offer": own_offer, "contract": contract, "signatures": signatures,
        "release": release, "release_signatures": release_signatures,
        "release_signed": len(release_signatures) == 2,
        "release_sign_form": ReleaseSignForm(initial={"sha256": release.sha256 if release else ""}),
        "pack": selectors.data_pack(application), "is_staff": is_staff(request.user),
        "offer_form": OfferForm(initial={"term_months": application.term_months}),
        "sign_form": SignForm(initial={"sha256": contract.sha256 if contract else ""}),
        "confirm_form": ConfirmationForm(), "S": ApplicationState,
        "is_accepted_lender": bool(application.accepted_offer_id and lender
                                   and lender.pk == application.accepted_offer.lender_org_id),
        "pending_filing": _pending_filing(application),
    })


def _act(request, reference, action):
    application = selectors.application_for(reference=reference, user=request.user)
    try:
        message = action(application)
    except DomainError as exc:
        _fail(request, exc)
    else:
        if message:
            messages.success(request, message)
    return redirect(application.get_absolute_url())


@login_required
@require_POST
def offer(request, reference):
    def do(application):
        lender = selectors.lender_org_of(application, request.user)
        if lender is None:
            raise NotAllowed(_("Only banks and guarantors listed by the exchange can make offers."))
        form = OfferForm(request.POST)
        if not form.is_valid():
            raise DomainError(" ".join(f"{form.fields[f].label}: {e[0]}" for f, e in form.errors.items()))
        services.offer_make(actor=request.user, organization=lender, application=application,
                            amount_minor=_minor(form.cleaned_data["amount"], application.currency),
                            rate_bps=int(form.cleaned_data["rate"] * 100), term_months=form.cleaned_data["term_months"],
                            conditions=form.cleaned_data["conditions"],
                            valid_days=form.cleaned_data.get("valid_days"))
        return _("Your offer is sent.")
    return _act(request, reference, do)


@login_required
@require_POST
def accept(request, reference, offer_id):
    def do(application):
        if request.POST.get("confirm") != "yes":
            raise DomainError(_("Tick the box to confirm that you accept this offer."))
        chosen = get_object_or_404(LoanOffer, pk=offer_id, application=application)
        services.offer_accept(actor=request.user, offer=chosen)
        return _("Offer accepted. Read and sign the pledge contract.")
    return _act(request, reference, do)


@login_required
@require_POST
def sign(request, reference):
    def do(application):
        form = SignForm(request.POST)
        kind = (FinancingDocumentKind.RELEASE if request.POST.get("document") == "release"
                else FinancingDocumentKind.PLEDGE_CONTRACT)
        services.contract_sign(actor=request.user, application=application,
                               typed_name=request.POST.get("typed_name", ""),
                               consent=request.POST.get("consent") in ("on", "true", "1"),
                               ip_address=request.META.get("REMOTE_ADDR"),
                               shown_sha256=form.data.get("sha256", ""), kind=kind)
        return _("Signed.")
    return _act(request, reference, do)


@login_required
@require_POST
def withdraw(request, reference):
    return _act(request, reference, lambda a: services.application_withdraw(actor=request.user, application=a)
                and _("The application is withdrawn."))


def _confirmation(request):
    form = ConfirmationForm(request.POST)
    if not form.is_valid():
        raise DomainError(_("Enter the date of the confirmation."))
    return form.cleaned_data


@login_required
@require_POST
def disbursed(request, reference):
    """The lender confirms the loan was paid out: the first POST shows the summary (amount, date, the
    exchange's fee it charges the borrower), the second (confirm=yes, with the fee the lender saw) records
    it and charges the fee."""
    application = selectors.application_for(reference=reference, user=request.user)
    offer = application.accepted_offer
    if offer is None or not is_member(request.user, offer.lender_org):
        raise Http404
    try:
        data = _confirmation(request)
        amount_minor = _minor(data["amount"], application.currency)
        if amount_minor <= 0:
            raise ValidationFailed(_("Enter the amount paid out."))
        fee = loan_fees.application_terms(application).fee(amount_minor, application.currency)
        if request.POST.get("confirm") != "yes":
            return render(request, "financing/disbursement_confirm.html", {
                "application": application, "data": data, "amount_minor": amount_minor, "fee_minor": fee,
                "terms": loan_fees.application_terms(application)})
        expected = request.POST.get("expected_fee_minor", "")
        if not expected.isdigit() or int(expected) != fee:
            raise ValidationFailed(_("The exchange's fee changed since the summary was shown; check it again."))
        services.loan_confirm_disbursement(actor=request.user, application=application, disbursed_on=data["on"],
                                           amount_minor=amount_minor, reference=data["reference"])
        messages.success(request, _("Disbursement recorded."))
    except DomainError as exc:
        _fail(request, exc)
    return redirect(application.get_absolute_url() + "#loan")


@login_required
@require_POST
def repaid(request, reference):
    def do(application):
        data = _confirmation(request)
        services.loan_confirm_repayment(actor=request.user, application=application, repaid_on=data["on"],
                                        reference=data["reference"])
        return _("Repayment recorded; the exchange will file the pledge release.")
    return _act(request, reference, do)


@login_required
@require_POST
def file_pledge(request, reference):
    return _act(request, reference, lambda a: services.pledge_file(actor=request.user, application=a)
                and _("Pledge registration filed with the office."))


@login_required
@require_POST
def file_release(request, reference):
    return _act(request, reference, lambda a: services.release_file(actor=request.user, application=a)
                and _("Pledge release filed with the office."))


def _pending_filing(application):
    if application.state == ApplicationState.PLEDGE_FILED:
        return application.pledge_filing
    if application.state == ApplicationState.RELEASE_FILED:
        return application.release_filing
    return None


@login_required
@require_POST
def record_reference(request, reference):
    """Real offices (manual adapter): staff submitted the package and record the office's reference."""
    def do(application):
        filing = _pending_filing(application)
        if filing is None:
            raise DomainError(_("No filing of this application awaits the office."))
        recordal_record_reference(filing=filing, actor=request.user, reference=request.POST.get("reference", ""))
        return _("Office reference recorded.")
    return _act(request, reference, do)


@login_required
@require_POST
def record_notice(request, reference):
    """Real offices: staff record the office's decision (approval or rejection) from its notice."""
    def do(application):
        filing = _pending_filing(application)
        if filing is None:
            raise DomainError(_("No filing of this application awaits the office."))
        recordal_record_notice(filing=filing, actor=request.user, kind=request.POST.get("kind", ""),
                               number=request.POST.get("number", ""), text=request.POST.get("text", ""))
        return _("The office's decision is recorded.")
    return _act(request, reference, do)


@login_required
def contract_pdf(request, reference, kind=FinancingDocumentKind.PLEDGE_CONTRACT):
    application = selectors.application_for(reference=reference, user=request.user)
    document = application.documents.filter(kind=kind).first()
    if document is None:
        raise Http404
    name = "pledge-release" if kind == FinancingDocumentKind.RELEASE else "pledge-contract"
    return private_file_response(document.file, content_type="application/pdf",
                                 filename=f"{name}-{application.reference}.pdf")


@login_required
def staff_pipeline(request):
    if not is_staff(request.user):
        raise Http404
    counts, rows = selectors.pipeline()
    order = [ApplicationState.OPEN, ApplicationState.ACCEPTED, ApplicationState.SIGNED, ApplicationState.PLEDGE_FILED,
             ApplicationState.PLEDGED, ApplicationState.RELEASE_FILED, ApplicationState.RELEASED,
             ApplicationState.WITHDRAWN, ApplicationState.EXPIRED]
    top = max(counts.values(), default=1)
    stages = [{"state": s, "label": s.label, "n": counts.get(s, 0), "pct": round(100 * counts.get(s, 0) / top)}
              for s in order]
    return render(request, "financing/staff_pipeline.html", {"stages": stages, "rows": rows, "S": ApplicationState,
                                                             "disputed": selectors.appraisal_disputes_open(),
                                                             "fees_due": selectors.service_fees_due(),
                                                             "today": timezone.localdate()})


# --- the exchange's service fee on a loan ------------------------------------------------------------

@login_required
def service_fee_pay(request, reference):
    """The borrower pays the service fee: a summary (loan, rate, fee, due date, what the money is for),
    the payment method, a second confirmation; then the provider's own page."""
    application = selectors.application_for(reference=reference, user=request.user)
    org = active_organization(request.user)
    if org is None or org.pk != application.applicant_org_id:
        raise Http404
    back = application.get_absolute_url()
    if loan_fees.fee_state(application) not in ("due", "overdue"):
        messages.info(request, _("No service fee is due on this loan."))
        return redirect(back)
    providers = available_providers(request.tenant, currency=application.currency)
    if request.method == "POST" and (checkout := _pay(request, providers, lambda provider: services.service_fee_pay_start(
            actor=request.user, application=application, provider=provider))):
        return checkout
    return render(request, "financing/service_fee_pay.html", {
        "application": application, "providers": providers, "terms": loan_fees.application_terms(application),
        "fee_state": loan_fees.fee_state(application)})


@login_required
@require_POST
def service_fee_record(request, reference):
    """Staff record that the fee reached the exchange's account outside the gateway: the first POST shows
    the summary, the second (confirm=yes, with the fee the officer saw) records it."""
    application = selectors.application_for(reference=reference, user=request.user)
    if not is_staff(request.user):
        raise Http404
    back = application.get_absolute_url()
    form = ServiceFeeRecordForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back + "#loan")
    data = form.cleaned_data
    try:
        if request.POST.get("confirm") != "yes":
            if loan_fees.fee_state(application) not in ("due", "overdue"):
                raise ValidationFailed(_("No service fee is due on this loan."))
            return render(request, "financing/service_fee_record.html", {
                "application": application, "data": data, "terms": loan_fees.application_terms(application)})
        expected = request.POST.get("expected_minor", "")
        services.service_fee_record_paid(actor=request.user, application=application,
                                         received_on=data["received_on"], bank_reference=data["bank_reference"],
                                         expected_minor=int(expected) if expected.isdigit() else None)
        messages.success(request, _("The service fee is recorded as paid; the borrower is told."))
    except DomainError as exc:
        _fail(request, exc)
    return redirect(back + "#loan")


# --- appraisals ------------------------------------------------------------------------------------

@login_required
def appraisal_new(request):
    org = active_organization(request.user)
    if org is None:
        raise Http404
    records = list(selectors.rights_of(org)[:500])
    form = AppraisalOrderForm(request.POST or None, records=records)
    if request.method == "POST" and form.is_valid():
        try:
            appraisal = services.appraisal_order(actor=request.user, organization=org,
                                                 appraiser=form.cleaned_data["appraiser"],
                                                 record_ids=form.cleaned_data["rights"])
        except DomainError as exc:
            _fail(request, exc, form)
        else:
            return redirect(f"/financing/appraisals/{appraisal.reference}/")
    return render(request, "financing/appraisal_new.html", {"form": form})


def _appraisal_providers(tenant, currency) -> list:
    """The payment methods offered for a fee: escrow's gateway, bank transfer only where the exchange
    has an account in the currency."""
    return available_providers(tenant, currency=currency)


@login_required
def appraisal_detail(request, reference):
    appraisal = selectors.appraisal_for(reference=reference, user=request.user)
    org = active_organization(request.user)
    form = AppraisalDeliverForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        action = request.POST.get("action", "deliver")
        try:
            if action == "accept":
                if request.POST.get("confirm") != "yes":
                    raise ValidationFailed(_("Tick the box to confirm that you accept the report."))
                services.appraisal_accept(actor=request.user, appraisal=appraisal)
                messages.success(request, _("Report accepted; the fee is released to the appraiser."))
            elif action == "cancel":
                if request.POST.get("confirm") != "yes":
                    raise ValidationFailed(_("Tick the box to confirm the cancellation."))
                services.appraisal_cancel(actor=request.user, appraisal=appraisal,
                                          reason=request.POST.get("reason", "")[:500])
                messages.success(request, _("Appraisal cancelled; any fee held is refunded."))
            elif action == "dispute":
                services.appraisal_dispute_open(actor=request.user, appraisal=appraisal,
                                                reason=request.POST.get("reason", ""),
                                                files=request.FILES.getlist("files"))
                messages.success(request, _("Dispute opened. The fee stays in escrow until staff decide."))
            elif action == "answer":
                services.appraisal_dispute_answer(actor=request.user, appraisal=appraisal,
                                                  text=request.POST.get("answer", ""),
                                                  files=request.FILES.getlist("files"))
                messages.success(request, _("Your answer is recorded; staff will decide."))
            else:
                report = request.FILES.get("report")
                if report is None:
                    raise ValidationFailed(_("Attach the signed report (PDF)."))
                value = request.POST.get("value", "")
                services.appraisal_deliver(actor=request.user, appraisal=appraisal, report=report,
                                           value_minor=_minor(value, appraisal.currency),
                                           value_date=form.fields["value_date"].clean(request.POST.get("value_date")))
                messages.success(request, _("Report delivered. The fee is released to you when the client accepts "
                                            "it or the dispute period ends."))
            return redirect(request.path)
        except DomainError as exc:
            _fail(request, exc)
        except (ValueError, ValidationError) as exc:  # the amount or the date did not parse
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return render(request, "financing/appraisal.html", _appraisal_context(request, appraisal, org, form=form))


def _appraisal_context(request, appraisal, org, **extra) -> dict:
    records = list(RegisterRecord.objects.filter(pk__in=appraisal.record_ids))
    dispute = (appraisal.disputes.select_related("opened_by", "answered_by", "resolved_by")
               .prefetch_related("evidence").first())
    return {"appraisal": appraisal, "records": records, "dispute": dispute,
            "is_orderer": org is not None and org.pk == appraisal.organization_id,
            "is_appraiser": org is not None and org.pk == appraisal.appraiser.organization_id,
            "is_staff": is_staff(request.user), "Outcome": AppraisalDispute.Outcome,
            "can_dispute": appraisal.state == "delivered" and appraisal.dispute_due is not None
            and timezone.now() <= appraisal.dispute_due, **extra}


@login_required
def appraisal_pay(request, reference):
    """The fee's payment page: a summary (what, to whom, how much, what happens to the money), the
    payment method, and a second confirmation; then the provider's own page."""
    appraisal = selectors.appraisal_for(reference=reference, user=request.user)
    org = active_organization(request.user)
    if org is None or org.pk != appraisal.organization_id:
        raise Http404
    if appraisal.state != "ordered":
        messages.info(request, _("There is nothing to pay for this appraisal."))
        return redirect(f"/financing/appraisals/{appraisal.reference}/")
    providers = _appraisal_providers(request.tenant, appraisal.currency)
    if request.method == "POST" and (checkout := _pay(request, providers, lambda provider: services.appraisal_pay_start(
            actor=request.user, appraisal=appraisal, provider=provider))):
        return checkout
    records = list(RegisterRecord.objects.filter(pk__in=appraisal.record_ids))
    return render(request, "financing/appraisal_pay.html", {
        "appraisal": appraisal, "records": records, "providers": providers,
        "commission_bps": getattr(settings, "APPRAISAL_COMMISSION_BPS", 1000),
        "dispute_days": getattr(settings, "APPRAISAL_DISPUTE_DAYS", 14)})


@login_required
@require_POST
def appraisal_settle(request, reference):
    """Staff settle a dispute: the first POST shows the summary (who gets what), the second (confirm=yes,
    with the refund the officer saw) settles it."""
    appraisal = selectors.appraisal_for(reference=reference, user=request.user)
    if not is_staff(request.user):
        raise Http404
    outcome = request.POST.get("outcome", "")
    note = request.POST.get("note", "")
    back = f"/financing/appraisals/{appraisal.reference}/"
    try:
        refund = request.POST.get("refund", "").strip()
        refund_minor = _minor(refund, appraisal.currency) if refund and outcome == "split" else None
        summary = services.settlement_summary(appraisal, outcome=outcome, refund_minor=refund_minor)
        if request.POST.get("confirm") != "yes":
            return render(request, "financing/appraisal_settle.html", {
                "appraisal": appraisal, "summary": summary, "outcome_label": AppraisalDispute.Outcome(outcome).label,
                "note": note, "refund": refund})
        expected = request.POST.get("expected_refund_minor", "")
        services.appraisal_dispute_settle(actor=request.user, appraisal=appraisal, outcome=outcome, note=note,
                                          refund_minor=refund_minor,
                                          expected_refund_minor=int(expected) if expected.isdigit() else None)
        messages.success(request, _("Dispute settled; both sides are told."))
    except DomainError as exc:
        _fail(request, exc)
    return redirect(back)


@login_required
def appraisal_evidence(request, reference, evidence_id):
    """An evidence file of the appraisal's dispute: for the client, the appraiser and staff only."""
    appraisal = selectors.appraisal_for(reference=reference, user=request.user)
    evidence = get_object_or_404(AppraisalDisputeEvidence, pk=evidence_id, dispute__appraisal=appraisal)
    return private_file_response(evidence.file, content_type=evidence.content_type, as_attachment=True,
                                 filename=evidence.name or f"evidence-{evidence.pk}")


@login_required
def appraisal_report(request, reference):
    appraisal = selectors.appraisal_for(reference=reference, user=request.user)
    if not appraisal.report:
        raise Http404
    return private_file_response(appraisal.report, content_type="application/pdf",
                                 filename=f"appraisal-{appraisal.reference}.pdf")
