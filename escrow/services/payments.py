"""Payments in (buyer pays an order, seller pays a margin) and disbursements out (refunds, payouts)."""

from __future__ import annotations

from typing import Any, cast

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.audit import audit_record
from core.errors import GatewayError, InvalidTransition, ValidationFailed
from core.events import emit
from core.models import Tenant
from core.money import format_money
from core.notifications import notify
from core.outbox import enqueue
from core.permissions import Role
from core.tenancy import require_tenant
from escrow import ledger
from escrow.models import (
    AccountKind,
    Deposit,
    Disbursement,
    LedgerAccount,
    Order,
    OrderState,
    Payment,
    WebhookEvent,
)
from escrow.payments import get_provider
from listings.models import Listing
from listings.services import listing_margin_paid

from .common import create_disbursement, next_reference, require_buyer, require_staff
from .core import _transition, lock_order_and_listing, order_parties

K = AccountKind
S = OrderState


@transaction.atomic(durable=True)
def payment_start(*, order: Order, actor: User, provider: str) -> Payment:
    """The buyer starts paying a seller-confirmed order with `provider`; returns the pending Payment
    (a pending one for the same provider is reused). The view then asks the provider for the page
    to send the buyer to (outside the transaction)."""
    tenant = require_tenant()
    order, _listing = lock_order_and_listing(order.pk)
    require_buyer(actor, order)
    if order.state != S.SELLER_CONFIRMED:
        raise InvalidTransition(_("This order cannot be paid now."))
    gateway = get_provider(provider)
    if not gateway.available(tenant, currency=order.currency):
        raise ValidationFailed(_("This payment method is not offered."))
    pending = Payment.objects.filter(order=order, provider=provider, state=Payment.State.PENDING).first()
    if pending:
        return pending
    from .deposits import order_credit

    payment = Payment.objects.create(
        tenant=tenant, purpose=Payment.Purpose.ORDER, order=order, payer_org=order.buyer_org, provider=provider,
        amount_minor=order.total_minor - order_credit(order), currency=order.currency,
        reference=next_reference("PAY", "payment", tenant=tenant), created_by=actor)
    if order.payment_method != provider:
        order.payment_method = provider
        order.save(update_fields=["payment_method", "updated_at"])
    audit_record(actor=actor, action="payment.started", obj=order,
                 data={"payment": payment.reference, "provider": provider, "amount_minor": payment.amount_minor})
    return payment


def _record_event(provider: str, event_id: str, kind: str, tenant: Tenant, payload: dict[str, Any] | None) -> bool:
    """Insert the event id; False when it was processed before (the unique index decides, even
    between two deliveries arriving at once)."""
    try:
        with transaction.atomic():
            WebhookEvent.objects.create(provider=provider, event_id=event_id, kind=kind, tenant=tenant,
                                        payload=payload or {})
    except IntegrityError:
        return False
    return True


def _receive(payment: Payment, *, provider_ref: str = "", amount_minor: int | None = None) -> str:
    """Money arrived for `payment` (its row and its order/listing locked by the caller)."""
    payment.state = Payment.State.SUCCEEDED
    payment.received_at = timezone.now()
    payment.received_minor = amount_minor if amount_minor is not None else payment.amount_minor
    if provider_ref:
        payment.provider_ref = provider_ref
    payment.save(update_fields=["state", "received_at", "received_minor", "provider_ref"])
    clearing = ledger.account(K.PROVIDER_CLEARING, payment.currency, provider=payment.provider)
    amount = payment.received_minor

    if payment.purpose == Payment.Purpose.ROYALTY:
        return _royalty_received(payment, clearing, amount)
    if payment.purpose == Payment.Purpose.DEPOSIT:
        from .deposits import receive_deposit

        outcome = receive_deposit(payment, amount, clearing)
        if outcome != "unmatched":
            return outcome
        return _return_unmatched(payment, amount, clearing, _("the deposit was no longer awaiting payment"))

    if payment.purpose == Payment.Purpose.ORDER:
        from .deposits import order_credit, order_deposit_lines

        order = cast(Order, payment.order)  # an order's payment
        due = order.total_minor - order_credit(order)
        if order.state == S.SELLER_CONFIRMED and amount == due:
            # Deposits that count towards the order move into its escrow with the buyer's payment.
            deposit_lines = order_deposit_lines(order)
            ledger.post("order_funded", [
                (clearing, amount), *deposit_lines,
                (ledger.account(K.ESCROW_HELD, payment.currency, order=order), -order.total_minor),
            ], order=order, memo=f"{payment.reference} via {payment.provider}",
                idempotency_key=f"payment-received-{payment.pk}")
            _transition(order, "fund", actor_label=payment.provider,
                        data={"payment": payment.reference, "amount_minor": amount})
            # The papers are generated at once by the worker (published on commit; the deadline
            # sweep and the order page only catch up if this message was lost).
            enqueue("transfers.tasks.prepare_transfer", tenant_id=order.tenant_id, order_id=order.pk)
            return "funded"
        why = _("the order was no longer awaiting payment") if amount == due else \
            _("the amount did not match the order")
        return _return_unmatched(payment, amount, clearing, why, order=order)

    listing = cast(Listing, payment.listing)  # a margin's payment
    if listing.state == Listing.State.AWAITING_MARGIN and amount == payment.amount_minor:
        ledger.post("margin_paid", [
            (clearing, amount), (ledger.account(K.MARGIN_HELD, payment.currency, listing=listing), -amount),
        ], listing=listing, memo=f"{payment.reference} via {payment.provider}",
            idempotency_key=f"payment-received-{payment.pk}")
        listing_margin_paid(listing=listing, actor_label=payment.provider,
                            data={"payment": payment.reference, "amount_minor": amount})
        return "margin_held"
    return _return_unmatched(payment, amount, clearing, _("the listing was no longer awaiting its margin"),
                             listing=listing)


@transaction.atomic(durable=True)
def royalty_payment_start(*, order: Order, actor: User, provider: str, amount_minor: int, label: str) -> Payment:
    """The licensee of a licence order starts paying a running royalty the platform invoiced (issue 14):
    a pending Payment of `amount_minor`; when it arrives it is paid on to the licensor (less the
    exchange's commission rate of the order) through the ledger."""
    tenant = require_tenant()
    order, _listing = lock_order_and_listing(order.pk)
    require_buyer(actor, order)
    if not order.is_licence or order.state != S.COMPLETED:
        raise InvalidTransition(_("Royalties are paid on a licence whose upfront fee has been released."))
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor <= 0:
        raise ValidationFailed(_("The royalty due must be above zero."))
    gateway = get_provider(provider)
    if not gateway.available(tenant):
        raise ValidationFailed(_("This payment method is not offered."))
    payment = Payment.objects.create(
        tenant=tenant, purpose=Payment.Purpose.ROYALTY, order=order, payer_org=order.buyer_org, provider=provider,
        amount_minor=amount_minor, currency=order.currency,
        reference=next_reference("ROY", "escrow_payment_ref_seq"), created_by=actor)
    audit_record(actor=actor, action="royalty.payment_started", obj=order,
                 data={"payment": payment.reference, "provider": provider, "amount_minor": amount_minor,
                       "label": label[:200]})
    return payment


def _royalty_received(payment: Payment, clearing: LedgerAccount, amount: int) -> str:
    """A royalty arrived: the exchange keeps the order's commission rate, the licensor is paid the rest."""
    order = cast(Order, payment.order)  # a royalty is paid on its licence order
    if amount != payment.amount_minor:
        return _return_unmatched(payment, amount, clearing, _("the amount did not match the royalty invoiced"),
                                 order=order)
    fee = min(amount, amount * int(order.seller_commission_bps or 0) // 10_000)
    licensor_payable = ledger.account(K.SELLER_PAYABLE, payment.currency, organization=order.seller_org)
    lines = [(clearing, amount), (licensor_payable, -(amount - fee))]
    if fee:
        lines.append((ledger.account(K.PLATFORM_FEES, payment.currency), -fee))
    ledger.post("royalty_received", [line for line in lines if line[1]], order=order,
                memo=f"{payment.reference} royalty via {payment.provider}",
                idempotency_key=f"payment-received-{payment.pk}")
    create_disbursement(kind=Disbursement.Kind.PAYOUT, amount_minor=amount - fee, currency=payment.currency,
                        provider=payment.provider, recipient_org=order.seller_org, order=order, payment=payment,
                        source_account=licensor_payable)
    audit_record(actor_label=payment.provider, action="royalty.received", obj=order,
                 data={"payment": payment.reference, "amount_minor": amount, "fee_minor": fee})
    emit("royalty.paid", organizations=[order.buyer_org, order.seller_org],
         data={"order": order.reference, "payment": payment.reference, "amount_minor": amount, "fee_minor": fee},
         payment=payment)
    return "royalty_paid"


def _return_unmatched(payment: Payment, amount: int, clearing: LedgerAccount, why: str, *, order: Order | None = None,
                      listing: Listing | None = None) -> str:
    """Money that arrived but cannot be used (late, duplicate or wrong amount) goes straight back."""
    refund_clearing = ledger.account(K.REFUND_CLEARING, payment.currency, provider=payment.provider)
    ledger.post("payment_unmatched", [(clearing, amount), (refund_clearing, -amount)], order=order, listing=listing,
                memo=f"{payment.reference} returned: {why}", idempotency_key=f"payment-received-{payment.pk}")
    create_disbursement(kind=Disbursement.Kind.REFUND, amount_minor=amount, currency=payment.currency,
                        provider=payment.provider, recipient_org=payment.payer_org, order=order, listing=listing,
                        payment=payment)
    # a deposit's payment (no order, no listing) is audited on the payment itself
    audit_record(actor_label=payment.provider, action="payment.returned",
                 obj=order or listing or payment, reason=str(why),
                 data={"payment": payment.reference, "amount_minor": amount})
    if order is not None:
        notify(users=order_parties(order), kind="payment.returned",
               subject=gettext_lazy("A payment for order %(ref)s is being returned"),
               body=gettext_lazy("%(amount)s arrived but could not be used: %(why)s. It goes back the way it came."),
               params={"ref": order.reference, "amount": format_money(amount, payment.currency), "why": why},
               url=order.get_absolute_url())
    return "returned"


def _lock_payment_target(payment_id: int) -> Payment | None:
    """Lock in the fixed order: order (or listing) first, then the payment."""
    payment = Payment.objects.filter(pk=payment_id).only("pk", "order_id", "listing_id").first()
    if payment is None:
        return None
    if payment.order_id:
        lock_order_and_listing(payment.order_id)
    elif payment.listing_id:
        Listing.objects.select_for_update(of=("self",)).get(pk=payment.listing_id)
    return (Payment.objects.select_for_update(of=("self",)).select_related("order", "listing", "payer_org")
            .get(pk=payment_id))


@transaction.atomic(durable=True)
def payment_event_apply(*, provider: str, event_id: str, kind: str, payment_id: int | None = None,
                        provider_ref: str = "", amount_minor: int | None = None, currency: str = "",
                        reason: str = "", data: dict[str, Any] | None = None) -> str:
    """Apply one verified provider event exactly once (a table of processed event ids). Events may
    come twice or out of order: a success after a failure still counts (the money arrived); a
    failure after a success changes nothing; money for an order that can no longer take it goes
    back. Returns what happened: duplicate | funded | margin_held | returned | failed | ignored."""
    tenant = require_tenant()
    if not _record_event(provider, event_id, kind, tenant, data):
        return "duplicate"
    payment = _lock_payment_target(payment_id) if payment_id else None
    if payment is None or payment.provider != provider:
        outcome = "ignored"
    elif kind == "payment.succeeded":
        if payment.state == Payment.State.SUCCEEDED:
            outcome = "ignored"  # the same money reported under another event id
        else:
            outcome = _receive(payment, provider_ref=provider_ref, amount_minor=amount_minor)
    elif kind == "payment.failed":
        if payment.state == Payment.State.PENDING:
            payment.state = Payment.State.FAILED
            payment.failure_reason = (reason or _("The payment was declined."))[:300]
            payment.save(update_fields=["state", "failure_reason"])
            if payment.order_id:
                order = cast(Order, payment.order)
                audit_record(actor_label=provider, action="payment.failed", obj=order, reason=payment.failure_reason,
                             data={"payment": payment.reference})
                notify(users=[order.buyer], kind="payment.failed",
                       subject=gettext_lazy("Payment for order %(ref)s did not go through"),
                       body=gettext_lazy("%(reason)s You can try again before the payment deadline."),
                       params={"ref": order.reference, "reason": payment.failure_reason},
                       url=order.get_absolute_url())
            outcome = "failed"
        else:
            outcome = "ignored"
    else:
        outcome = "ignored"
    WebhookEvent.objects.filter(provider=provider, event_id=event_id).update(outcome=outcome)
    return outcome


@transaction.atomic(durable=True)
def bank_transfer_record_receipt(*, payment: Payment, actor: User, amount_minor: int, bank_reference: str = "") -> str:
    """Finance staff record a bank transfer received for a pending bank-transfer payment. The amount
    must match what is due; a different amount is refused with a message saying what to do."""
    require_staff(actor, Role.FINANCE)
    payment = cast(Payment, _lock_payment_target(payment.pk))  # the caller's payment exists
    if payment.provider != "bank_transfer":
        raise ValidationFailed(_("Only bank-transfer payments are recorded by hand."))
    if payment.state == Payment.State.SUCCEEDED:
        raise InvalidTransition(_("This transfer was already recorded."))
    if amount_minor != payment.amount_minor:
        raise ValidationFailed(
            _("Received %(got)s but %(due)s is due for %(ref)s. Nothing was recorded: ask the payer to send the "
              "difference, or return the transfer to them and ask them to send the exact amount.")
            % {"got": format_money(amount_minor, payment.currency), "due": format_money(payment.amount_minor, payment.currency),
               "ref": payment.reference})
    if not _record_event("bank_transfer", f"bank-{payment.tenant_id}-{payment.pk}", "payment.succeeded",
                         payment.tenant, {"bank_reference": bank_reference, "recorded_by": actor.pk}):
        raise InvalidTransition(_("This transfer was already recorded."))
    outcome = _receive(payment, provider_ref=bank_reference, amount_minor=amount_minor)
    audit_record(actor=actor, action="payment.bank_receipt_recorded",
                 obj=cast("Order | Listing | Deposit", payment.order or payment.listing or payment.deposit),
                 data={"payment": payment.reference, "amount_minor": amount_minor, "bank_reference": bank_reference,
                       "outcome": outcome})
    return outcome


def _settle(disb: Disbursement, provider_ref: str | None, actor: User | None = None) -> None:
    disb.state = Disbursement.State.PAID
    disb.paid_at = timezone.now()
    disb.provider_ref = provider_ref or disb.provider_ref
    disb.save(update_fields=["state", "paid_at", "provider_ref", "attempts", "last_error"])
    source = K.REFUND_CLEARING if disb.kind == Disbursement.Kind.REFUND else K.PAYOUT_CLEARING
    ledger.post(f"{disb.kind}_settled", [
        (ledger.account(source, disb.currency, provider=disb.provider), disb.amount_minor),
        (ledger.account(K.PROVIDER_CLEARING, disb.currency, provider=disb.provider), -disb.amount_minor),
    ], order=disb.order, listing=disb.listing, memo=f"{disb} {disb.provider_ref}",
        idempotency_key=f"disb-settled-{disb.pk}", created_by=actor)
    if disb.kind == Disbursement.Kind.PAYOUT:  # the payout notice names the account the money went to
        members = list(User.objects.filter(memberships__organization_id=disb.recipient_org_id, is_active=True)
                       .distinct())
        notify(users=members, kind="payout.paid", subject=gettext_lazy("Paid: %(amount)s for order %(ref)s"),
               body=gettext_lazy("%(amount)s was sent to %(account)s (reference %(provider_ref)s)."),
               params={"amount": format_money(disb.amount_minor, disb.currency),
                       "ref": disb.order.reference if disb.order else "-",
                       "account": disb.destination or disb.get_provider_display(),
                       "provider_ref": disb.provider_ref or "-"},
               url=disb.order.get_absolute_url() if disb.order else "/orders/")


@transaction.atomic(durable=True)
def disbursement_execute(*, disbursement_id: int) -> str:
    """Send one refund/payout through its provider (the task after commit; retried by beat while it
    fails). Idempotent: a paid one is left alone, and the provider gets our id as idempotency key.
    Returns paid | pending (manual) | failed | done."""
    disb = (Disbursement.objects.select_for_update(of=("self",)).select_related("order", "payment", "recipient_org")
            .filter(pk=disbursement_id).first())
    if disb is None or disb.state == Disbursement.State.PAID:
        return "done"
    if disb.state == Disbursement.State.HELD:
        return "held"
    gateway = get_provider(disb.provider)
    if gateway.manual_disbursements:
        return "pending"
    disb.attempts += 1
    try:
        ref = gateway.disburse(disb)
    except GatewayError as exc:
        disb.state = Disbursement.State.FAILED
        disb.last_error = str(exc.message)[:500]
        disb.save(update_fields=["state", "attempts", "last_error"])
        return "failed"
    if ref is None:
        disb.save(update_fields=["attempts"])
        return "pending"
    disb.last_error = ""
    _settle(disb, ref)
    return "paid"


@transaction.atomic(durable=True)
def disbursement_mark_paid(*, disbursement: Disbursement, actor: User, bank_reference: str) -> Disbursement:
    """Finance staff record a refund or payout they paid from the bank by hand."""
    require_staff(actor, Role.FINANCE)
    if not (bank_reference or "").strip():
        raise ValidationFailed(_("Enter the bank's reference of the transfer you made."))
    disb = Disbursement.objects.select_for_update(of=("self",)).get(pk=disbursement.pk)
    if disb.state == Disbursement.State.PAID:
        raise InvalidTransition(_("This one is already paid."))
    if disb.state == Disbursement.State.HELD:
        raise InvalidTransition(_("This payout waits for verified payout details: %(why)s Nothing was recorded.")
                                % {"why": disb.last_error})
    _settle(disb, bank_reference.strip(), actor=actor)
    audit_record(actor=actor, action="disbursement.marked_paid", obj=disb,
                 data={"kind": disb.kind, "amount_minor": disb.amount_minor, "bank_reference": bank_reference})
    return disb


__all__ = ["payment_start", "payment_event_apply", "bank_transfer_record_receipt", "disbursement_execute",
           "disbursement_mark_paid"]
