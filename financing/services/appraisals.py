"""Formal appraisals: an organization orders one from an appraiser partner listed by the exchange and
pays the fee through escrow's payment gateway (simulated provider, Stripe, or bank transfer where the
exchange has an account for the currency): escrow holds it as a `Deposit` with subject
"appraisal:<ref>" (one balanced entry, provider clearing → deposit held). When escrow announces
`deposit.held`, the appraisal is paid and the appraiser starts. The appraiser delivers a signed report
(a PDF whose signature is checked: financing.signatures) with a value and a date. The client then
accepts the report — or lets the dispute period pass (`APPRAISAL_DISPUTE_DAYS`; beat releases it) —
and the fee is paid out to the appraiser less the exchange's commission; or disputes it: the
appraiser answers, staff settle (release / refund / split). Cancelling before delivery refunds the fee.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.errors import InvalidTransition, NotAllowed, ValidationFailed
from core.money import format_money
from core.notifications import notify
from core.permissions import is_member
from core.tenancy import require_tenant
from core.uploads import DOCUMENTS, validate_upload
from escrow.models import Deposit, Payment
from escrow.services import deposit_pay_out, deposit_pay_start, deposit_return
from financing.models import (
    Appraisal,
    AppraisalDispute,
    AppraisalDisputeEvidence,
    AppraisalState,
    FinancePartner,
    PartnerKind,
)
from financing.papers import sha256
from financing.signatures import SignatureProblem, verify_report
from rights.models import RegisterRecord

from .common import is_staff, members, next_reference, require_staff, staff_users

S = AppraisalState
MIN_REASON = 10


def _lock(pk) -> Appraisal:
    return Appraisal.objects.select_for_update(of=("self",)).select_related("appraiser__organization",
                                                                              "organization").get(pk=pk)


def _url(appraisal) -> str:
    return f"/financing/appraisals/{appraisal.reference}/"


def _state_error(appraisal, what: str = "") -> InvalidTransition:
    msg = _("Appraisal %(ref)s is “%(state)s”.") % {"ref": appraisal.reference, "state": appraisal.get_state_display()}
    return InvalidTransition(f"{msg} {what}".strip())


def commission(fee_minor: int) -> int:
    return fee_minor * int(getattr(settings, "APPRAISAL_COMMISSION_BPS", 1000)) // 10000


def live_deposit(appraisal) -> Deposit | None:
    return (Deposit.objects.filter(subject=appraisal.escrow_subject, payer_org=appraisal.organization)
            .exclude(state=Deposit.State.RETURNED).order_by("-pk").first())


@transaction.atomic(durable=True)
def appraisal_order(*, actor, organization, appraiser: FinancePartner, record_ids) -> Appraisal:
    if not is_member(actor, organization):
        raise NotAllowed(_("Only members of %(org)s can order an appraisal for it.") % {"org": organization})
    if appraiser.kind != PartnerKind.APPRAISER or not appraiser.is_active:
        raise ValidationFailed(_("Choose an appraiser listed by the exchange."),
                               field_errors={"appraiser": [_("Not a listed appraiser.")]})
    records = list(RegisterRecord.objects.filter(pk__in=set(record_ids or [])))
    if not records:
        raise ValidationFailed(_("Choose the rights to appraise."), field_errors={"rights": [_("Required.")]})
    appraisal = Appraisal.objects.create(
        reference=next_reference("APR"), organization=organization, ordered_by=actor, appraiser=appraiser,
        fee_minor=appraiser.appraisal_fee_minor, currency=appraiser.currency or require_tenant().currency,
        record_ids=sorted(r.pk for r in records))
    audit_record(actor=actor, action="appraisal.order", obj=appraisal, to_state=appraisal.state,
                 data={"appraiser": appraiser.pk, "rights": [r.pk for r in records], "fee_minor": appraisal.fee_minor})
    return appraisal


def appraisal_pay_start(*, actor, appraisal, provider: str = "simulated") -> Payment:
    """The client starts paying the fee with `provider`: escrow's pending Payment (reused when one is
    pending). The money is held when the provider confirms it (`appraisal_fee_held`). Not atomic itself:
    escrow's `deposit_pay_start` owns its (durable) transaction and locks the deposit."""
    appraisal = Appraisal.objects.select_related("appraiser__organization", "organization").get(pk=appraisal.pk)
    if not is_member(actor, appraisal.organization):
        raise NotAllowed(_("Only the organization that ordered the appraisal pays for it."))
    if appraisal.state != S.ORDERED:
        raise _state_error(appraisal, _("There is nothing to pay."))
    if appraisal.fee_minor <= 0:
        raise ValidationFailed(_("This appraiser charges no fee."))
    payment = deposit_pay_start(
        subject=appraisal.escrow_subject, payer_org=appraisal.organization, amount_minor=appraisal.fee_minor,
        currency=appraisal.currency, actor=actor, provider=provider, back_url=_url(appraisal),
        description=_("Appraisal %(ref)s by %(who)s") % {"ref": appraisal.reference,
                                                         "who": appraisal.appraiser.organization.legal_name})
    return payment


def appraisal_fee_held(*, reference: str, deposit_id: int) -> Appraisal | None:
    """NON-durable (inside escrow's transaction, through the `deposit.held` event): the fee arrived.
    The appraiser is told to start; if the appraisal was cancelled meanwhile, the money goes back."""
    appraisal = Appraisal.objects.select_for_update(of=("self",)).filter(reference=reference).first()
    if appraisal is None:
        return None
    if appraisal.state != S.ORDERED:
        deposit_return(deposit=Deposit.objects.get(pk=deposit_id),
                       reason=_("Appraisal %(ref)s no longer awaited its fee.") % {"ref": reference})
        audit_record(actor_label="system", action="appraisal.late_fee_returned", obj=appraisal,
                     data={"deposit": deposit_id})
        return appraisal
    appraisal.pay()
    appraisal.paid_at = timezone.now()
    appraisal.save()
    audit_record(actor_label="escrow", action="appraisal.paid", obj=appraisal, from_state=S.ORDERED,
                 to_state=appraisal.state, data={"fee_minor": appraisal.fee_minor, "deposit": deposit_id})
    notify(users=members(appraisal.appraiser.organization), kind="appraisal.ordered",
           subject=gettext_lazy("Appraisal %(ref)s ordered by %(org)s"),
           body=gettext_lazy("The fee is held in escrow. Open the data pack and deliver the signed report."),
           params={"ref": appraisal.reference, "org": appraisal.organization.legal_name}, url=_url(appraisal))
    notify(users=members(appraisal.organization), kind="appraisal.paid",
           subject=gettext_lazy("Appraisal %(ref)s: the fee is held in escrow"),
           body=gettext_lazy("The appraiser has been asked to start."),
           params={"ref": appraisal.reference}, url=_url(appraisal))
    return appraisal


@transaction.atomic(durable=True)
def appraisal_cancel(*, actor, appraisal, reason: str = "") -> Appraisal:
    """Before delivery: the client (or staff) cancels, or the appraiser declines. A fee already held is
    refunded through the provider it came from; a payment still pending is closed."""
    appraisal = _lock(appraisal.pk)
    client = is_member(actor, appraisal.organization)
    appraiser = is_member(actor, appraisal.appraiser.organization)
    if not (client or appraiser or is_staff(actor)):
        raise NotAllowed(_("Only the client, the appraiser or the exchange's staff can cancel an appraisal."))
    if appraisal.state not in (S.ORDERED, S.PAID):
        raise _state_error(appraisal, _("Only an appraisal whose report is not delivered can be cancelled."))
    deposit = live_deposit(appraisal)
    refunded = 0
    if deposit is not None:
        refunded = deposit.amount_minor if deposit.state == Deposit.State.HELD else 0
        deposit_return(deposit=deposit, actor=actor, reason=reason or _("Appraisal cancelled."))
    from_state = appraisal.state
    appraisal.cancel()
    appraisal.closed_at = timezone.now()
    appraisal.save()
    audit_record(actor=actor, action="appraisal.cancelled", obj=appraisal, from_state=from_state,
                 to_state=appraisal.state, reason=reason, data={"refunded_minor": refunded})
    notify(users=members(appraisal.organization, appraisal.appraiser.organization), kind="appraisal.cancelled",
           subject=gettext_lazy("Appraisal %(ref)s cancelled"),
           body=gettext_lazy("Refunded to the client: %(amount)s."),
           params={"ref": appraisal.reference, "amount": format_money(refunded, appraisal.currency)},
           url=_url(appraisal))
    return appraisal


@transaction.atomic(durable=True)
def appraisal_deliver(*, actor, appraisal, report, value_minor: int, value_date) -> Appraisal:
    appraisal = _lock(appraisal.pk)
    if not is_member(actor, appraisal.appraiser.organization):
        raise NotAllowed(_("Only the appraiser delivers the report."))
    if appraisal.state != S.PAID:
        raise _state_error(appraisal, _("No report is awaited."))
    errors: dict[str, list[str]] = {}
    signature = None
    try:
        validate_upload(report, allowed=("pdf",))
    except ValidationError as exc:
        errors["report"] = [exc.messages[0]]
    else:
        report.seek(0)
        try:
            signature = verify_report(report.read())
        except SignatureProblem as exc:
            errors["report"] = [str(exc)]
    if not value_minor or value_minor <= 0:
        errors["value"] = [_("Enter the appraised value.")]
    if value_date is None or value_date > timezone.localdate():
        errors["value_date"] = [_("Enter the valuation date (not in the future).")]
    if errors or signature is None:
        raise ValidationFailed(" ".join(str(m[0]) for m in errors.values()), field_errors=errors)
    report.seek(0)
    data = report.read()
    appraisal.report.save(f"appraisal-{appraisal.reference}.pdf", ContentFile(data), save=False)
    appraisal.report_sha256 = sha256(data)
    appraisal.report_signer = signature.signer
    appraisal.report_signer_issuer = signature.issuer
    appraisal.report_signed_at = signature.signed_at
    appraisal.value_minor = value_minor
    appraisal.value_date = value_date
    appraisal.delivered_at = timezone.now()
    appraisal.dispute_due = appraisal.delivered_at + timedelta(days=int(getattr(settings, "APPRAISAL_DISPUTE_DAYS",
                                                                                    14)))
    appraisal.deliver()
    appraisal.save()
    audit_record(actor=actor, action="appraisal.delivered", obj=appraisal, from_state=S.PAID,
                 to_state=appraisal.state, data={"value_minor": value_minor, "value_date": str(value_date),
                                                 "sha256": appraisal.report_sha256, "signer": signature.signer,
                                                 "issuer": signature.issuer})
    notify(users=members(appraisal.organization), kind="appraisal.delivered",
           subject=gettext_lazy("Appraisal %(ref)s: the report is delivered"),
           body=gettext_lazy("Accept it, or dispute it by %(due)s; after that the fee is released to the appraiser."),
           params={"ref": appraisal.reference, "due": timezone.localtime(appraisal.dispute_due).strftime("%Y-%m-%d")},
           url=_url(appraisal))
    return appraisal


def _pay_out(appraisal, *, payee_minor: int, actor, reason: str) -> int:
    """Pay the held fee out: `payee_minor` to the appraiser (less the commission), the rest refunded."""
    deposit = live_deposit(appraisal)
    if deposit is None or deposit.state != Deposit.State.HELD:
        raise InvalidTransition(_("Escrow holds no fee for appraisal %(ref)s; staff have to check it.")
                                % {"ref": appraisal.reference})
    fee = commission(payee_minor)
    deposit_pay_out(deposit=deposit, payee=appraisal.appraiser.organization, payee_minor=payee_minor, fee_minor=fee,
                    actor=actor, reason=reason)
    return fee


def _release(appraisal, *, actor, how: str) -> Appraisal:
    fee = _pay_out(appraisal, payee_minor=appraisal.fee_minor, actor=actor, reason=how)
    appraisal.accept()
    appraisal.closed_at = timezone.now()
    appraisal.save()
    audit_record(actor=actor, actor_label="" if actor else "system", action="appraisal.fee_released",
                 obj=appraisal, from_state=S.DELIVERED, to_state=appraisal.state,
                 data={"how": how, "fee_minor": appraisal.fee_minor, "commission_minor": fee})
    notify(users=members(appraisal.appraiser.organization), kind="appraisal.fee_released",
           subject=gettext_lazy("Appraisal %(ref)s: the fee is released to you"),
           body=gettext_lazy("%(amount)s (after the exchange's commission) is on its way to your payout account."),
           params={"ref": appraisal.reference,
                   "amount": format_money(appraisal.fee_minor - fee, appraisal.currency)}, url=_url(appraisal))
    return appraisal


@transaction.atomic(durable=True)
def appraisal_accept(*, actor, appraisal) -> Appraisal:
    """The client accepts the delivered report: the fee goes to the appraiser at once."""
    appraisal = _lock(appraisal.pk)
    if not is_member(actor, appraisal.organization):
        raise NotAllowed(_("Only the organization that ordered the appraisal accepts its report."))
    if appraisal.state != S.DELIVERED:
        raise _state_error(appraisal, _("There is no delivered report to accept."))
    return _release(appraisal, actor=actor, how="accepted")


@transaction.atomic(durable=True)
def appraisal_release_if_due(*, appraisal_id: int) -> bool:
    """Beat: the dispute period of a delivered report ended without a dispute: the fee is released."""
    appraisal = _lock(appraisal_id)
    if appraisal.state != S.DELIVERED or appraisal.dispute_due is None or appraisal.dispute_due > timezone.now():
        return False
    _release(appraisal, actor=None, how="dispute_period_ended")
    return True


@transaction.atomic(durable=True)
def appraisal_dispute_open(*, actor, appraisal, reason: str, files=()) -> AppraisalDispute:
    appraisal = _lock(appraisal.pk)
    if not is_member(actor, appraisal.organization):
        raise NotAllowed(_("Only the organization that ordered the appraisal can dispute its report."))
    if appraisal.state != S.DELIVERED:
        raise _state_error(appraisal, _("Only a delivered report can be disputed."))
    if appraisal.dispute_due and timezone.now() > appraisal.dispute_due:
        raise InvalidTransition(_("The period to dispute this report ended on %(due)s.")
                                % {"due": timezone.localtime(appraisal.dispute_due).strftime("%Y-%m-%d %H:%M")})
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationFailed(_("Say what is wrong with the report (at least %(n)s characters).") % {"n": MIN_REASON},
                               field_errors={"reason": [_("Too short.")]})
    checked = _checked_files(files)
    dispute = AppraisalDispute.objects.create(
        appraisal=appraisal, opened_by=actor, reason=reason[:5000],
        answer_due=timezone.now() + timedelta(days=int(getattr(settings, "APPRAISAL_ANSWER_DAYS", 5))))
    _save_evidence(dispute, checked, party="client", actor=actor)
    appraisal.dispute()
    appraisal.save()
    audit_record(actor=actor, action="appraisal.disputed", obj=appraisal, from_state=S.DELIVERED,
                 to_state=appraisal.state, reason=reason, data={"dispute": dispute.pk, "files": len(checked)})
    notify(users=members(appraisal.appraiser.organization) + staff_users(), kind="appraisal.disputed",
           subject=gettext_lazy("Appraisal %(ref)s: the client disputes the report"),
           body=gettext_lazy("The fee stays in escrow. The appraiser answers by %(due)s; then staff decide."),
           params={"ref": appraisal.reference, "due": timezone.localtime(dispute.answer_due).strftime("%Y-%m-%d")},
           url=_url(appraisal))
    return dispute


@transaction.atomic(durable=True)
def appraisal_answer_overdue_alert(*, dispute_id: int) -> bool:
    """Beat: the appraiser let `answer_due` pass without answering an open dispute. Staff are alerted (and
    the appraiser reminded) once: the dispute row is locked and stamped, so a second run alerts nobody."""
    dispute = (AppraisalDispute.objects.select_for_update(of=("self",))
               .select_related("appraisal__appraiser__organization").get(pk=dispute_id))
    if (dispute.state != AppraisalDispute.State.OPEN or dispute.answered_at or dispute.answer_overdue_alerted_at
            or dispute.answer_due > timezone.now()):
        return False
    dispute.answer_overdue_alerted_at = timezone.now()
    dispute.save(update_fields=["answer_overdue_alerted_at"])
    appraisal = dispute.appraisal
    audit_record(actor_label="deadline", action="appraisal.answer_overdue", obj=appraisal,
                 data={"dispute": dispute.pk, "answer_due": dispute.answer_due.isoformat()})
    params = {"ref": appraisal.reference, "who": appraisal.appraiser.organization.legal_name,
              "due": timezone.localtime(dispute.answer_due).strftime("%Y-%m-%d %H:%M")}
    notify(users=staff_users(), kind="appraisal.answer_overdue",
           subject=gettext_lazy("Appraisal %(ref)s: the appraiser did not answer the dispute in time"),
           body=gettext_lazy("%(who)s was to answer by %(due)s. The fee stays in escrow; settle the dispute on "
                             "the appraisal's page."),
           params=params, url=_url(appraisal))
    notify(users=members(appraisal.appraiser.organization), kind="appraisal.answer_overdue",
           subject=gettext_lazy("Appraisal %(ref)s: your answer to the dispute is overdue"),
           body=gettext_lazy("You were to answer by %(due)s. The exchange's staff may now settle the dispute "
                             "without your answer."), params=params, url=_url(appraisal))
    return True


MAX_EVIDENCE_FILES = 5


def _checked_files(files) -> list:
    files = [f for f in (files or []) if f]
    if len(files) > MAX_EVIDENCE_FILES:
        raise ValidationFailed(_("Attach at most %(n)s files.") % {"n": MAX_EVIDENCE_FILES},
                               field_errors={"files": [_("Too many files.")]})
    checked = []
    for f in files:
        try:
            checked.append((f, validate_upload(f, allowed=DOCUMENTS)))
        except ValidationError as exc:
            raise ValidationFailed(f"{f.name}: {' '.join(exc.messages)}", field_errors={"files": exc.messages}) from None
    return checked


def _save_evidence(dispute, checked, *, party: str, actor) -> None:
    for f, content_type in checked:
        f.seek(0)
        evidence = AppraisalDisputeEvidence(dispute=dispute, party=party, name=f.name[:200],
                                            content_type=content_type, uploaded_by=actor)
        evidence.file.save(f"{party}-{f.name}"[:100], f, save=True)


def _open_dispute(appraisal) -> AppraisalDispute:
    dispute = (AppraisalDispute.objects.select_for_update(of=("self",))
               .filter(appraisal=appraisal, state=AppraisalDispute.State.OPEN).first())
    if dispute is None or appraisal.state != S.DISPUTED:
        raise _state_error(appraisal, _("There is no open dispute."))
    return dispute


@transaction.atomic(durable=True)
def appraisal_dispute_answer(*, actor, appraisal, text: str, files=()) -> AppraisalDispute:
    appraisal = _lock(appraisal.pk)
    if not is_member(actor, appraisal.appraiser.organization):
        raise NotAllowed(_("Only the appraiser answers a dispute about the report."))
    dispute = _open_dispute(appraisal)
    if dispute.answer:
        raise InvalidTransition(_("You have already answered this dispute."))
    text = (text or "").strip()
    if len(text) < MIN_REASON:
        raise ValidationFailed(_("Write your answer (at least %(n)s characters).") % {"n": MIN_REASON},
                               field_errors={"answer": [_("Too short.")]})
    checked = _checked_files(files)
    dispute.answer, dispute.answered_by, dispute.answered_at = text[:5000], actor, timezone.now()
    dispute.save(update_fields=["answer", "answered_by", "answered_at"])
    _save_evidence(dispute, checked, party="appraiser", actor=actor)
    audit_record(actor=actor, action="appraisal.dispute_answered", obj=appraisal,
                 data={"dispute": dispute.pk, "files": len(checked)})
    notify(users=members(appraisal.organization) + staff_users(), kind="appraisal.dispute_answered",
           subject=gettext_lazy("Appraisal %(ref)s: the appraiser answered the dispute"),
           params={"ref": appraisal.reference}, url=_url(appraisal))
    return dispute


def settlement_summary(appraisal, *, outcome: str, refund_minor: int | None) -> dict:
    """Who gets what for a staff decision (shown on the summary before the second confirmation, and
    re-computed by the service). Raises ValidationFailed for an impossible split."""
    fee = appraisal.fee_minor
    if outcome == AppraisalDispute.Outcome.RELEASE:
        refund = 0
    elif outcome == AppraisalDispute.Outcome.REFUND:
        refund = fee
    elif outcome == AppraisalDispute.Outcome.SPLIT:
        if refund_minor is None or not 0 < refund_minor < fee:
            raise ValidationFailed(_("For a split, refund between 0 and %(max)s (exclusive).")
                                   % {"max": format_money(fee, appraisal.currency)},
                                   field_errors={"refund": [_("Out of range.")]})
        refund = refund_minor
    else:
        raise ValidationFailed(_("Choose how to settle the dispute."), field_errors={"outcome": [_("Required.")]})
    to_appraiser = fee - refund
    fee_kept = commission(to_appraiser)
    return {"outcome": outcome, "fee": fee, "refund": refund, "appraiser_gross": to_appraiser,
            "commission": fee_kept, "appraiser": to_appraiser - fee_kept, "currency": appraisal.currency}


@transaction.atomic(durable=True)
def appraisal_dispute_settle(*, actor, appraisal, outcome: str, note: str, refund_minor: int | None = None,
                             expected_refund_minor: int | None = None) -> AppraisalDispute:
    """Staff decide: release (fee to the appraiser), refund (all back to the client) or split (`refund_minor`
    back, the rest to the appraiser less the commission). `expected_refund_minor` is the refund the
    officer saw on the summary: a mismatch (the fee changed meanwhile) changes nothing."""
    require_staff(actor)
    appraisal = _lock(appraisal.pk)
    dispute = _open_dispute(appraisal)
    note = (note or "").strip()
    if len(note) < MIN_REASON:
        raise ValidationFailed(_("Give both sides the reason for the decision (at least %(n)s characters).")
                               % {"n": MIN_REASON}, field_errors={"note": [_("Too short.")]})
    summary = settlement_summary(appraisal, outcome=outcome, refund_minor=refund_minor)
    if expected_refund_minor is None or expected_refund_minor != summary["refund"]:
        raise InvalidTransition(_("The amounts changed since you saw the summary; look at them again."))
    if summary["refund"] == summary["fee"]:
        deposit = live_deposit(appraisal)
        if deposit is None or deposit.state != Deposit.State.HELD:
            raise InvalidTransition(_("Escrow holds no fee for appraisal %(ref)s; staff have to check it.")
                                    % {"ref": appraisal.reference})
        deposit_return(deposit=deposit, actor=actor, reason=note)
        appraisal.settle_refund()
    else:
        _pay_out(appraisal, payee_minor=summary["appraiser_gross"], actor=actor, reason=note)
        appraisal.settle_paid()
    appraisal.closed_at = timezone.now()
    appraisal.save()
    dispute.state, dispute.outcome, dispute.refund_minor = AppraisalDispute.State.RESOLVED, outcome, summary["refund"]
    dispute.resolution_note, dispute.resolved_by, dispute.resolved_at = note, actor, timezone.now()
    dispute.save(update_fields=["state", "outcome", "refund_minor", "resolution_note", "resolved_by", "resolved_at"])
    audit_record(actor=actor, action="appraisal.dispute_settled", obj=appraisal, from_state=S.DISPUTED,
                 to_state=appraisal.state, reason=note,
                 data={k: v for k, v in summary.items() if k != "currency"})
    notify(users=members(appraisal.organization, appraisal.appraiser.organization), kind="appraisal.dispute_settled",
           subject=gettext_lazy("Appraisal %(ref)s: the dispute is settled"),
           body=gettext_lazy("%(outcome)s. Refunded to the client: %(refund)s; paid to the appraiser: %(paid)s. "
                             "Reason: %(note)s"),
           params={"ref": appraisal.reference, "outcome": str(dispute.get_outcome_display()),
                   "refund": format_money(summary["refund"], appraisal.currency),
                   "paid": format_money(summary["appraiser"], appraisal.currency), "note": note},
           url=_url(appraisal))
    return dispute
