"""Reads of the financing app: who may see which application, the data pack lenders see, the pipeline."""

from __future__ import annotations

import re

from django.db.models import Count, Q
from django.http import Http404

from core.permissions import is_member
from financing.models import (
    LIVE_APPLICATION_STATES,
    ApplicationState,
    Appraisal,
    AppraisalState,
    FinancePartner,
    LoanApplication,
    LoanOffer,
    OfferState,
    PartnerKind,
)
from financing.services.common import is_lender, is_staff
from financing.valuation import labelled, valuate
from rights.expiry import expiry_date, remaining_term
from rights.models import Holding, RegisterRecord


def _norm(name: str) -> str:
    return re.sub(r"[\s,.，。()（）]+", "", (name or "").lower())


def rights_of(organization):
    """Register records the organization currently holds on this exchange (rights.Holding)."""
    held = Holding.objects.filter(organization=organization, ended_at__isnull=True).values("record_id")
    return RegisterRecord.objects.filter(pk__in=held).order_by("jurisdiction", "number")


def applications_visible(organization):
    """Applications the organization sees: its own; for a listed lender also the open ones and those
    it made an offer on."""
    query = Q(applicant_org=organization)
    if is_lender(organization):
        offered = LoanOffer.objects.filter(lender_org=organization).values("application_id")
        query |= Q(state=ApplicationState.OPEN) | Q(pk__in=offered)
    return (LoanApplication.objects.filter(query).select_related("applicant_org", "accepted_offer__lender_org")
            .annotate(rights_count=Count("rights", distinct=True)).order_by("-created_at", "-id"))


def application_for(*, reference, organization=None, user=None) -> LoanApplication:
    """The application if the organization (API key) or the user (website) may see it, else 404."""
    application = (LoanApplication.objects.select_related("applicant_org", "accepted_offer__lender_org",
                                                          "pledge_filing", "release_filing")
                   .filter(reference=reference).first())
    if application is None:
        raise Http404
    if user is not None and is_staff(user):
        return application
    orgs = [organization] if organization is not None else list(_user_orgs(user))
    for org in orgs:
        if org is None:
            continue
        if application.applicant_org_id == org.pk:
            return application
        if is_lender(org) and (application.state == ApplicationState.OPEN
                               or LoanOffer.objects.filter(application=application, lender_org=org).exists()):
            return application
    raise Http404


def _user_orgs(user):
    if user is None or not user.is_authenticated:
        return []
    from accounts.models import Organization

    return Organization.objects.filter(memberships__user=user)


def viewer_role(application, *, organization=None, user=None) -> str:
    """'applicant', 'lender' (the accepted lender or one that may offer), 'staff' or ''."""
    orgs = [organization] if organization is not None else list(_user_orgs(user))
    for org in orgs:
        if org and application.applicant_org_id == org.pk:
            return "applicant"
    for org in orgs:
        if org and is_lender(org):
            return "lender"
    if user is not None and is_staff(user):
        return "staff"
    return ""


def lender_org_of(application, user):
    """The user's organization that is a listed lender (the accepted one first)."""
    orgs = list(_user_orgs(user))
    if application.accepted_offer_id:
        for org in orgs:
            if org.pk == application.accepted_offer.lender_org_id:
                return org
    return next((o for o in orgs if is_lender(o)), None)


def offers_for(application, *, organization=None, see_all=False):
    offers = application.offers.select_related("lender_org").order_by("created_at", "id")
    if see_all:
        return list(offers)
    return [o for o in offers if organization is not None and o.lender_org_id == organization.pk]


def latest_appraisal(records):
    ids = [r.pk for r in records]
    return (Appraisal.objects.filter(state__in=(AppraisalState.DELIVERED, AppraisalState.COMPLETED), record_ids__overlap=ids)
            .select_related("appraiser__organization").order_by("-value_date", "-id").first())


def data_pack(application) -> dict:
    """What lenders see: the rights as the register records them, their term and fees (monitoring
    status), the valuation indicators and the latest formal appraisal."""
    records = [pr.register_record for pr in application.rights.select_related("register_record")]
    appraisal = latest_appraisal(records)
    rows = []
    for r in records:
        end = expiry_date(kind=r.kind, jurisdiction=r.jurisdiction, filing_date=r.filing_date,
                          grant_date=r.grant_date, recorded_expiry=r.expiry_date)
        rows.append({"record": r, "expiry": end, "remaining": remaining_term(end),
                     "fees_paid_through": r.renewal_paid_through, "encumbrances": labelled(r.encumbrances)})
    return {"rights": rows, "valuation": valuate(records, currency=application.currency, appraisal=appraisal),
            "appraisal": appraisal}


def pipeline():
    """Staff: applications by state, with counts."""
    counts = dict(LoanApplication.objects.values_list("state").annotate(n=Count("id")))
    rows = (LoanApplication.objects.select_related("applicant_org", "accepted_offer__lender_org", "pledge_filing",
                                                   "release_filing")
            .annotate(offer_count=Count("offers", filter=Q(offers__state__in=[OfferState.OPEN, OfferState.ACCEPTED])))
            .order_by("-updated_at", "-id"))
    return counts, list(rows[:200])


def service_fees_due():
    """Staff: disbursed loans whose service fee is charged and not paid yet, the earliest due first."""
    return list(LoanApplication.objects.filter(service_fee_minor__gt=0, service_fee_paid_at__isnull=True)
                .select_related("applicant_org").order_by("service_fee_due_on", "id")[:200])


def appraisal_disputes_open():
    """Staff: appraisals whose report the client disputes, oldest first."""
    return list(Appraisal.objects.filter(state=AppraisalState.DISPUTED)
                .select_related("organization", "appraiser__organization").prefetch_related("disputes")
                .order_by("created_at", "id")[:200])


def listed_partners(kind=None):
    qs = FinancePartner.objects.filter(is_active=True).select_related("organization")
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs)


def appraisals_visible(organization):
    appraiser_ids = FinancePartner.objects.filter(organization=organization, kind=PartnerKind.APPRAISER).values("pk")
    return (Appraisal.objects.filter(Q(organization=organization) | Q(appraiser__in=appraiser_ids))
            .select_related("organization", "appraiser__organization").order_by("-created_at", "-id"))


def appraisal_for(*, reference, organization=None, user=None) -> Appraisal:
    appraisal = Appraisal.objects.select_related("organization", "appraiser__organization").filter(
        reference=reference).first()
    if appraisal is None:
        raise Http404
    if user is not None and is_staff(user):
        return appraisal
    orgs = [organization] if organization is not None else list(_user_orgs(user))
    for org in orgs:
        if org and org.pk in (appraisal.organization_id, appraisal.appraiser.organization_id):
            return appraisal
    raise Http404


def pledges_on(record):
    """Applications that pledge (or pledged) this right, newest first, for the right's page."""
    return list(LoanApplication.objects.filter(rights__register_record=record, state__in=LIVE_APPLICATION_STATES)
                .select_related("accepted_offer__lender_org").order_by("-created_at"))


def is_member_of_any(user, organizations) -> bool:
    return any(is_member(user, o) for o in organizations)
