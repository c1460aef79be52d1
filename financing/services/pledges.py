"""Pledge financing: application → offers → acceptance → contract signed by both → pledge filed with
the office (transfers' recordal machinery) → recorded (the right carries the pledge) → bank confirms
disbursement (the exchange's service fee is charged through the ledger) → bank confirms repayment →
release filed → recorded (the pledge leaves the right).

Every service: lock → check the actor → transition → save → audit → notify on commit → emit.
Bad input raises a domain error before anything is written.
"""

from __future__ import annotations

import calendar
import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from core.events import emit
from core.money import format_money
from core.notifications import Message, notify
from core.permissions import is_member
from financing.models import (
    LIVE_APPLICATION_STATES,
    ApplicationState,
    FinancingDocument,
    FinancingDocumentKind,
    FinancingSignature,
    LoanApplication,
    LoanOffer,
    OfferState,
    PledgedRight,
    PledgeParty,
)
from financing.papers import contract_data, pledge_contract_pdf, release_agreement_pdf, release_data, sha256
from rights.encumbrances import active_encumbrances
from rights.expiry import expiry_date
from rights.models import Holding, LegalStatus, RegisterRecord
from transfers.models import RecordalFiling, RecordalKind
from transfers.services import recordal_create, recordal_file_locked, recordal_office

from .common import (
    is_lender,
    lender_kind,
    lender_organizations,
    lender_users,
    members,
    next_reference,
    require_staff,
    staff_users,
)
from .loan_fees import service_fee_charge_due, snapshot_terms

AS = ApplicationState
SUBJECT = "financing.application:%s"
CONSENT_TEXT = gettext_lazy("I have read this pledge contract and sign it for my organization.")
RELEASE_CONSENT_TEXT = gettext_lazy("I have read this pledge release agreement and sign it for my organization.")


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def lock_application(pk) -> LoanApplication:
    return LoanApplication.objects.select_for_update(of=("self",)).get(pk=pk)


def _url(application):
    return application.get_absolute_url()


def _emit(application, event, **data):
    orgs = [application.applicant_org]
    if application.accepted_offer_id:
        orgs.append(application.accepted_offer.lender_org)
    emit(event, organizations=orgs, data={"application": application.reference, "state": application.state,
                                          "at": timezone.now().isoformat(), **data})


def _transition(application, name, *, actor=None, actor_label="", reason="", data=None):
    from_state = application.state
    getattr(application, name)()
    application.save()
    audit_record(actor=actor, actor_label=actor_label, action=f"financing.{name}", obj=application,
                 from_state=from_state, to_state=application.state, reason=reason, data=data or {})
    _emit(application, "financing.application_state_changed", step=name, **{"from": from_state})
    return application


# --- application ------------------------------------------------------------------------------------

def _not_held(label, record, organization, holding) -> str:
    ended = (Holding.objects.filter(record=record, organization=organization, ended_at__isnull=False)
             .order_by("-ended_at").first())
    if ended is not None:
        return _("%(org)s no longer holds %(right)s: its transfer was recorded (%(ref)s).") % {
            "right": label, "org": organization.legal_name, "ref": ended.ended_reference or "-"}
    if holding is not None:
        return _("%(right)s is held by another organization on this exchange, not by %(org)s.") % {
            "right": label, "org": organization.legal_name}
    return _("%(right)s is not owned by %(org)s on this exchange: it is not in its portfolio (the register names "
             "%(owner)s).") % {"right": label, "org": organization.legal_name, "owner": record.owner_name or "-"}


def pledge_problems(*, records, organization, term_months: int, today=None, application=None) -> list[str]:
    """Why these rights cannot secure a loan of `term_months` for `organization` (empty when they can)."""
    today = today or timezone.localdate()
    loan_end = add_months(today, term_months)
    problems = []
    others = PledgedRight.objects.filter(register_record__in=records, application__state__in=LIVE_APPLICATION_STATES)
    if application is not None:
        others = others.exclude(application=application)
    live = set(others.values_list("register_record_id", flat=True))
    # "owned by the applicant": the applicant is the current holder of the right on this exchange
    # (rights.Holding: named in the register, transfer recorded, or added to its portfolio)
    holdings = {h.record_id: h for h in Holding.objects.filter(record__in=records, ended_at__isnull=True)}
    for record in records:
        label = f"{record.jurisdiction} {record.number}"
        holding = holdings.get(record.pk)
        if holding is None or holding.organization_id != organization.pk:
            problems.append(_not_held(label, record, organization, holding))
        if record.legal_status != LegalStatus.VALID:
            problems.append(_("%(right)s is not in force (%(status)s).")
                            % {"right": label, "status": record.get_legal_status_display()})
        pledges = active_encumbrances(record, kind="pledge", today=today)
        if pledges:
            problems.append(_("%(right)s is already pledged to %(holder)s.")
                            % {"right": label, "holder": pledges[0].get("holder", "?")})
        elif record.pk in live:
            problems.append(_("%(right)s is already offered as security in another application.") % {"right": label})
        end = expiry_date(kind=record.kind, jurisdiction=record.jurisdiction, filing_date=record.filing_date,
                          grant_date=record.grant_date, recorded_expiry=record.expiry_date)
        if end is None or end <= loan_end:
            problems.append(_("%(right)s lapses on %(end)s, within the loan term (until %(loan_end)s).")
                            % {"right": label, "end": end or "?", "loan_end": loan_end})
    _office, route_problems = recordal_office(records)
    problems += [str(p) for p in route_problems]
    return problems


@transaction.atomic(durable=True)
def application_create(*, actor, organization, record_ids, amount_minor: int, currency: str, term_months: int,
                       purpose: str) -> LoanApplication:
    if not is_member(actor, organization):
        raise NotAllowed(_("Only members of %(org)s can apply for it.") % {"org": organization})
    errors = {}
    if not record_ids:
        errors["rights"] = [_("Choose at least one right to pledge.")]
    if not amount_minor or amount_minor <= 0:
        errors["amount"] = [_("Enter the amount you want to borrow.")]
    if not term_months or not 1 <= term_months <= 120:
        errors["term_months"] = [_("The term is 1 to 120 months.")]
    if not (purpose or "").strip():
        errors["purpose"] = [_("Say what the loan is for.")]
    if errors:
        raise ValidationFailed(_("Please correct the application."), field_errors=errors)
    records = list(RegisterRecord.objects.select_for_update(of=("self",)).filter(pk__in=set(record_ids))
                   .order_by("pk"))
    if len(records) != len(set(record_ids)):
        raise ValidationFailed(_("A chosen right is not in the register."), field_errors={"rights": [_("Unknown.")]})
    problems = pledge_problems(records=records, organization=organization, term_months=term_months)
    if problems:
        raise ValidationFailed(" ".join(problems), field_errors={"rights": problems}, code="cannot_pledge")
    application = LoanApplication.objects.create(
        reference=next_reference("PLG"), applicant_org=organization, created_by=actor, amount_minor=amount_minor,
        currency=currency, term_months=term_months, purpose=purpose.strip(),
        offers_due=timezone.now() + datetime.timedelta(days=int(getattr(settings, "FINANCING_APPLICATION_DAYS", 30))))
    PledgedRight.objects.bulk_create([PledgedRight(tenant=application.tenant, application=application,
                                                   register_record=r, position=i) for i, r in enumerate(records)])
    audit_record(actor=actor, action="financing.apply", obj=application, to_state=application.state,
                 data={"rights": [r.pk for r in records], "amount_minor": amount_minor, "currency": currency,
                       "term_months": term_months})
    notify(users=lender_users(), kind="financing.application_opened",
           subject=gettext_lazy("New pledge loan application %(ref)s"),
           body=gettext_lazy("%(org)s asks for a loan secured on %(n)s right(s). Open the data pack and make an offer."),
           params={"ref": application.reference, "org": organization.legal_name, "n": len(records)}, url=_url(application))
    _emit(application, "financing.application_state_changed", step="apply")
    emit("financing.application_opened", organizations=lender_organizations(),
         data={"application": application.reference, "amount_minor": amount_minor, "currency": currency,
               "term_months": term_months, "rights": len(records), "at": timezone.now().isoformat()})
    return application


@transaction.atomic(durable=True)
def application_withdraw(*, actor, application) -> LoanApplication:
    application = lock_application(application.pk)
    if not is_member(actor, application.applicant_org):
        raise NotAllowed(_("Only the applicant can withdraw the application."))
    if application.state not in (AS.OPEN, AS.ACCEPTED):
        raise InvalidTransition(_("Application %(ref)s is “%(state)s”; it can no longer be withdrawn.")
                                % {"ref": application.reference, "state": application.get_state_display()})
    LoanOffer.objects.filter(application=application, state__in=[OfferState.OPEN, OfferState.ACCEPTED]).update(
        state=OfferState.WITHDRAWN)
    return _transition(application, "withdraw", actor=actor)


# --- offers -----------------------------------------------------------------------------------------

@transaction.atomic(durable=True)
def offer_make(*, actor, organization, application, amount_minor: int, rate_bps: int, term_months: int,
               conditions: str = "", valid_days: int | None = None) -> LoanOffer:
    """A listed lender offers (its open offer, if any, is replaced). The offer is valid `valid_days`
    (1 to 90; default FINANCING_OFFER_DAYS); after that beat expires it."""
    if not is_member(actor, organization) or not is_lender(organization):
        raise NotAllowed(_("Only banks and guarantors listed by the exchange can make offers."))
    errors = {}
    if not amount_minor or amount_minor <= 0:
        errors["amount"] = [_("Enter the amount you offer.")]
    if rate_bps is None or not 0 <= rate_bps <= 5000:
        errors["rate_bps"] = [_("The annual rate is 0 to 50% (0 to 5000 basis points).")]
    if not term_months or not 1 <= term_months <= 120:
        errors["term_months"] = [_("The term is 1 to 120 months.")]
    if valid_days is None:
        valid_days = int(getattr(settings, "FINANCING_OFFER_DAYS", 14))
    if not 1 <= valid_days <= 90:
        errors["valid_days"] = [_("An offer is valid 1 to 90 days.")]
    if errors:
        raise ValidationFailed(_("Please correct the offer."), field_errors=errors)
    application = lock_application(application.pk)
    if application.state != AS.OPEN:
        raise InvalidTransition(_("Application %(ref)s is closed to offers (it is “%(state)s”).")
                                % {"ref": application.reference, "state": application.get_state_display()},
                                code="application_closed")
    if application.offers_due and application.offers_due <= timezone.now():
        raise InvalidTransition(_("Application %(ref)s is closed to offers: its deadline passed on %(due)s.")
                                % {"ref": application.reference, "due": _when(application.offers_due)},
                                code="application_closed")
    if application.applicant_org_id == organization.pk:
        raise NotAllowed(_("You cannot lend to your own organization."))
    LoanOffer.objects.filter(application=application, lender_org=organization, state=OfferState.OPEN).update(
        state=OfferState.WITHDRAWN)
    offer = LoanOffer.objects.create(application=application, lender_org=organization,
                                     lender_kind=lender_kind(organization), created_by=actor, amount_minor=amount_minor,
                                     currency=application.currency, rate_bps=rate_bps, term_months=term_months,
                                     conditions=(conditions or "").strip(),
                                     expires_at=timezone.now() + datetime.timedelta(days=valid_days))
    audit_record(actor=actor, action="financing.offer", obj=application, data={
        "offer": offer.pk, "lender": organization.pk, "amount_minor": amount_minor, "rate_bps": rate_bps,
        "term_months": term_months})
    notify(users=members(application.applicant_org), kind="financing.offer_received",
           subject=gettext_lazy("Application %(ref)s: an offer from %(lender)s"),
           body=gettext_lazy("%(lender)s offers %(amount)s at %(rate)s a year for %(term)s months."),
           params={"ref": application.reference, "lender": organization.legal_name,
                   "amount": format_money(amount_minor, application.currency), "rate": offer.rate_percent,
                   "term": term_months}, url=_url(application))
    return offer


@transaction.atomic(durable=True)
def offer_accept(*, actor, offer) -> LoanApplication:
    """The holder accepts one offer: the others are declined, the contract is generated for signing."""
    application = lock_application(offer.application_id)
    if not is_member(actor, application.applicant_org):
        raise NotAllowed(_("Only the applicant can accept an offer."))
    offer = LoanOffer.objects.select_for_update(of=("self",)).get(pk=offer.pk)
    if application.state != AS.OPEN:
        raise InvalidTransition(_("Application %(ref)s is “%(state)s”; an offer was accepted already.")
                                % {"ref": application.reference, "state": application.get_state_display()})
    if offer.state != OfferState.OPEN:
        raise InvalidTransition(_("This offer is “%(state)s”.") % {"state": offer.get_state_display()})
    now = timezone.now()
    if offer.expires_at and offer.expires_at <= now:
        raise InvalidTransition(_("This offer expired on %(at)s; ask the lender for a new one.")
                                % {"at": _when(offer.expires_at)})
    if application.offers_due and application.offers_due <= now:
        raise InvalidTransition(_("Application %(ref)s expired on %(due)s; apply again.")
                                % {"ref": application.reference, "due": _when(application.offers_due)})
    records = [pr.register_record for pr in application.rights.select_related("register_record")]
    problems = pledge_problems(records=records, organization=application.applicant_org, term_months=offer.term_months,
                               application=application)
    if problems:
        raise ValidationFailed(" ".join(problems), code="cannot_pledge")
    offer.state = OfferState.ACCEPTED
    offer.save(update_fields=["state"])
    declined = list(LoanOffer.objects.filter(application=application, state=OfferState.OPEN).exclude(pk=offer.pk)
                    .select_related("lender_org"))
    LoanOffer.objects.filter(pk__in=[o.pk for o in declined]).update(state=OfferState.DECLINED)
    application.accepted_offer = offer
    application.secured_until = add_months(timezone.localdate(), offer.term_months)
    snapshot_terms(application)
    _transition(application, "accept", actor=actor, data={"offer": offer.pk})
    data = contract_data(application, offer)
    pdf = pledge_contract_pdf(data)
    document = FinancingDocument(application=application, kind=FinancingDocumentKind.PLEDGE_CONTRACT,
                                 sha256=sha256(pdf), data=data)
    document.file.save(f"pledge-contract-{application.reference}.pdf", ContentFile(pdf), save=False)
    document.save()
    notify(users=members(offer.lender_org, application.applicant_org), kind="financing.offer_accepted",
           subject=gettext_lazy("Application %(ref)s: offer accepted, sign the pledge contract"),
           body=gettext_lazy("%(org)s accepted the offer of %(lender)s. Both sides now sign the pledge contract."),
           params={"ref": application.reference, "org": application.applicant_org.legal_name,
                   "lender": offer.lender_org.legal_name}, url=_url(application))
    for other in declined:
        notify(users=members(other.lender_org), kind="financing.offer_declined",
               subject=gettext_lazy("Application %(ref)s: another offer was chosen"),
               params={"ref": application.reference}, url=_url(application))
    return application


# --- deadlines (beat: financing.tasks.expire_deadlines) ----------------------------------------------

def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@transaction.atomic(durable=True)
def offer_expire_if_due(*, offer_id: int) -> bool:
    """An open offer past its validity expires: the lender and the applicant are told."""
    offer = LoanOffer.objects.filter(pk=offer_id).only("application_id").first()
    if offer is None:
        return False
    application = lock_application(offer.application_id)
    offer = LoanOffer.objects.select_for_update(of=("self",)).select_related("lender_org").get(pk=offer_id)
    if offer.state != OfferState.OPEN or offer.expires_at is None or offer.expires_at > timezone.now():
        return False
    offer.state = OfferState.EXPIRED
    offer.save(update_fields=["state"])
    audit_record(actor_label="system", action="financing.offer_expired", obj=application,
                 data={"offer": offer.pk, "lender": offer.lender_org_id, "expires_at": offer.expires_at.isoformat()})
    notify(users=members(offer.lender_org, application.applicant_org), kind="financing.offer_expired",
           subject=gettext_lazy("Application %(ref)s: the offer of %(lender)s expired"),
           body=gettext_lazy("It was valid until %(at)s. The lender may make a new offer while the application is open."),
           params={"ref": application.reference, "lender": offer.lender_org.legal_name, "at": _when(offer.expires_at)},
           url=_url(application))
    return True


@transaction.atomic(durable=True)
def application_expire_if_due(*, application_id: int) -> bool:
    """An open application whose deadline passed without an accepted offer expires; its open offers too."""
    application = lock_application(application_id)
    if application.state != AS.OPEN or application.offers_due is None or application.offers_due > timezone.now():
        return False
    offers = list(LoanOffer.objects.select_for_update(of=("self",)).filter(application=application,
                                                                            state=OfferState.OPEN)
                  .select_related("lender_org"))
    LoanOffer.objects.filter(pk__in=[o.pk for o in offers]).update(state=OfferState.EXPIRED)
    _transition(application, "expire", actor_label="system",
                data={"offers_due": application.offers_due.isoformat(), "offers_expired": [o.pk for o in offers]})
    notify(users=members(application.applicant_org, *[o.lender_org for o in offers]),
           kind="financing.application_expired",
           subject=gettext_lazy("Application %(ref)s expired"),
           body=gettext_lazy("No offer was accepted by %(due)s. The rights are free to pledge in a new application."),
           params={"ref": application.reference, "due": _when(application.offers_due)}, url=_url(application))
    return True


# --- contract ---------------------------------------------------------------------------------------

def party_for(user, application) -> str | None:
    if is_member(user, application.applicant_org):
        return PledgeParty.PLEDGOR
    if application.accepted_offer_id and is_member(user, application.accepted_offer.lender_org):
        return PledgeParty.PLEDGEE
    return None


@transaction.atomic(durable=True)
def contract_sign(*, actor, application, typed_name: str, consent: bool, ip_address=None,
                  shown_sha256: str = "", kind: str = FinancingDocumentKind.PLEDGE_CONTRACT) -> FinancingSignature:
    """The holder or the lender signs, for its side, the pledge contract (after an offer is accepted) or
    the pledge release agreement (after the lender confirmed repayment)."""
    application = lock_application(application.pk)
    party = party_for(actor, application)
    release = kind == FinancingDocumentKind.RELEASE
    if party is None:
        raise NotAllowed(_("Only the holder and the lender sign the pledge release agreement.") if release
                         else _("Only the holder and the lender sign the pledge contract."))
    if release and (application.state != AS.PLEDGED or application.repaid_on is None):
        raise InvalidTransition(_("The pledge release agreement of %(ref)s is signed once the lender confirmed the "
                                  "repayment (“%(state)s”).")
                                % {"ref": application.reference, "state": application.get_state_display()})
    if not release and application.state != AS.ACCEPTED:
        raise InvalidTransition(_("The pledge contract of %(ref)s is not awaiting signatures (“%(state)s”).")
                                % {"ref": application.reference, "state": application.get_state_display()})
    typed_name = (typed_name or "").strip()
    if not typed_name or not consent:
        raise ValidationFailed(_("Type your full name and confirm that you sign."),
                               field_errors={"typed_name": [_("Required.")]} if not typed_name
                               else {"consent": [_("Required.")]})
    document = FinancingDocument.objects.filter(application=application, kind=kind).first()
    if document is None:
        raise InvalidTransition(_("There is no document to sign yet."))
    if shown_sha256 and shown_sha256 != document.sha256:
        raise Conflict(_("The document changed since you opened it; read it again before signing."))
    if document.signatures.filter(party=party).exists():
        raise Conflict(_("Your side has signed this document already."))
    org = application.applicant_org if party == PledgeParty.PLEDGOR else application.accepted_offer.lender_org
    signature = FinancingSignature.objects.create(
        document=document, party=party, organization=org, user=actor, typed_name=typed_name[:150],
        consent_text=str(RELEASE_CONSENT_TEXT if release else CONSENT_TEXT), ip_address=ip_address,
        document_sha256=document.sha256)
    audit_record(actor=actor, action="financing.release_agreement_signed" if release else "financing.contract_signed",
                 obj=application, ip_address=ip_address,
                 data={"party": party, "sha256": document.sha256, "typed_name": typed_name})
    if document.signatures.count() == 2:
        if release:
            notify(users=staff_users(), kind="financing.release_to_file",
                   subject=gettext_lazy("Application %(ref)s: release agreement signed, file the pledge release"),
                   params={"ref": application.reference}, url="/financing/staff/")
        else:
            _transition(application, "signed", actor=actor)
            notify(users=staff_users(), kind="financing.pledge_to_file",
                   subject=gettext_lazy("Application %(ref)s: pledge contract signed, file the pledge"),
                   params={"ref": application.reference}, url="/financing/staff/")
    return signature


def release_agreement_signed(application) -> bool:
    document = application.documents.filter(kind=FinancingDocumentKind.RELEASE).first()
    return document is not None and document.signatures.count() == 2


# --- filings ----------------------------------------------------------------------------------------

def _records(application):
    return [pr.register_record for pr in application.rights.select_related("register_record")]


@transaction.atomic(durable=True)
def pledge_file(*, actor, application, outcome: str = "") -> LoanApplication:
    """Staff file the pledge registration with the office (simulated office or a package to submit)."""
    require_staff(actor)
    application = lock_application(application.pk)
    if application.state != AS.SIGNED:
        raise InvalidTransition(_("Application %(ref)s is “%(state)s”: there is no pledge to file.")
                                % {"ref": application.reference, "state": application.get_state_display()})
    offer = application.accepted_offer
    document = application.documents.get(kind=FinancingDocumentKind.PLEDGE_CONTRACT)
    filing = recordal_create(
        kind=RecordalKind.PLEDGE, subject=SUBJECT % application.reference, records=_records(application),
        pledgor=application.applicant_org.legal_name, pledgee=offer.lender_org.legal_name,
        secured_amount_minor=offer.amount_minor, currency=offer.currency, secured_until=application.secured_until,
        contract_sha256=document.sha256, outcome=outcome, pledgee_organization=offer.lender_org)
    recordal_file_locked(filing, actor=actor)
    application.pledge_filing = filing
    _transition(application, "file_pledge", actor=actor, data={"filing": filing.pk, "reference": filing.reference,
                                                               "office": filing.office})
    notify(users=members(application.applicant_org, offer.lender_org), kind="financing.pledge_filed",
           subject=gettext_lazy("Application %(ref)s: pledge registration filed with %(office)s"),
           params={"ref": application.reference, "office": filing.get_office_display()}, url=_url(application))
    return application


@transaction.atomic(durable=True)
def release_file(*, actor, application, outcome: str = "") -> LoanApplication:
    """Staff file the pledge release once the bank confirmed repayment."""
    require_staff(actor)
    application = lock_application(application.pk)
    if application.state != AS.PLEDGED or application.repaid_on is None:
        raise InvalidTransition(_("The pledge of %(ref)s is released after the lender confirms repayment.")
                                % {"ref": application.reference})
    if not release_agreement_signed(application):
        raise InvalidTransition(_("Both sides sign the pledge release agreement before the release is filed."))
    pledge = application.pledge_filing
    filing = recordal_create(
        kind=RecordalKind.PLEDGE_RELEASE, subject=SUBJECT % application.reference, records=_records(application),
        pledgor=pledge.pledgor, pledgee=pledge.pledgee, secured_amount_minor=pledge.secured_amount_minor,
        currency=pledge.currency, secured_until=pledge.secured_until, pledge_reference=pledge.reference,
        outcome=outcome, pledgee_organization=pledge.pledgee_organization)
    recordal_file_locked(filing, actor=actor)
    application.release_filing = filing
    return _transition(application, "file_release", actor=actor, data={"filing": filing.pk,
                                                                       "reference": filing.reference})


def application_apply_recordal(*, reference: str, kind: str, status: str, filing_id=None) -> LoanApplication | None:
    """The office decided a pledge or release recordal (the `recordal.decided` event, inside the
    transfers' transaction)."""
    application = LoanApplication.objects.select_for_update(of=("self",)).filter(reference=reference).first()
    if application is None:
        return None
    label = "office"
    parties = members(application.applicant_org, application.accepted_offer.lender_org)
    params = {"ref": application.reference}
    if kind == RecordalKind.PLEDGE and application.state == AS.PLEDGE_FILED:
        if status == "approved":
            _transition(application, "pledge_recorded", actor_label=label, data={"filing": filing_id})
            notify(users=parties, kind="financing.pledge_recorded",
                   subject=gettext_lazy("Application %(ref)s: the office recorded the pledge"),
                   body=gettext_lazy("The pledge is recorded on the rights. The lender can confirm the disbursement."),
                   params=params, url=_url(application))
        elif status == "rejected":
            _transition(application, "pledge_refused", actor_label=label, data={"filing": filing_id})
            notify(users=parties + staff_users(), kind="financing.pledge_refused",
                   subject=gettext_lazy("Application %(ref)s: the office refused the pledge registration"),
                   params=params, url=_url(application))
    elif kind == RecordalKind.PLEDGE_RELEASE and application.state == AS.RELEASE_FILED:
        if status == "approved":
            _transition(application, "release_recorded", actor_label=label, data={"filing": filing_id})
            notify(users=parties, kind="financing.release_recorded",
                   subject=gettext_lazy("Application %(ref)s: the pledge is released"),
                   params=params, url=_url(application))
        elif status == "rejected":
            _transition(application, "release_refused", actor_label=label, data={"filing": filing_id})
            notify(users=parties + staff_users(), kind="financing.release_refused",
                   subject=gettext_lazy("Application %(ref)s: the office refused the release"),
                   params=params, url=_url(application))
    return application


# --- the bank's confirmations -------------------------------------------------------------------------

def _require_lender(actor, application):
    if not application.accepted_offer_id or not is_member(actor, application.accepted_offer.lender_org):
        raise NotAllowed(_("Only the lender of this loan can confirm this."))


@transaction.atomic(durable=True)
def loan_confirm_disbursement(*, actor, application, disbursed_on, amount_minor: int, reference: str = ""):
    """The bank confirms it paid the loan out (outside ipex); the exchange's service fee is charged to the
    borrower through the ledger."""
    application = lock_application(application.pk)
    _require_lender(actor, application)
    if application.state != AS.PLEDGED:
        raise InvalidTransition(_("The loan is paid out once the pledge is recorded (application is “%(state)s”).")
                                % {"state": application.get_state_display()})
    if application.disbursed_on:
        raise Conflict(_("The disbursement was confirmed already on %(date)s.") % {"date": application.disbursed_on})
    if not amount_minor or amount_minor <= 0:
        raise ValidationFailed(_("Enter the amount paid out."), field_errors={"amount": [_("Required.")]})
    application.disbursed_on = disbursed_on or timezone.localdate()
    application.disbursed_amount_minor = amount_minor
    application.disbursement_reference = (reference or "")[:80]
    fee = service_fee_charge_due(application, actor=actor)
    application.save(update_fields=["disbursed_on", "disbursed_amount_minor", "disbursement_reference",
                                    "service_fee_minor", "service_fee_due_on", "updated_at"])
    audit_record(actor=actor, action="financing.disbursed", obj=application,
                 data={"amount_minor": amount_minor, "on": str(application.disbursed_on), "fee_minor": fee,
                       "reference": reference})
    notify(users=members(application.applicant_org) + staff_users(), kind="financing.disbursed",
           subject=gettext_lazy("Application %(ref)s: the lender confirmed the disbursement"),
           params={"ref": application.reference}, url=_url(application))
    _emit(application, "financing.loan_confirmed", confirmation="disbursement")
    return application


@transaction.atomic(durable=True)
def loan_confirm_repayment(*, actor, application, repaid_on, reference: str = ""):
    """The bank confirms the loan is repaid: staff are asked to file the release."""
    application = lock_application(application.pk)
    _require_lender(actor, application)
    if application.state != AS.PLEDGED:
        raise InvalidTransition(_("There is no running loan to confirm as repaid (application is “%(state)s”).")
                                % {"state": application.get_state_display()})
    if application.repaid_on:
        raise Conflict(_("The repayment was confirmed already on %(date)s.") % {"date": application.repaid_on})
    application.repaid_on = repaid_on or timezone.localdate()
    application.repayment_reference = (reference or "")[:80]
    application.save(update_fields=["repaid_on", "repayment_reference", "updated_at"])
    audit_record(actor=actor, action="financing.repaid", obj=application,
                 data={"on": str(application.repaid_on), "reference": reference})
    data = release_data(application)
    pdf = release_agreement_pdf(data)
    document = FinancingDocument(application=application, kind=FinancingDocumentKind.RELEASE, sha256=sha256(pdf),
                                 data=data)
    document.file.save(f"pledge-release-{application.reference}.pdf", ContentFile(pdf), save=False)
    document.save()
    notify(users=members(application.applicant_org, application.accepted_offer.lender_org),
           kind="financing.release_to_sign",
           subject=gettext_lazy("Application %(ref)s: repaid, sign the pledge release agreement"),
           body=gettext_lazy("Both sides sign it; then the exchange files the release with the office."),
           params={"ref": application.reference}, url=_url(application))
    _emit(application, "financing.loan_confirmed", confirmation="repayment")
    return application


def pending_recordal(application) -> RecordalFiling | None:
    return application.release_filing or application.pledge_filing


# --- monitoring -----------------------------------------------------------------------------------

ALERT_SUBJECTS = {
    "fee_due": gettext_lazy("Pledged right %(number)s: a fee falls due (%(due)s)"),
    "fee_overdue": gettext_lazy("Pledged right %(number)s: a fee is overdue (%(due)s)"),
}
ALERT_DEFAULT = gettext_lazy("Pledged right %(number)s: the register reports a change (%(kind)s)")
PLEDGE_HELD_STATES = (AS.PLEDGE_FILED, AS.PLEDGED, AS.RELEASE_FILED)


def lenders_alert(*, record_id, kind: str, data: dict) -> int:
    """Monitoring found something about a right (fee due, status change, ...): tell the lender of every
    live pledge on it, in-app and by webhook. Runs inside the announcer's transaction. Returns how many
    applications were concerned."""
    applications = list(LoanApplication.objects.filter(rights__register_record_id=record_id,
                                                       state__in=PLEDGE_HELD_STATES)
                        .select_related("accepted_offer__lender_org", "applicant_org").distinct())
    for application in applications:
        lender = application.accepted_offer.lender_org
        params = {"number": data.get("number") or record_id, "due": data.get("due") or data.get("due_by") or data.get("date") or "-",
                  "kind": kind, "ref": application.reference,
                  # rights' alert in the lender's language when read (older events: their text)
                  "message": Message.from_stored(data["message_i18n"])
                  if (data.get("message_i18n") or {}).get("__msgid__") else data.get("message", "")}
        notify(users=members(lender), kind=f"financing.collateral_{kind}",
               subject=ALERT_SUBJECTS.get(kind, ALERT_DEFAULT),
               body=gettext_lazy("It secures loan %(ref)s. %(message)s"), params=params, url=_url(application))
        audit_record(actor_label="monitoring", action="financing.collateral_alert", obj=application,
                     data={"record": record_id, "kind": kind, **{k: str(v) for k, v in data.items()}})
        emit("financing.collateral_alert", organizations=[lender],
             data={"application": application.reference, "record": record_id, "kind": kind,
                   "at": timezone.now().isoformat(), "details": {k: str(v) for k, v in data.items()}})
    return len(applications)
