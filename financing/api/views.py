"""Financing in the partner API: valuation indicators, pledge loan applications (holder and lender),
the pledge contract, the bank's confirmations, appraisals. Views only call financing selectors and
services; the key acts for its organization."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import parsers, serializers, status
from rest_framework.response import Response

from core.api.base import PartnerAPIView
from core.api.pagination import paginated
from core.errors import NotFound, ValidationFailed
from core.money import format_money
from core.storage import private_file_response
from escrow.payments import available_providers, get_provider
from escrow.payments.bank_transfer import bank_details
from financing import selectors, services
from financing.models import (
    Appraisal,
    AppraisalDisputeEvidence,
    FinancePartner,
    FinancingDocumentKind,
    LoanOffer,
    PartnerKind,
)
from financing.services import loan_fees
from financing.valuation import valuate, valuate_listing
from listings.models import Listing
from listings.selectors import listing_for_viewer
from partners.models import Scope
from rights.models import Jurisdiction, RightKind
from rights.registry import get_register

VALUATION = ["valuation"]
FINANCING = ["financing"]


class IndicatorSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField(help_text="The indicator, in the key's language")
    value = serializers.CharField(help_text="What was found, in words")
    explanation = serializers.CharField(help_text="What it means and how it was worked out, in plain words")
    inputs = serializers.DictField(help_text="The figures it used")
    status = serializers.ChoiceField(choices=["ok", "warn", "bad", "info"])


class ValueRangeSerializer(serializers.Serializer):
    low_minor = serializers.IntegerField()
    central_minor = serializers.IntegerField()
    high_minor = serializers.IntegerField()
    currency = serializers.CharField()
    confidence = serializers.ChoiceField(choices=["low", "medium", "high"])
    method = serializers.CharField()


class ValuationSerializer(serializers.Serializer):
    method = serializers.CharField()
    currency = serializers.CharField()
    rights = serializers.ListField(child=serializers.CharField())
    indicators = IndicatorSerializer(many=True)
    value_range = ValueRangeSerializer(allow_null=True, help_text="Null when there is not enough evidence")
    minimum_comparables = serializers.IntegerField()


class RightValuationApi(PartnerAPIView):
    """Valuation indicators of a right found by its number (any accepted form)."""

    class FilterSerializer(serializers.Serializer):
        number = serializers.CharField(max_length=100)
        jurisdiction = serializers.ChoiceField(choices=Jurisdiction.choices, required=False)
        kind = serializers.ChoiceField(choices=RightKind.choices, required=False)

    @extend_schema(operation_id="valuation_right", tags=VALUATION, parameters=[FilterSerializer],
                   responses=ValuationSerializer, summary="Valuation indicators of a right")
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        lookup = get_register().lookup(data["number"], jurisdiction=data.get("jurisdiction"), kind=data.get("kind"))
        if lookup.record is None:
            raise (NotFound if lookup.parsed else ValidationFailed)(
                lookup.error or "Not in the register.", field_errors={"number": [str(lookup.error)]})
        appraisal = selectors.latest_appraisal([lookup.record])
        valuation = valuate([lookup.record], currency=self.api_key.tenant.currency, appraisal=appraisal)
        return Response(ValuationSerializer(valuation.as_dict()).data)


class ListingValuationApi(PartnerAPIView):
    @extend_schema(operation_id="listings_valuation", tags=VALUATION, responses=ValuationSerializer,
                   summary="Valuation indicators of a listing's right or package")
    def get(self, request, pk):
        own = Listing.objects.filter(pk=pk, seller_org=self.organization).first()
        listing = own or listing_for_viewer(pk=pk, user=None)  # others see public listings only
        return Response(ValuationSerializer(valuate_listing(listing).as_dict()).data)


# --- applications ----------------------------------------------------------------------------------

class LoanOfferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lender = serializers.CharField(source="lender_org.legal_name")
    lender_kind = serializers.CharField()
    amount_minor = serializers.IntegerField()
    currency = serializers.CharField()
    rate_bps = serializers.IntegerField(help_text="Annual interest rate in basis points (1% = 100)")
    term_months = serializers.IntegerField()
    conditions = serializers.CharField()
    state = serializers.CharField(help_text="open, accepted, declined (another was chosen), withdrawn, expired")
    expires_at = serializers.DateTimeField(allow_null=True, help_text="Valid until (then it expires)")
    created_at = serializers.DateTimeField()
    service_fee_minor = serializers.SerializerMethodField(
        help_text="The exchange's service fee the borrower pays if this offer is accepted and paid out in full "
                  "(the exchange's terms: rate of the amount paid out, with a minimum)")

    @extend_schema_field(OpenApiTypes.INT)
    def get_service_fee_minor(self, obj) -> int:
        quote = getattr(obj, "service_fee_quote", None)
        if quote is None:
            quote = loan_fees.application_terms(obj.application).fee(obj.amount_minor, obj.currency)
        return int(quote)


class RightRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="record.pk")
    number = serializers.SerializerMethodField()
    kind = serializers.CharField(source="record.kind")
    title = serializers.CharField(source="record.title")
    owner_name = serializers.CharField(source="record.owner_name")
    legal_status = serializers.CharField(source="record.legal_status")
    expiry = serializers.DateField(allow_null=True)
    fees_paid_through = serializers.DateField(allow_null=True)
    encumbrances = serializers.ListField(child=serializers.DictField())

    def get_number(self, row) -> str:
        return f"{row['record'].jurisdiction} {row['record'].number}"


class FilingSerializer(serializers.Serializer):
    kind = serializers.CharField()
    office = serializers.CharField()
    status = serializers.CharField()
    reference = serializers.CharField()
    filed_at = serializers.DateTimeField(allow_null=True)
    notice_number = serializers.CharField()


class ApplicationSerializer(serializers.Serializer):
    reference = serializers.CharField()
    state = serializers.CharField()
    applicant = serializers.CharField(source="applicant_org.legal_name")
    amount_minor = serializers.IntegerField()
    currency = serializers.CharField()
    term_months = serializers.IntegerField()
    purpose = serializers.CharField()
    secured_until = serializers.DateField(allow_null=True)
    offers_due = serializers.DateTimeField(allow_null=True, help_text="An offer must be accepted by then, or the "
                                                                      "application expires")
    created_at = serializers.DateTimeField()


class ApplicationDetailSerializer(ApplicationSerializer):
    rights = RightRowSerializer(many=True)
    valuation = ValuationSerializer()
    offers = LoanOfferSerializer(many=True)
    accepted_offer = serializers.IntegerField(allow_null=True)
    contract = serializers.DictField(allow_null=True)
    release_agreement = serializers.DictField(allow_null=True, help_text="The pledge release agreement, once the "
                                                                        "lender confirmed repayment: both sign it")
    pledge_filing = FilingSerializer(allow_null=True)
    release_filing = FilingSerializer(allow_null=True)
    disbursed_on = serializers.DateField(allow_null=True)
    disbursed_amount_minor = serializers.IntegerField(allow_null=True)
    service_fee_minor = serializers.IntegerField(help_text="The exchange's service fee charged on the disbursement "
                                                          "(0 until the lender confirms it)")
    service_fee_bps = serializers.IntegerField(allow_null=True, help_text="The fee's rate the borrower accepted")
    service_fee_min_minor = serializers.IntegerField(help_text="The fee's minimum the borrower accepted")
    service_fee_state = serializers.ChoiceField(choices=["none", "due", "overdue", "paid"])
    service_fee_due_on = serializers.DateField(allow_null=True)
    service_fee_paid_at = serializers.DateTimeField(allow_null=True)
    service_fee_paid_via = serializers.CharField(help_text="simulated, stripe, bank_transfer (through the payment "
                                                           "gateway) or recorded (staff recorded a bank transfer)")
    repaid_on = serializers.DateField(allow_null=True)


def _offers_with_fee(application, org, see_all) -> list:
    terms = loan_fees.application_terms(application)
    offers = selectors.offers_for(application, organization=org, see_all=see_all)
    for o in offers:
        o.service_fee_quote = terms.fee(o.amount_minor, o.currency)
    return offers


def _detail(view, application) -> dict:
    org = view.organization
    pack = selectors.data_pack(application)
    contract = application.documents.filter(kind=FinancingDocumentKind.PLEDGE_CONTRACT).first()
    release = application.documents.filter(kind=FinancingDocumentKind.RELEASE).first()
    see_all = application.applicant_org_id == org.pk
    return {
        **{f: getattr(application, f) for f in ("reference", "state", "applicant_org", "amount_minor", "currency",
                                                "term_months", "purpose", "secured_until", "offers_due", "created_at",
                                                "disbursed_on", "disbursed_amount_minor", "service_fee_minor",
                                                "service_fee_bps", "service_fee_min_minor", "service_fee_due_on",
                                                "service_fee_paid_at", "service_fee_paid_via",
                                                "repaid_on", "pledge_filing", "release_filing")},
        "service_fee_state": loan_fees.fee_state(application),
        "rights": pack["rights"], "valuation": pack["valuation"].as_dict(),
        "offers": _offers_with_fee(application, org, see_all),
        "accepted_offer": application.accepted_offer_id,
        "contract": None if contract is None else {
            "sha256": contract.sha256,
            "download_url": f"/api/v1/financing/applications/{application.reference}/contract",
            "signatures": [{"party": s.party, "typed_name": s.typed_name, "signed_at": s.signed_at.isoformat()}
                           for s in contract.signatures.all()]},
        "release_agreement": None if release is None else {
            "sha256": release.sha256,
            "download_url": f"/api/v1/financing/applications/{application.reference}/release-agreement",
            "signatures": [{"party": s.party, "typed_name": s.typed_name, "signed_at": s.signed_at.isoformat()}
                           for s in release.signatures.all()]},
    }


def _application(view, reference):
    return selectors.application_for(reference=reference, organization=view.organization)


class ApplicationListCreateApi(PartnerAPIView):
    write_scope = Scope.FINANCING

    class InputSerializer(serializers.Serializer):
        rights = serializers.ListField(child=serializers.IntegerField(), min_length=1,
                                       help_text="Register record ids of the rights to pledge (see register/lookup)")
        amount_minor = serializers.IntegerField(min_value=1)
        term_months = serializers.IntegerField(min_value=1, max_value=120)
        purpose = serializers.CharField(max_length=2000)

    @extend_schema(operation_id="financing_applications_list", tags=FINANCING,
                   responses=paginated(ApplicationSerializer),
                   summary="Your applications; for a listed bank or guarantor also the open ones and those you offered on")
    def get(self, request):
        return self.paginate(selectors.applications_visible(self.organization), ApplicationSerializer,
                             ordering=("-created_at", "-id"))

    @extend_schema(operation_id="financing_applications_create", tags=FINANCING, request=InputSerializer,
                   responses={201: ApplicationDetailSerializer}, summary="Apply for a loan secured on your rights")
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        application = services.application_create(
            actor=self.actor, organization=self.organization, record_ids=v["rights"], amount_minor=v["amount_minor"],
            currency=self.api_key.tenant.currency, term_months=v["term_months"], purpose=v["purpose"])
        return Response(ApplicationDetailSerializer(_detail(self, application)).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/v1/financing/applications/{application.reference}"})


class ApplicationDetailApi(PartnerAPIView):
    @extend_schema(operation_id="financing_applications_read", tags=FINANCING, responses=ApplicationDetailSerializer,
                   summary="An application with its data pack (rights, status, valuation, appraisal) and offers")
    def get(self, request, reference):
        return Response(ApplicationDetailSerializer(_detail(self, _application(self, reference))).data)


class ApplicationWithdrawApi(PartnerAPIView):
    write_scope = Scope.FINANCING

    @extend_schema(operation_id="financing_applications_withdraw", tags=FINANCING, request=None,
                   responses=ApplicationDetailSerializer, summary="Holder: withdraw the application")
    def post(self, request, reference):
        application = services.application_withdraw(actor=self.actor, application=_application(self, reference))
        return Response(ApplicationDetailSerializer(_detail(self, application)).data)


class OfferCreateApi(PartnerAPIView):
    write_scope = Scope.FINANCING

    class InputSerializer(serializers.Serializer):
        amount_minor = serializers.IntegerField(min_value=1)
        rate_bps = serializers.IntegerField(min_value=0, max_value=5000, help_text="Annual rate, 1% = 100")
        term_months = serializers.IntegerField(min_value=1, max_value=120)
        conditions = serializers.CharField(max_length=4000, required=False, allow_blank=True)
        valid_days = serializers.IntegerField(min_value=1, max_value=90, required=False,
                                              help_text="How long the offer stands (default: the exchange's, 14)")

    @extend_schema(operation_id="financing_offers_create", tags=FINANCING, request=InputSerializer,
                   responses={201: LoanOfferSerializer}, summary="Bank or guarantor: make (or replace) your offer")
    def post(self, request, reference):
        application = _application(self, reference)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        offer = services.offer_make(actor=self.actor, organization=self.organization, application=application,
                                    **data.validated_data)
        return Response(LoanOfferSerializer(offer).data, status=status.HTTP_201_CREATED)


class OfferAcceptApi(PartnerAPIView):
    write_scope = Scope.FINANCING

    @extend_schema(operation_id="financing_offers_accept", tags=FINANCING, request=None,
                   responses=ApplicationDetailSerializer, summary="Holder: accept an offer (the contract is generated)")
    def post(self, request, reference, pk):
        application = _application(self, reference)
        offer = LoanOffer.objects.filter(pk=pk, application=application).first()
        if offer is None:
            raise Http404
        application = services.offer_accept(actor=self.actor, offer=offer)
        return Response(ApplicationDetailSerializer(_detail(self, application)).data)


def _document_pdf(application, kind, name):
    """A paper of the application as a download, streamed (the partner's Authorization header must not
    follow a redirect to the store)."""
    document = application.documents.filter(kind=kind).first()
    if document is None:
        raise Http404
    return private_file_response(document.file, content_type="application/pdf", as_attachment=True,
                                 filename=f"{name}-{application.reference}.pdf", redirect=False)


class ContractFileApi(PartnerAPIView):
    @extend_schema(operation_id="financing_contract_download", tags=FINANCING,
                   responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF")},
                   summary="Download the pledge contract (PDF)")
    def get(self, request, reference):
        return _document_pdf(_application(self, reference), FinancingDocumentKind.PLEDGE_CONTRACT, "pledge-contract")


class ContractSignApi(PartnerAPIView):
    write_scope = Scope.FINANCING

    class InputSerializer(serializers.Serializer):
        typed_name = serializers.CharField(max_length=150)
        consent = serializers.BooleanField()
        sha256 = serializers.RegexField(r"^[0-9a-f]{64}$", required=False)

    @extend_schema(operation_id="financing_contract_sign", tags=FINANCING, request=InputSerializer,
                   responses=ApplicationDetailSerializer, summary="Sign the pledge contract for your side")
    def post(self, request, reference):
        application = _application(self, reference)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        services.contract_sign(actor=self.actor, application=application, typed_name=v["typed_name"],
                               consent=v["consent"], ip_address=request.META.get("REMOTE_ADDR"),
                               shown_sha256=v.get("sha256", ""))
        application.refresh_from_db()
        return Response(ApplicationDetailSerializer(_detail(self, application)).data)


class ReleaseAgreementFileApi(PartnerAPIView):
    @extend_schema(operation_id="financing_release_agreement_download", tags=FINANCING,
                   responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF")},
                   summary="Download the pledge release agreement (PDF), generated when the lender confirms repayment")
    def get(self, request, reference):
        return _document_pdf(_application(self, reference), FinancingDocumentKind.RELEASE, "pledge-release")


class ReleaseAgreementSignApi(PartnerAPIView):
    write_scope = Scope.FINANCING

    @extend_schema(operation_id="financing_release_agreement_sign", tags=FINANCING,
                   request=ContractSignApi.InputSerializer, responses=ApplicationDetailSerializer,
                   summary="Sign the pledge release agreement for your side (both sign before the release is filed)")
    def post(self, request, reference):
        application = _application(self, reference)
        data = ContractSignApi.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        services.contract_sign(actor=self.actor, application=application, typed_name=v["typed_name"],
                               consent=v["consent"], ip_address=request.META.get("REMOTE_ADDR"),
                               shown_sha256=v.get("sha256", ""), kind=FinancingDocumentKind.RELEASE)
        application.refresh_from_db()
        return Response(ApplicationDetailSerializer(_detail(self, application)).data)


class ConfirmationSerializer(serializers.Serializer):
    on = serializers.DateField()
    amount_minor = serializers.IntegerField(min_value=1, required=False)
    reference = serializers.CharField(max_length=80, required=False, allow_blank=True)


class DisbursementApi(PartnerAPIView):
    write_scope = Scope.FINANCING

    @extend_schema(operation_id="financing_disbursement_confirm", tags=FINANCING, request=ConfirmationSerializer,
                   responses=ApplicationDetailSerializer, summary="Lender: confirm the loan was paid out")
    def post(self, request, reference):
        application = _application(self, reference)
        data = ConfirmationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        application = services.loan_confirm_disbursement(
            actor=self.actor, application=application, disbursed_on=v["on"], amount_minor=v.get("amount_minor") or 0,
            reference=v.get("reference", ""))
        return Response(ApplicationDetailSerializer(_detail(self, application)).data)


class RepaymentApi(PartnerAPIView):
    write_scope = Scope.FINANCING

    @extend_schema(operation_id="financing_repayment_confirm", tags=FINANCING, request=ConfirmationSerializer,
                   responses=ApplicationDetailSerializer, summary="Lender: confirm the loan is repaid")
    def post(self, request, reference):
        application = _application(self, reference)
        data = ConfirmationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        application = services.loan_confirm_repayment(actor=self.actor, application=application, repaid_on=v["on"],
                                                      reference=v.get("reference", ""))
        return Response(ApplicationDetailSerializer(_detail(self, application)).data)


# --- appraisals ------------------------------------------------------------------------------------

class EvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    party = serializers.CharField(help_text="client or appraiser")
    name = serializers.CharField()
    content_type = serializers.CharField()
    uploaded_at = serializers.DateTimeField()
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, obj) -> str:
        return f"/api/v1/financing/appraisals/{obj.dispute.appraisal.reference}/dispute/evidence/{obj.pk}"


class AppraisalDisputeSerializer(serializers.Serializer):
    state = serializers.CharField()
    reason = serializers.CharField()
    opened_at = serializers.DateTimeField()
    answer_due = serializers.DateTimeField()
    answer = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField(help_text="release | refund | split, once settled")
    refund_minor = serializers.IntegerField(allow_null=True, help_text="Refunded to the client, once settled")
    resolution_note = serializers.CharField()
    evidence = EvidenceSerializer(many=True, source="evidence.all",
                                  help_text="Files both sides attached (PDF, PNG, JPEG), for the client, the "
                                            "appraiser and staff only")


class AppraisalSerializer(serializers.Serializer):
    reference = serializers.CharField()
    state = serializers.CharField(help_text="ordered → paid → delivered → completed | disputed → completed | "
                                            "refunded; cancelled")
    organization = serializers.CharField(source="organization.legal_name")
    appraiser = serializers.CharField(source="appraiser.organization.legal_name")
    record_ids = serializers.ListField(child=serializers.IntegerField())
    fee_minor = serializers.IntegerField()
    currency = serializers.CharField()
    value_minor = serializers.IntegerField(allow_null=True)
    value_date = serializers.DateField(allow_null=True)
    report_sha256 = serializers.CharField()
    report_signer = serializers.CharField(help_text="Subject of the certificate that signed the report")
    report_signer_issuer = serializers.CharField()
    report_signed_at = serializers.DateTimeField(allow_null=True)
    dispute_due = serializers.DateTimeField(allow_null=True, help_text="The client may dispute the report until")
    dispute = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(AppraisalDisputeSerializer(allow_null=True))
    def get_dispute(self, obj):
        dispute = obj.disputes.first()
        return AppraisalDisputeSerializer(dispute).data if dispute else None


class FeePaymentSerializer(serializers.Serializer):
    reference = serializers.CharField()
    provider = serializers.CharField()
    state = serializers.CharField()
    amount_minor = serializers.IntegerField()
    currency = serializers.CharField()


class FeePaymentStartedSerializer(serializers.Serializer):
    payment = FeePaymentSerializer()
    instructions = serializers.DictField(child=serializers.CharField(), allow_null=True,
                                         help_text="Bank transfer: account_name, bank, account_number, swift, amount, "
                                                   "currency, reference (quote it on the transfer)")
    checkout_url = serializers.CharField(allow_blank=True, help_text="Other methods: the page to pay on")


def _appraisal(view, reference) -> Appraisal:
    return selectors.appraisal_for(reference=reference, organization=view.organization)


class AppraisalListCreateApi(PartnerAPIView):
    write_scope = Scope.FINANCING

    class InputSerializer(serializers.Serializer):
        appraiser = serializers.IntegerField(help_text="Id of an appraiser listed by the exchange")
        rights = serializers.ListField(child=serializers.IntegerField(), min_length=1)

    @extend_schema(operation_id="financing_appraisals_list", tags=FINANCING, responses=paginated(AppraisalSerializer),
                   summary="Appraisals you ordered, or (appraisers) were asked for")
    def get(self, request):
        return self.paginate(selectors.appraisals_visible(self.organization), AppraisalSerializer,
                             ordering=("-created_at", "-id"))

    @extend_schema(operation_id="financing_appraisals_create", tags=FINANCING, request=InputSerializer,
                   responses={201: AppraisalSerializer}, summary="Order a formal appraisal")
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appraiser = FinancePartner.objects.filter(pk=data.validated_data["appraiser"], kind=PartnerKind.APPRAISER,
                                                  is_active=True).first()
        if appraiser is None:
            raise ValidationFailed("Choose an appraiser listed by the exchange.",
                                   field_errors={"appraiser": ["Not a listed appraiser."]})
        appraisal = services.appraisal_order(actor=self.actor, organization=self.organization, appraiser=appraiser,
                                             record_ids=data.validated_data["rights"])
        return Response(AppraisalSerializer(appraisal).data, status=status.HTTP_201_CREATED)


class AppraisalDetailApi(PartnerAPIView):
    @extend_schema(operation_id="financing_appraisals_read", tags=FINANCING, responses=AppraisalSerializer,
                   summary="An appraisal")
    def get(self, request, reference):
        return Response(AppraisalSerializer(_appraisal(self, reference)).data)


class AppraisalPayApi(PartnerAPIView):
    write_scope = Scope.FINANCING

    class InputSerializer(serializers.Serializer):
        method = serializers.ChoiceField(choices=["bank_transfer", "simulated", "stripe"], default="bank_transfer",
                                         help_text="bank_transfer: instructions to pay the exchange's escrow account "
                                                   "(where it has one in the fee's currency); others: a checkout page "
                                                   "for a person")

    @extend_schema(operation_id="financing_appraisals_pay", tags=FINANCING, request=InputSerializer,
                   responses=FeePaymentStartedSerializer,
                   summary="Client: pay the appraisal fee into escrow (held until the report is accepted)")
    def post(self, request, reference):
        appraisal = _appraisal(self, reference)
        return _fee_payment(self, request, appraisal.currency, lambda method: services.appraisal_pay_start(
            actor=self.actor, appraisal=appraisal, provider=method))


def _fee_payment(view, request, currency: str, start) -> Response:
    """A fee paid into escrow (appraisal, loan service fee): the method checked against the exchange's
    providers for the currency, the payment started by `start(method)`, and how to pay it."""
    data = AppraisalPayApi.InputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    method = data.validated_data["method"]
    tenant = view.api_key.tenant
    if method not in {p.name for p in available_providers(tenant, currency=currency)}:
        raise ValidationFailed(_("This payment method is not offered."), field_errors={"method": [_("Not offered.")]})
    return Response(FeePaymentStartedSerializer(_payment_started(tenant, start(method))).data)


def _payment_started(tenant, payment) -> dict:
    instructions, checkout_url = None, ""
    if payment.provider == "bank_transfer":
        instructions = {**(bank_details(tenant, payment.currency) or {}),
                        "amount": format_money(payment.amount_minor, payment.currency, symbol=False),
                        "amount_minor": str(payment.amount_minor), "currency": payment.currency,
                        "reference": payment.reference}
    else:
        url = get_provider(payment.provider).checkout_url(payment)
        checkout_url = tenant.absolute_url(url) if url.startswith("/") else url
    return {"payment": payment, "instructions": instructions, "checkout_url": checkout_url}


class ServiceFeePayApi(PartnerAPIView):
    write_scope = Scope.FINANCING

    @extend_schema(operation_id="financing_service_fee_pay", tags=FINANCING, request=AppraisalPayApi.InputSerializer,
                   responses=FeePaymentStartedSerializer,
                   summary="Borrower: pay the exchange's service fee on a disbursed loan")
    def post(self, request, reference):
        application = _application(self, reference)
        return _fee_payment(self, request, application.currency, lambda method: services.service_fee_pay_start(
            actor=self.actor, application=application, provider=method))


class AppraisalAcceptApi(PartnerAPIView):
    write_scope = Scope.FINANCING

    @extend_schema(operation_id="financing_appraisals_accept", tags=FINANCING, request=None,
                   responses=AppraisalSerializer, summary="Client: accept the delivered report (the fee is released)")
    def post(self, request, reference):
        return Response(AppraisalSerializer(services.appraisal_accept(actor=self.actor,
                                                                      appraisal=_appraisal(self, reference))).data)


class AppraisalCancelApi(PartnerAPIView):
    write_scope = Scope.FINANCING

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(required=False, allow_blank=True, max_length=500)

    @extend_schema(operation_id="financing_appraisals_cancel", tags=FINANCING, request=InputSerializer,
                   responses=AppraisalSerializer,
                   summary="Client cancels or appraiser declines before delivery (a fee held is refunded)")
    def post(self, request, reference):
        appraisal = _appraisal(self, reference)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(AppraisalSerializer(services.appraisal_cancel(
            actor=self.actor, appraisal=appraisal, reason=data.validated_data.get("reason", ""))).data)


class AppraisalDisputeApi(PartnerAPIView):
    write_scope = Scope.FINANCING

    parser_classes = [parsers.JSONParser, parsers.MultiPartParser]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=5000)
        files = serializers.ListField(child=serializers.FileField(), required=False,
                                      help_text="Evidence files, PDF/PNG/JPEG (checked by content), at most 5 — "
                                                 "send as multipart/form-data, one `files` part per file")

    @extend_schema(operation_id="financing_appraisals_dispute", tags=FINANCING, request=InputSerializer,
                   responses={201: AppraisalSerializer},
                   summary="Client: dispute the delivered report before dispute_due (the fee stays held)")
    def post(self, request, reference):
        appraisal = _appraisal(self, reference)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.appraisal_dispute_open(actor=self.actor, appraisal=appraisal, reason=data.validated_data["reason"],
                                        files=data.validated_data.get("files") or [])
        return Response(AppraisalSerializer(_appraisal(self, reference)).data, status=status.HTTP_201_CREATED)


class AppraisalDisputeAnswerApi(PartnerAPIView):
    write_scope = Scope.FINANCING

    parser_classes = [parsers.JSONParser, parsers.MultiPartParser]

    class InputSerializer(serializers.Serializer):
        answer = serializers.CharField(max_length=5000)
        files = serializers.ListField(child=serializers.FileField(), required=False,
                                      help_text="Evidence files, PDF/PNG/JPEG (checked by content), at most 5 — "
                                                 "send as multipart/form-data, one `files` part per file")

    @extend_schema(operation_id="financing_appraisals_dispute_answer", tags=FINANCING, request=InputSerializer,
                   responses=AppraisalSerializer, summary="Appraiser: answer the client's dispute")
    def post(self, request, reference):
        appraisal = _appraisal(self, reference)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.appraisal_dispute_answer(actor=self.actor, appraisal=appraisal, text=data.validated_data["answer"],
                                          files=data.validated_data.get("files") or [])
        return Response(AppraisalSerializer(_appraisal(self, reference)).data)


class AppraisalEvidenceFileApi(PartnerAPIView):
    @extend_schema(operation_id="financing_appraisals_dispute_evidence_download", tags=FINANCING,
                   responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY,
                                                                                 description="The file")},
                   summary="Download an evidence file of the appraisal's dispute (client and appraiser)")
    def get(self, request, reference, pk):
        appraisal = _appraisal(self, reference)
        evidence = AppraisalDisputeEvidence.objects.filter(pk=pk, dispute__appraisal=appraisal).first()
        if evidence is None:
            raise NotFound(_("No such evidence file."))
        return private_file_response(evidence.file, content_type=evidence.content_type, as_attachment=True,
                                     filename=evidence.name or f"evidence-{evidence.pk}")


class AppraisalReportApi(PartnerAPIView):
    write_scope = Scope.FINANCING
    parser_classes = [parsers.MultiPartParser]

    class InputSerializer(serializers.Serializer):
        report = serializers.FileField(help_text="The signed report, a PDF (checked by content)")
        value_minor = serializers.IntegerField(min_value=1)
        value_date = serializers.DateField()

    @extend_schema(operation_id="financing_appraisals_deliver", tags=FINANCING,
                   request={"multipart/form-data": InputSerializer}, responses=AppraisalSerializer,
                   summary="Appraiser: deliver the report, a PDF with a digital signature from a certificate the "
                           "exchange trusts (checked); the client then accepts or disputes it")
    def post(self, request, reference):
        appraisal = _appraisal(self, reference)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        appraisal = services.appraisal_deliver(actor=self.actor, appraisal=appraisal, report=v["report"],
                                               value_minor=v["value_minor"], value_date=v["value_date"])
        return Response(AppraisalSerializer(appraisal).data)
