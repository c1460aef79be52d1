"""Deposits a party places with the platform to take part in something (a bidder's deposit in an
auction, run by demand/). Escrow holds the money in its own ledger account per deposit; the app above
decides when it is returned or counted towards an order (it never touches the ledger itself).

- `deposit_pay_start` (durable): a pending Deposit and its Payment; the provider's confirmation arrives
  through `payment_event_apply` like any payment (`_receive_deposit` below) and emits `deposit.held`.
- `deposit_return` (NON-durable): held money goes back through the provider it came from.
- `deposit_apply` (durable): the deposit will count towards `order`; when the order is funded the
  buyer pays the rest and the deposit moves into the order's escrow (see payments._receive).
- `deposit_settle_receivable` (NON-durable): a held deposit pays a fee the exchange charged its payer
  (deposit held → receivable).
- `deposit_forfeit` (NON-durable): the order it counted towards was not paid by its buyer; the seller
  gets it less the exchange's share.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization, User
from core.audit import audit_record
from core.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from core.events import emit
from core.permissions import is_member
from core.tenancy import require_tenant
from escrow import ledger
from escrow.models import AccountKind, Deposit, Disbursement, LedgerAccount, Order, OrderState, Payment
from escrow.payments import get_provider

from .common import create_disbursement, next_reference

K = AccountKind


def lock_deposit(deposit_id: int | None) -> Deposit:
    if deposit_id is None:
        raise InvalidTransition(_("This payment is not for a deposit."))
    deposit: Deposit = Deposit.objects.select_for_update(of=("self",)).select_related("payer_org").get(pk=deposit_id)
    return deposit


def deposit_payment(deposit: Deposit) -> Payment | None:
    return (Payment.objects.filter(deposit=deposit, purpose=Payment.Purpose.DEPOSIT, state=Payment.State.SUCCEEDED)
            .order_by("-received_at", "-pk").first())


@transaction.atomic(durable=True)
def deposit_pay_start(*, subject: str, payer_org: Organization, amount_minor: int, currency: str, actor: User | None,
                      provider: str = "simulated", description: str = "", back_url: str = "") -> Payment:
    """A member of `payer_org` starts paying a deposit for `subject`; returns the pending Payment (a
    pending one is reused). One live deposit per subject and organization. `description` is what the
    payer is shown on the payment page, `back_url` where the payment pages send them back to."""
    tenant = require_tenant()
    if actor is None or not is_member(actor, payer_org):
        raise NotAllowed(_("Only a member of the organization can pay its deposit."))
    if amount_minor <= 0:
        raise ValidationFailed(_("No deposit is required."))
    gateway = get_provider(provider)
    if not gateway.available(tenant, currency=currency):
        raise ValidationFailed(_("This payment method is not offered."))
    live = Deposit.objects.select_for_update(of=("self",)).filter(subject=subject, payer_org=payer_org).exclude(
        state=Deposit.State.RETURNED)
    deposit = live.first()
    if deposit is None:
        try:
            with transaction.atomic():  # two first starts at once: the unique constraint picks one row
                deposit = Deposit.objects.create(tenant=tenant, subject=subject, payer_org=payer_org,
                                                 amount_minor=amount_minor, currency=currency, created_by=actor,
                                                 description=description[:200], back_url=back_url[:200])
        except IntegrityError:
            deposit = live.get()  # the other start's deposit (waits for its transaction, then reuses its payment)
    if deposit.state != Deposit.State.PENDING:
        raise InvalidTransition(_("Your deposit for this is already held."))
    pending = Payment.objects.filter(deposit=deposit, provider=provider, state=Payment.State.PENDING).first()
    if pending:
        return pending
    payment = Payment.objects.create(
        tenant=tenant, purpose=Payment.Purpose.DEPOSIT, deposit=deposit, payer_org=payer_org, provider=provider,
        amount_minor=deposit.amount_minor, currency=currency, reference=next_reference("DEP", "payment", tenant=tenant),
        created_by=actor)
    audit_record(actor=actor, action="deposit.payment_started", obj=deposit,
                 data={"payment": payment.reference, "provider": provider, "amount_minor": deposit.amount_minor,
                       "subject": subject})
    return payment


def receive_deposit(payment: Payment, amount: int, clearing: LedgerAccount) -> str:
    """Money arrived for a deposit payment (payment locked by the caller)."""
    deposit = lock_deposit(payment.deposit_id)
    if deposit.state != Deposit.State.PENDING or amount != deposit.amount_minor:
        return "unmatched"
    ledger.post("deposit_paid", [
        (clearing, amount), (ledger.account(K.DEPOSIT_HELD, payment.currency, deposit=deposit), -amount),
    ], memo=f"{payment.reference} via {payment.provider} ({deposit.subject})",
        idempotency_key=f"payment-received-{payment.pk}")
    deposit.state = Deposit.State.HELD
    deposit.held_at = timezone.now()
    deposit.save(update_fields=["state", "held_at"])
    audit_record(actor_label=payment.provider, action="deposit.held", obj=deposit,
                 data={"payment": payment.reference, "amount_minor": amount, "subject": deposit.subject})
    emit("deposit.held", organizations=[deposit.payer_org],
         data={"deposit": deposit.pk, "subject": deposit.subject, "amount_minor": amount,
               "currency": deposit.currency})
    return "deposit_held"


def deposit_return(*, deposit: Deposit, actor: User | None = None, reason: str = "") -> Disbursement | None:
    """NON-durable: return a held deposit (not yet counted into an order's escrow) through the provider
    it came from. No-op (None) when nothing is held; a pending one is closed."""
    deposit = lock_deposit(deposit.pk)
    if deposit.state in (Deposit.State.RETURNED, Deposit.State.APPLIED):
        return None
    now = timezone.now()
    held = ledger.deposit_balance(deposit)
    disb = None
    if held > 0:
        payment = deposit_payment(deposit)
        provider = payment.provider if payment else "bank_transfer"
        ledger.post("deposit_returned", [
            (ledger.account(K.DEPOSIT_HELD, deposit.currency, deposit=deposit), held),
            (ledger.account(K.REFUND_CLEARING, deposit.currency, provider=provider), -held),
        ], memo=f"deposit {deposit.pk} ({deposit.subject}) returned", idempotency_key=f"deposit-returned-{deposit.pk}",
            created_by=actor)
        disb = create_disbursement(kind=Disbursement.Kind.REFUND, amount_minor=held, currency=deposit.currency,
                                   provider=provider, recipient_org=deposit.payer_org, payment=payment, actor=actor)
    Payment.objects.filter(deposit=deposit, state=Payment.State.PENDING).update(state=Payment.State.CANCELLED)
    deposit.state = Deposit.State.RETURNED
    deposit.closed_at = now
    deposit.save(update_fields=["state", "closed_at"])
    audit_record(actor=actor, actor_label="" if actor else "system", action="deposit.returned", obj=deposit,
                 reason=reason, data={"amount_minor": held, "subject": deposit.subject})
    return disb


def deposit_pay_out(*, deposit: Deposit, payee: Organization, payee_minor: int, fee_minor: int = 0,
                    actor: User | None = None, reason: str = "") -> Deposit:
    """NON-durable (the app above holds the transaction): a held deposit that paid for a service is
    paid out — `payee_minor` of it to the service's provider (`fee_minor` of that kept by the exchange),
    the rest refunded to the payer through the provider it came from. One balanced journal entry
    (deposit held → seller payable, platform fees, refund clearing), then the payout and the refund
    are queued like an order's."""
    deposit = lock_deposit(deposit.pk)
    if deposit.state != Deposit.State.HELD:
        raise InvalidTransition(_("This payment is not held (it is “%(state)s”).") % {"state": deposit.get_state_display()})
    held = ledger.deposit_balance(deposit)
    if held != deposit.amount_minor:
        raise Conflict(_("Escrow does not hold the amount paid for %(subject)s; staff have to check it.")
                       % {"subject": deposit.subject})
    if not 0 <= fee_minor <= payee_minor <= held:
        raise ValidationFailed(_("The amounts to pay out do not fit what is held."))
    payment = deposit_payment(deposit)
    provider = payment.provider if payment else "bank_transfer"
    currency = deposit.currency
    refund = held - payee_minor
    payable = ledger.account(K.SELLER_PAYABLE, currency, organization=payee)
    lines = [
        (ledger.account(K.DEPOSIT_HELD, currency, deposit=deposit), held),
        (payable, -(payee_minor - fee_minor)),
        (ledger.account(K.PLATFORM_FEES, currency), -fee_minor),
        (ledger.account(K.REFUND_CLEARING, currency, provider=provider), -refund),
    ]
    ledger.post("deposit_paid_out", [line for line in lines if line[1]],
                memo=f"{deposit.subject}: {payee_minor} to {payee.pk}, {refund} refunded",
                idempotency_key=f"deposit-paid-out-{deposit.pk}", created_by=actor)
    create_disbursement(kind=Disbursement.Kind.REFUND, amount_minor=refund, currency=currency, provider=provider,
                        recipient_org=deposit.payer_org, payment=payment, actor=actor)
    create_disbursement(kind=Disbursement.Kind.PAYOUT, amount_minor=payee_minor - fee_minor, currency=currency,
                        provider=provider, recipient_org=payee, payment=payment, source_account=payable, actor=actor)
    deposit.state = Deposit.State.PAID_OUT
    deposit.closed_at = timezone.now()
    deposit.save(update_fields=["state", "closed_at"])
    audit_record(actor=actor, actor_label="" if actor else "system", action="deposit.paid_out", obj=deposit,
                 reason=reason, data={"subject": deposit.subject, "payee": payee.pk, "payee_minor": payee_minor,
                                      "fee_minor": fee_minor, "refund_minor": refund})
    paid: Deposit = deposit
    return paid


def deposit_settle_receivable(*, deposit: Deposit, actor: User | None = None, reason: str = "") -> Deposit:
    """NON-durable (the app above holds the transaction): a held deposit paid a fee the exchange charged
    its payer earlier (`service_fee_charge`: receivable / platform fees) — e.g. the service fee on a
    pledge loan. One balanced entry: deposit held → the payer's receivable. Refused (nothing written)
    when the deposit is not held or the payer owes less than it holds."""
    deposit = lock_deposit(deposit.pk)
    if deposit.state != Deposit.State.HELD:
        raise InvalidTransition(_("This payment is not held (it is “%(state)s”).") % {"state": deposit.get_state_display()})
    held = ledger.deposit_balance(deposit)
    receivable = ledger.account(K.RECEIVABLE, deposit.currency, organization=deposit.payer_org)
    if held != deposit.amount_minor or ledger.balance(receivable) < held:
        raise Conflict(_("Escrow cannot match the payment for %(subject)s to what is owed; staff have to check it.")
                       % {"subject": deposit.subject})
    ledger.post("deposit_settled_receivable", [
        (ledger.account(K.DEPOSIT_HELD, deposit.currency, deposit=deposit), held), (receivable, -held),
    ], memo=f"{deposit.subject}: {held} owed by {deposit.payer_org_id} settled",
        idempotency_key=f"deposit-settled-{deposit.pk}", created_by=actor)
    deposit.state = Deposit.State.PAID_OUT
    deposit.closed_at = timezone.now()
    deposit.save(update_fields=["state", "closed_at"])
    audit_record(actor=actor, actor_label="" if actor else "system", action="deposit.settled_receivable",
                 obj=deposit, reason=reason, data={"subject": deposit.subject, "amount_minor": held})
    settled: Deposit = deposit
    return settled


@transaction.atomic(durable=True)
def deposit_apply(*, deposit: Deposit, order: Order) -> Deposit:
    """The held deposit counts towards `order` (placed for its payer): the buyer pays the rest; when the
    order is funded the deposit moves into the order's escrow."""
    from .core import lock_order

    order = lock_order(order.pk)
    deposit = lock_deposit(deposit.pk)
    if deposit.state != Deposit.State.HELD:
        raise InvalidTransition(_("This deposit is not held."))
    if deposit.payer_org_id != order.buyer_org_id or deposit.currency != order.currency:
        raise ValidationFailed(_("A deposit only counts towards an order of the organization that paid it."))
    if order.state not in (OrderState.PLACED, OrderState.SELLER_CONFIRMED):
        raise InvalidTransition(_("The order is no longer awaiting payment."))
    if deposit.order_id and deposit.order_id != order.pk:
        raise InvalidTransition(_("This deposit already counts towards another order."))
    deposit.order = order
    deposit.save(update_fields=["order"])
    audit_record(actor_label="system", action="deposit.counts_towards_order", obj=order,
                 data={"deposit": deposit.pk, "amount_minor": deposit.amount_minor})
    applied: Deposit = deposit
    return applied


def order_credit(order: Order) -> int:
    """What held deposits already pay of `order` (the buyer pays total − credit)."""
    deposits = Deposit.objects.filter(order=order, state=Deposit.State.HELD)
    credit: int = min(order.total_minor, sum(int(d.amount_minor) for d in deposits))
    return credit


def order_deposit_lines(order: Order) -> list[tuple[LedgerAccount, int]]:
    """Ledger lines moving every held deposit of `order` into its escrow; marks them applied."""
    lines = []
    for deposit in Deposit.objects.select_for_update(of=("self",)).filter(order=order, state=Deposit.State.HELD):
        lines.append((ledger.account(K.DEPOSIT_HELD, deposit.currency, deposit=deposit), deposit.amount_minor))
        deposit.state = Deposit.State.APPLIED
        deposit.closed_at = timezone.now()
        deposit.save(update_fields=["state", "closed_at"])
    return lines


def forfeit_share(held: int, order: Order) -> int:
    """The exchange's part of a forfeited deposit: the tenant's `deposit_forfeit_share_bps` when set,
    else the order's own commission rate (seller commission ÷ price, as snapshotted when placed)."""
    bps = require_tenant().deposit_forfeit_share_bps
    if bps is not None:
        return min(held, held * int(bps) // 10_000)
    return min(held, held * order.seller_commission_minor // order.price_minor) if order.price_minor else 0


def deposit_forfeit(*, deposit: Deposit, order: Order, reason: str = "") -> Disbursement | None:
    """NON-durable: the payer did not pay `order`, which its deposit counted towards (a won auction's
    winner who let the payment deadline pass, or cancelled). The deposit goes to the seller less the
    exchange's share (`forfeit_share`: the tenant's setting, else the order's commission rate), in one
    balanced entry; the seller's part is paid out like a sale's. No-op when
    nothing is held."""
    deposit = lock_deposit(deposit.pk)
    if deposit.state != Deposit.State.HELD:
        return None
    held = ledger.deposit_balance(deposit)
    share = forfeit_share(held, order)
    currency = deposit.currency
    seller_payable = ledger.account(K.SELLER_PAYABLE, currency, organization=order.seller_org)
    disb = None
    if held > 0:
        lines = [(ledger.account(K.DEPOSIT_HELD, currency, deposit=deposit), held),
                 (seller_payable, -(held - share)), (ledger.account(K.PLATFORM_FEES, currency), -share)]
        ledger.post("deposit_forfeited", [line for line in lines if line[1]], order=order,
                    memo=f"deposit {deposit.pk} ({deposit.subject}) forfeited: {order.reference} not paid",
                    idempotency_key=f"deposit-forfeited-{deposit.pk}")
        payment = deposit_payment(deposit)
        disb = create_disbursement(kind=Disbursement.Kind.PAYOUT, amount_minor=held - share, currency=currency,
                                   provider=payment.provider if payment else "bank_transfer",
                                   recipient_org=order.seller_org, order=order, payment=payment,
                                   source_account=seller_payable)
    deposit.state = Deposit.State.FORFEITED
    deposit.closed_at = timezone.now()
    deposit.save(update_fields=["state", "closed_at"])
    audit_record(actor_label="deadline", action="deposit.forfeited", obj=deposit, reason=reason,
                 data={"amount_minor": held, "exchange_share_minor": share, "order": order.reference,
                       "subject": deposit.subject})
    emit("deposit.forfeited", organizations=[deposit.payer_org, order.seller_org],
         data={"deposit": deposit.pk, "subject": deposit.subject, "order": order.reference, "amount_minor": held})
    return disb


def order_release_deposits(order: Order, *, reason: str = "", buyer_default: bool = False) -> None:
    """NON-durable: an order cancelled before funding gives back the deposits that were to count towards
    it; when the buyer defaulted (did not pay by the deadline, or cancelled) they are forfeited instead."""
    for deposit in Deposit.objects.filter(order=order, state=Deposit.State.HELD):
        if buyer_default:
            deposit_forfeit(deposit=deposit, order=order, reason=reason)
        else:
            deposit_return(deposit=deposit, reason=reason)


__all__ = ["deposit_pay_start", "deposit_return", "deposit_forfeit", "deposit_pay_out", "deposit_apply",
           "deposit_settle_receivable",
           "order_credit", "deposit_payment"]
