"""The exchange's service fee on a pledge loan. The loan money moves between bank and borrower outside
ipex; the exchange charges the borrower a fee for arranging it, through the ledger:

- Terms: `FinancingTerms` of the exchange (rate in basis points of the amount paid out, a minimum in the
  exchange's currency, days to pay; settings' defaults without a row). The borrower sees the fee next
  to every offer before accepting one; accepting snapshots the terms on the application.
- Due: when the bank confirms the disbursement (`pledges.loan_confirm_disbursement`) the fee is
  charged (`escrow.service_fee_charge`: receivable / platform fees) and falls due in `service_fee_days`.
- Paid: the borrower pays through escrow's payment gateway (`service_fee_pay_start`: a `Deposit` with
  subject "loanfee:<ref>"; when escrow announces `deposit.held`, `service_fee_held` settles the
  receivable from it: deposit held → receivable), or staff record a payment that reached the exchange's
  account (`service_fee_record_paid`: provider clearing / receivable). Exactly one of them counts: a
  gateway payment arriving after the fee was paid is sent back.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from core.money import format_money
from core.notifications import notify
from core.permissions import is_member
from core.tenancy import require_tenant
from escrow.models import Deposit, Payment
from escrow.services import deposit_pay_start, deposit_return, deposit_settle_receivable, service_fee_settle
from financing.models import FinancingTerms, LoanApplication

from .common import members, require_staff, staff_users

PREFIX = "loanfee:"
RECORDED = "recorded"


@dataclass(frozen=True)
class FeeTerms:
    bps: int
    min_minor: int
    currency: str
    days: int

    @property
    def percent(self) -> str:
        return f"{self.bps / 100:.2f}".rstrip("0").rstrip(".") + "%"

    def fee(self, amount_minor: int, currency: str) -> int:
        fee = int(amount_minor) * self.bps // 10000
        if currency == self.currency and self.min_minor:
            fee = max(fee, self.min_minor)
        return min(fee, int(amount_minor))


def current_terms(tenant=None) -> FeeTerms:
    tenant = tenant or require_tenant()
    row = FinancingTerms.objects.filter(tenant=tenant).first()
    if row is None:
        return FeeTerms(bps=int(getattr(settings, "FINANCING_SERVICE_FEE_BPS", 50)),
                        min_minor=int(getattr(settings, "FINANCING_SERVICE_FEE_MIN_MINOR", 0)),
                        currency=tenant.currency, days=int(getattr(settings, "FINANCING_SERVICE_FEE_DAYS", 30)))
    return FeeTerms(bps=row.service_fee_bps, min_minor=row.service_fee_min_minor, currency=tenant.currency,
                    days=row.service_fee_days)


def application_terms(application: LoanApplication) -> FeeTerms:
    """The terms the borrower accepted (snapshot), else the exchange's current ones."""
    now = current_terms()
    if application.service_fee_bps is None:
        return now
    return FeeTerms(bps=application.service_fee_bps, min_minor=application.service_fee_min_minor,
                    currency=now.currency, days=now.days)


def snapshot_terms(application: LoanApplication) -> None:
    """Called by `offer_accept` (the application is locked): keep the terms the borrower was shown."""
    terms = current_terms()
    application.service_fee_bps = terms.bps
    application.service_fee_min_minor = terms.min_minor if application.currency == terms.currency else 0


def fee_state(application: LoanApplication) -> str:
    """"none" (nothing charged yet), "due", "overdue" or "paid"."""
    if application.service_fee_paid_at:
        return "paid"
    if not application.service_fee_minor:
        return "none"
    if application.service_fee_due_on and application.service_fee_due_on < timezone.localdate():
        return "overdue"
    return "due"


def _url(application) -> str:
    return application.get_absolute_url()


def _lock(pk) -> LoanApplication:
    return LoanApplication.objects.select_for_update(of=("self",)).select_related("applicant_org").get(pk=pk)


def _require_due(application) -> None:
    if application.service_fee_paid_at:
        raise Conflict(_("The service fee of %(ref)s was paid on %(on)s.")
                       % {"ref": application.reference,
                          "on": timezone.localtime(application.service_fee_paid_at).strftime("%Y-%m-%d")})
    if not application.service_fee_minor:
        raise InvalidTransition(_("No service fee is due on %(ref)s: it falls due when the lender confirms the "
                                  "disbursement.") % {"ref": application.reference})


def live_deposit(application) -> Deposit | None:
    return (Deposit.objects.filter(subject=PREFIX + application.reference, payer_org=application.applicant_org)
            .exclude(state=Deposit.State.RETURNED).order_by("-pk").first())


def service_fee_pay_start(*, actor, application, provider: str = "simulated") -> Payment:
    """The borrower starts paying the fee with `provider`: escrow's pending Payment (a pending one is
    reused). Settled when the provider confirms it (`service_fee_held`). Not atomic itself: escrow's
    `deposit_pay_start` owns its (durable) transaction."""
    application = LoanApplication.objects.select_related("applicant_org").get(pk=application.pk)
    if not is_member(actor, application.applicant_org):
        raise NotAllowed(_("Only the borrower pays the exchange's service fee."))
    _require_due(application)
    return deposit_pay_start(
        subject=PREFIX + application.reference, payer_org=application.applicant_org,
        amount_minor=application.service_fee_minor, currency=application.currency, actor=actor, provider=provider,
        back_url=_url(application),
        description=_("Exchange service fee on pledge loan %(ref)s") % {"ref": application.reference})


def _mark_paid(application, *, via: str, reference: str, actor=None, actor_label: str = "") -> None:
    application.service_fee_paid_at = timezone.now()
    application.service_fee_paid_via = via
    application.service_fee_payment_reference = (reference or "")[:80]
    application.save(update_fields=["service_fee_paid_at", "service_fee_paid_via", "service_fee_payment_reference",
                                    "updated_at"])
    audit_record(actor=actor, actor_label=actor_label, action="financing.service_fee_paid", obj=application,
                 data={"fee_minor": application.service_fee_minor, "via": via, "reference": reference})
    notify(users=members(application.applicant_org) + staff_users(), kind="financing.service_fee_paid",
           subject=gettext_lazy("Application %(ref)s: the exchange's service fee is paid"),
           body=gettext_lazy("%(amount)s received. Thank you."),
           params={"ref": application.reference,
                   "amount": format_money(application.service_fee_minor, application.currency)},
           url=_url(application))


def service_fee_held(*, reference: str, deposit_id: int) -> LoanApplication | None:
    """NON-durable (inside escrow's transaction, through `deposit.held`): the borrower's payment arrived;
    it settles the fee. If the fee was paid meanwhile (staff recorded a transfer), the money goes back."""
    application = LoanApplication.objects.select_for_update(of=("self",)).filter(reference=reference).first()
    if application is None:
        return None
    deposit = Deposit.objects.get(pk=deposit_id)
    if application.service_fee_paid_at or deposit.amount_minor != application.service_fee_minor:
        deposit_return(deposit=deposit, reason=_("The service fee of %(ref)s was already paid.") % {"ref": reference})
        audit_record(actor_label="system", action="financing.service_fee_payment_returned", obj=application,
                     data={"deposit": deposit_id})
        return application
    deposit_settle_receivable(deposit=deposit, reason=f"service fee {reference}")
    payment = Payment.objects.filter(deposit=deposit, state=Payment.State.SUCCEEDED).order_by("-pk").first()
    _mark_paid(application, via=payment.provider if payment else "gateway",
               reference=payment.reference if payment else "", actor_label="escrow")
    return application


@transaction.atomic(durable=True)
def service_fee_record_paid(*, actor, application, received_on: datetime.date | None, bank_reference: str,
                            expected_minor: int | None) -> LoanApplication:
    """Staff (finance) record that the borrower's payment of the fee reached the exchange's account
    outside the gateway. `expected_minor` is the fee the officer was shown on the summary: if it no
    longer matches, nothing changes. One balanced entry (provider clearing / receivable)."""
    require_staff(actor)
    # Lock order as on the gateway's path (escrow's `payment_event_apply` locks the payment, then the
    # deposit, then `service_fee_held` the application): a payment arriving at the same moment waits.
    subject = PREFIX + application.reference
    list(Payment.objects.select_for_update(of=("self",)).filter(deposit__subject=subject,
                                                                 payer_org_id=application.applicant_org_id))
    list(Deposit.objects.select_for_update(of=("self",)).filter(subject=subject,
                                                                 payer_org_id=application.applicant_org_id))
    application = _lock(application.pk)
    _require_due(application)
    if expected_minor is None or expected_minor != application.service_fee_minor:
        raise Conflict(_("The fee changed since the summary was shown (it is now %(amount)s); check it again.")
                       % {"amount": format_money(application.service_fee_minor, application.currency)})
    bank_reference = (bank_reference or "").strip()
    if not bank_reference:
        raise ValidationFailed(_("Enter the bank's reference of the payment."),
                               field_errors={"bank_reference": [_("Required.")]})
    if received_on is None or received_on > timezone.localdate():
        raise ValidationFailed(_("Enter the day the payment arrived (not in the future)."),
                               field_errors={"received_on": [_("Required.")]})
    deposit = live_deposit(application)
    if deposit is not None and deposit.state == Deposit.State.PENDING:
        deposit_return(deposit=deposit, actor=actor, reason=_("Paid by bank transfer, recorded by staff."))
    service_fee_settle(payer=application.applicant_org, amount_minor=application.service_fee_minor,
                       currency=application.currency, reference=application.reference, actor=actor)
    _mark_paid(application, via=RECORDED, reference=f"{received_on.isoformat()} {bank_reference}", actor=actor)
    return application


def service_fee_charge_due(application, *, actor) -> int:
    """NON-durable, inside `loan_confirm_disbursement` (application locked, `disbursed_amount_minor` set):
    the fee on the amount paid out under the accepted terms is charged and falls due."""
    from escrow.services import service_fee_charge

    terms = application_terms(application)
    fee = terms.fee(application.disbursed_amount_minor or 0, application.currency)
    application.service_fee_minor = fee
    if fee <= 0:
        return 0
    application.service_fee_due_on = (application.disbursed_on or timezone.localdate()) + datetime.timedelta(
        days=terms.days)
    service_fee_charge(payer=application.applicant_org, amount_minor=fee, currency=application.currency,
                       reference=application.reference, memo=f"pledge loan {application.reference}", actor=actor)
    notify(users=members(application.applicant_org), kind="financing.service_fee_due",
           subject=gettext_lazy("Application %(ref)s: the exchange's service fee of %(amount)s is due"),
           body=gettext_lazy("Pay it by %(due)s on the application page."),
           params={"ref": application.reference, "amount": format_money(fee, application.currency),
                   "due": application.service_fee_due_on.isoformat()}, url=_url(application))
    return fee


@transaction.atomic(durable=True)
def service_fee_overdue_alert(*, application_id: int) -> bool:
    """Beat: the fee's due date passed unpaid. The borrower and staff are told once (the application is
    locked and stamped, so a second run tells nobody)."""
    application = _lock(application_id)
    if (application.service_fee_paid_at or not application.service_fee_minor or application.service_fee_due_on is None
            or application.service_fee_due_on >= timezone.localdate() or application.service_fee_overdue_alerted_at):
        return False
    application.service_fee_overdue_alerted_at = timezone.now()
    application.save(update_fields=["service_fee_overdue_alerted_at", "updated_at"])
    audit_record(actor_label="deadline", action="financing.service_fee_overdue", obj=application,
                 data={"fee_minor": application.service_fee_minor, "due_on": application.service_fee_due_on.isoformat()})
    notify(users=members(application.applicant_org) + staff_users(), kind="financing.service_fee_overdue",
           subject=gettext_lazy("Application %(ref)s: the exchange's service fee of %(amount)s is overdue"),
           body=gettext_lazy("It was due on %(due)s. Pay it on the application page, or tell the exchange if you "
                             "paid by bank transfer."),
           params={"ref": application.reference,
                   "amount": format_money(application.service_fee_minor, application.currency),
                   "due": application.service_fee_due_on.isoformat()}, url=_url(application))
    return True
