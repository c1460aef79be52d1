"""The order life cycle: place, confirm, cancel, fund, complete (release), refund. Disputes: `disputes`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import active_organization
from core.audit import audit_record
from core.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from core.events import ask, emit
from core.money import Money, format_money
from core.notifications import notify
from core.permissions import Role, is_member, require_one_side
from core.tenancy import require_tenant
from escrow import fees, ledger
from escrow.models import (
    LIVE_STATES,
    AccountKind,
    Disbursement,
    Dispute,
    Order,
    OrderState,
    Payment,
)
from listings.models import Listing
from listings.selectors import conflicting_encumbrances
from listings.services import listing_licences_taken, listing_mark_sold, listing_release, listing_reserve

from .common import (
    cancel_pending_payments,
    create_disbursement,
    is_staff_for,
    next_reference,
    order_payment,
    require_buyer,
    require_seller,
    require_staff,
)
from .core import MESSAGES, _transition, lock_order_and_listing, order_parties
from .deposits import deposit_payment
from .margins import margin_forfeit, margin_return

K = AccountKind
S = OrderState
RACE_LOST = "Someone else ordered this a moment ago."


# --- place ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AgreedDeal:
    """What the parties agreed in a negotiation (negotiation/ builds it): the price replaces the listing's
    asking price, the terms are snapshotted on the order. `holds_listing=False` for a licence that leaves
    the listing on the market (non-exclusive, or exclusive for one territory/field: the caller checks the
    overlap under the listing lock). A seller-side broker's commission (basis points of the price) is
    split out of the seller's payout at release."""

    price_minor: int
    currency: str
    terms: dict[str, Any] = field(default_factory=dict)
    holds_listing: bool = True
    broker_org: Any = None
    broker_commission_bps: int = 0
    # A broker negotiated for the buyer: the order is the principal's (`buyer_org`, `buyer` one of its
    # members), and the buyer pays the broker's commission (basis points of the price) on top, into escrow.
    buyer_org: Any = None
    buyer_broker_org: Any = None
    buyer_broker_commission_bps: int = 0


LICENCE_ORDER_STATES = (*LIVE_STATES, S.COMPLETED)


def _licence_slot_check(locked: Listing, agreed: AgreedDeal | None) -> None:
    """Non-exclusive licences: the optional cap on licensees. Buy-now of an exclusive licence: refused
    once exclusive licences of parts of the listing were granted through negotiation."""
    licences = Order.objects.filter(listing=locked, holds_listing=False, state__in=LICENCE_ORDER_STATES)
    if locked.deal_type == Listing.DealType.NON_EXCLUSIVE_LICENCE and locked.licence_cap:
        if licences.count() >= locked.licence_cap:
            raise Conflict(_("All %(n)s licences of this listing are taken.") % {"n": locked.licence_cap})
    if agreed is None and locked.deal_type == Listing.DealType.EXCLUSIVE_LICENCE and licences.exists():
        raise Conflict(_("Exclusive licences of parts of this listing were already granted; make an offer "
                         "for the territory or field you need."))


def licence_places_sync(listing: Listing) -> None:
    """A capped non-exclusive licence listing (locked by the caller) is sold out once every licence is
    taken by a live or completed order, and offered again when one is cancelled, refunded or settled."""
    if listing.deal_type != Listing.DealType.NON_EXCLUSIVE_LICENCE or not listing.licence_cap:
        return
    taken = Order.objects.filter(listing=listing, holds_listing=False, state__in=LICENCE_ORDER_STATES).count()
    listing_licences_taken(listing=listing, taken=taken)


def _place(*, listing: Listing, buyer: User | None, terms_accepted: bool, payment_method: str, actor: User | None,
           agreed: AgreedDeal | None, via: str = "") -> Order:
    tenant = require_tenant()
    actor = actor or buyer
    if buyer is None or not buyer.is_authenticated:
        raise NotAllowed(_("Log in to order."))
    if not terms_accepted:
        raise ValidationFailed(_("Please read and accept the contract terms before placing the order."),
                               field_errors={"terms": [_("Accept the terms to continue.")]})
    buyer_org = active_organization(buyer)
    if agreed is not None and agreed.buyer_org is not None:
        if not is_member(buyer, agreed.buyer_org):
            raise NotAllowed(_("The buyer must be a member of %(org)s.") % {"org": agreed.buyer_org.legal_name})
        buyer_org = agreed.buyer_org
    if buyer_org is None:
        raise NotAllowed(_("Join or register an organization in your account before ordering."))
    locked = Listing.objects.select_for_update(of=("self",)).filter(pk=listing.pk).first()
    if locked is None:
        raise InvalidTransition(_("This listing is not for sale right now."))
    if locked.seller_org_id == buyer_org.pk:
        raise NotAllowed(_("You cannot buy a listing of your own organization."))
    require_one_side(buyer, acting_for=buyer_org, other_side=locked.seller_org)
    if agreed is None and locked.pricing == Listing.Pricing.ON_REQUEST:
        raise InvalidTransition(_("The price of this listing is on request: make an offer."))
    if agreed is not None and agreed.currency != locked.currency:
        raise ValidationFailed(_("The listing is priced in %(cur)s; the deal must be in the same currency.")
                               % {"cur": locked.currency}, field_errors={"currency": [_("Use %(cur)s.")
                                                                                      % {"cur": locked.currency}]})
    # Buy-now of a non-exclusive licence leaves the listing on the market, like a negotiated one.
    holds = agreed.holds_listing if agreed is not None else locked.deal_type != Listing.DealType.NON_EXCLUSIVE_LICENCE
    if locked.state == Listing.State.RESERVED or Order.objects.filter(
            listing=locked, state__in=LIVE_STATES, holds_listing=True).exists():
        raise Conflict(_(RACE_LOST))
    if locked.state == Listing.State.SOLD_OUT:
        raise Conflict(_("All %(n)s licences of this listing are taken.") % {"n": locked.licence_cap})
    if locked.state != Listing.State.PUBLISHED:
        raise InvalidTransition(_("This listing is not for sale right now."))
    hold = ask("listing.sale_hold", listing=locked, via=via)  # e.g. demand: the listing is being auctioned
    if hold is not None:
        raise Conflict(str(hold.message), code="on_auction")
    encumbered = conflicting_encumbrances(locked)
    if encumbered:
        raise ValidationFailed(" ".join(str(m) for m in encumbered), code="encumbered")
    if not holds or locked.deal_type == Listing.DealType.EXCLUSIVE_LICENCE:
        _licence_slot_check(locked, agreed)
    if holds and Order.objects.filter(listing=locked, state__in=LIVE_STATES).exists():
        raise Conflict(_("Licences of this listing are being granted; it cannot be sold whole now."))
    now = timezone.now()
    price_minor = agreed.price_minor if agreed is not None else locked.price_minor
    if price_minor <= 0:
        raise ValidationFailed(_("The price must be above zero."))
    quote = fees.quote(tenant=tenant, price_minor=price_minor, currency=locked.currency)
    if not buyer_org.is_verified and quote.price_minor > tenant.verified_buyer_above_minor:
        raise NotAllowed(_("%(org)s must be verified by the exchange before it can buy this listing. Submit its "
                           "documents on the organization page.") % {"org": buyer_org.legal_name})
    order = Order(tenant=tenant, listing=locked, buyer=buyer, buyer_org=buyer_org, seller_org_id=locked.seller_org_id,
                  deal_type=locked.deal_type, payment_method=payment_method, holds_listing=holds,
                  terms=dict(agreed.terms) if agreed is not None else {},
                  seller_confirm_due=now + timedelta(days=tenant.seller_confirm_days))
    fees.snapshot_onto(order, quote)
    if agreed is not None and agreed.broker_org is not None and agreed.broker_commission_bps:
        order.broker_org = agreed.broker_org
        broker = Money(price_minor, locked.currency).bps(agreed.broker_commission_bps).amount
        order.broker_commission_minor = min(broker, max(0, price_minor - order.seller_commission_minor))
    if agreed is not None and agreed.buyer_broker_org is not None and agreed.buyer_broker_commission_bps:
        order.buyer_broker_org = agreed.buyer_broker_org
        order.buyer_broker_commission_minor = Money(price_minor, locked.currency).bps(
            agreed.buyer_broker_commission_bps).amount
    order.reference = next_reference("IPX", "order", tenant=tenant)
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        raise Conflict(_(RACE_LOST)) from None
    if holds:
        listing_reserve(listing=locked)
    else:
        licence_places_sync(locked)
    audit_record(actor=actor, action="order.place", obj=order, to_state=order.state,
                 data={"listing": locked.pk, "price_minor": order.price_minor, "buyer_fee_minor": order.buyer_fee_minor,
                       "currency": order.currency, "terms_accepted": True, "negotiated": agreed is not None,
                       "holds_listing": holds, "broker_org": order.broker_org_id,
                       "broker_commission_minor": order.broker_commission_minor,
                       "buyer_broker_org": order.buyer_broker_org_id,
                       "buyer_broker_commission_minor": order.buyer_broker_commission_minor})
    subject, body = MESSAGES["place"]
    notify(users=order_parties(order), kind="order.place", subject=subject, body=body,
           params={"ref": order.reference, "title": locked.title, "reason": ""}, url=order.get_absolute_url())
    emit("order.state_changed", organizations=[order.buyer_org, order.seller_org, order.broker_org,
                                               order.buyer_broker_org],
         data={"order": order.reference, "from": "", "to": order.state, "step": "place", "at": now.isoformat()},
         order=order, step="place", actor=actor, reason="")
    return order


@transaction.atomic(durable=True)
def order_place(*, listing: Listing, buyer: User | None, terms_accepted: bool, payment_method: str = "",
                actor: User | None = None, agreed_price_minor: int | None = None, via: str = "") -> Order:
    """Buyer orders a published listing: contract terms accepted, fees snapshotted from the tenant,
    the listing reserved. `agreed_price_minor` (a won auction, a chosen tender) replaces the listing's
    price; fees are computed on it. `via` names the sale that places the order (an auction's
    "auction:<id>"): a listing held by a live sale of a higher app (an auction) is not for sale any
    other way, and that app says so when asked `listing.sale_hold` under the listing lock. The buyer must act for an organization that is not the seller's.
    Races: the listing row is locked and a partial unique constraint allows one live order per listing;
    losers get Conflict("Someone else ordered this a moment ago.")."""
    agreed = None
    if agreed_price_minor is not None:
        if int(agreed_price_minor) <= 0:
            raise ValidationFailed(_("The agreed price must be more than zero."))
        agreed = AgreedDeal(price_minor=int(agreed_price_minor), currency=listing.currency)
    return _place(listing=listing, buyer=buyer, terms_accepted=terms_accepted, payment_method=payment_method,
                  actor=actor, agreed=agreed, via=via)


@transaction.atomic
def order_place_agreed(*, listing: Listing, buyer: User | None, agreed: AgreedDeal,
                       actor: User | None = None) -> Order:
    """Place the order of a negotiated deal at the agreed price and terms. NOT durable: negotiation calls
    it inside its own transaction (the offer row and the listing row locked), so the offer's acceptance
    and the order commit together or not at all. Same rules as order_place (one live order per
    listing for deals that hold it, the licence cap)."""
    return _place(listing=listing, buyer=buyer, terms_accepted=True, payment_method="", actor=actor, agreed=agreed)


# --- before payment --------------------------------------------------------------------------------

@transaction.atomic(durable=True)
def order_seller_confirm(*, order: Order, actor: User) -> Order:
    """A member of the seller's organization confirms the order; the buyer's payment deadline starts."""
    order, _listing = lock_order_and_listing(order.pk)
    require_seller(actor, order)
    return _transition(order, "seller_confirm", actor=actor)


def _cancel(order: Order, listing: Listing, *, actor: User | None = None, actor_label: str = "",
            reason: str = "", buyer_default: bool = False) -> Order:
    from .deposits import order_release_deposits

    _transition(order, "cancel", actor=actor, actor_label=actor_label, reason=reason)
    cancel_pending_payments(order)
    # A deposit counted towards the order (a won auction) is forfeited when the buyer defaulted.
    order_release_deposits(order, reason=reason, buyer_default=buyer_default)
    if order.holds_listing and listing.state == Listing.State.RESERVED:
        listing_release(listing=listing)
    elif not order.holds_listing:
        licence_places_sync(listing)
    return order


@transaction.atomic(durable=True)
def order_seller_decline(*, order: Order, actor: User, reason: str = "") -> Order:
    """A member of the seller's organization declines: cancelled, listing released."""
    order, listing = lock_order_and_listing(order.pk)
    require_seller(actor, order)
    if order.state != S.PLACED:
        raise InvalidTransition(_("Only an order awaiting your confirmation can be declined."))
    return _cancel(order, listing, actor=actor, reason=reason or _("Declined by the seller."))


@transaction.atomic(durable=True)
def order_buyer_cancel(*, order: Order, actor: User, reason: str = "") -> Order:
    """A member of the buyer's organization cancels before paying: cancelled, listing released."""
    order, listing = lock_order_and_listing(order.pk)
    require_buyer(actor, order)
    if order.state not in (S.PLACED, S.SELLER_CONFIRMED):
        raise InvalidTransition(_("The order can only be cancelled before it is paid."))
    return _cancel(order, listing, actor=actor, reason=reason or _("Cancelled by the buyer before paying."),
                   buyer_default=True)


@transaction.atomic(durable=True)
def order_expire(*, order: Order) -> Order:
    """Seller-confirm or payment deadline passed (called by the deadline worker): cancelled, listing
    released. No-op (returns the order) if the order moved on meanwhile or the deadline is not past."""
    order, listing = lock_order_and_listing(order.pk)
    now = timezone.now()
    if order.state == S.PLACED and order.seller_confirm_due and order.seller_confirm_due <= now:
        reason = _("The seller did not confirm before the deadline.")
    elif order.state == S.SELLER_CONFIRMED and order.payment_due and order.payment_due <= now:
        reason = _("The buyer did not pay before the deadline.")
    else:
        return order
    return _cancel(order, listing, actor_label="deadline", reason=reason,
                   buyer_default=order.state == S.SELLER_CONFIRMED)


# --- completion and release ----------------------------------------------------------------------

def _release(order: Order, listing: Listing, *, actor: User | None = None, actor_label: str = "") -> Order:
    """complete → escrow to seller payable and fees → payout queued → margin returned → listing sold."""
    _transition(order, "complete", actor=actor, actor_label=actor_label)
    held = ledger.escrow_balance(order)
    if held != order.total_minor:
        raise Conflict(_("The escrow of order %(ref)s does not hold the amount paid; staff have to check it.")
                       % {"ref": order.reference})
    currency = order.currency
    seller_payable = ledger.account(K.SELLER_PAYABLE, currency, organization=order.seller_org)
    lines = [
        (ledger.account(K.ESCROW_HELD, currency, order=order), order.total_minor),
        (seller_payable, -order.payout_minor),
        (ledger.account(K.PLATFORM_FEES, currency), -(order.buyer_fee_minor + order.seller_commission_minor)),
    ]
    broker_payable = None
    if order.broker_org_id and order.broker_commission_minor:
        # the seller's broker: its commission is split out of the seller's share, payable to the broker
        broker_payable = ledger.account(K.SELLER_PAYABLE, currency, organization=order.broker_org)
        lines.append((broker_payable, -order.broker_commission_minor))
    buyer_broker_payable = None
    if order.buyer_broker_org_id and order.buyer_broker_commission_minor:
        # the buyer's broker: the buyer paid its commission into escrow with the price
        buyer_broker_payable = ledger.account(K.SELLER_PAYABLE, currency, organization=order.buyer_broker_org)
        lines.append((buyer_broker_payable, -order.buyer_broker_commission_minor))
    ledger.post("order_released", [line for line in lines if line[1]], order=order,
                memo=f"{order.reference} released", idempotency_key=f"order-released-{order.pk}", created_by=actor)
    payment = cast(Payment, order_payment(order))  # a completed order was funded by a payment
    create_disbursement(kind=Disbursement.Kind.PAYOUT, amount_minor=order.payout_minor, currency=currency,
                        provider=payment.provider, recipient_org=order.seller_org, order=order, payment=payment,
                        source_account=seller_payable, actor=actor)
    if broker_payable is not None and order.broker_org is not None:
        create_disbursement(kind=Disbursement.Kind.PAYOUT, amount_minor=order.broker_commission_minor,
                            currency=currency, provider=payment.provider, recipient_org=order.broker_org, order=order,
                            payment=payment, source_account=broker_payable, actor=actor)
    if buyer_broker_payable is not None and order.buyer_broker_org is not None:
        create_disbursement(kind=Disbursement.Kind.PAYOUT, amount_minor=order.buyer_broker_commission_minor,
                            currency=currency, provider=payment.provider, recipient_org=order.buyer_broker_org,
                            order=order, payment=payment, source_account=buyer_broker_payable, actor=actor)
    if order.holds_listing:
        margin_return(listing=listing, actor=actor,
                      reason=_("Sale completed (order %(ref)s).") % {"ref": order.reference})
        if listing.state == Listing.State.RESERVED:
            listing_mark_sold(listing=listing)
    return order


@transaction.atomic(durable=True)
def order_confirm_certificate(*, order: Order, actor: User, expected_amount_minor: int | None = None) -> Order:
    """The buyer confirms receipt of the certificate (transfer approved): completed, and the payout is
    released — seller paid price − commission, their margin returned, the platform keeps the fees;
    the listing is sold. `expected_amount_minor` is the seller's payout the buyer was shown: a different
    amount refuses (Conflict) and nothing changes."""
    order, listing = lock_order_and_listing(order.pk)
    require_buyer(actor, order)
    if order.state != S.TRANSFER_APPROVED:
        raise InvalidTransition(_("The certificate can be confirmed once the office has approved the transfer."))
    if expected_amount_minor is not None and expected_amount_minor != order.payout_minor:
        raise Conflict(_("The amount released to the seller is %(amount)s, not what you confirmed; nothing was done. "
                         "Check the summary again.") % {"amount": format_money(order.payout_minor, order.currency)})
    return _release(order, listing, actor=actor)


@transaction.atomic(durable=True)
def order_auto_confirm(*, order: Order) -> Order:
    """The inspection deadline passed: the platform confirms for the buyer (as order_confirm_certificate).
    No-op if the order is no longer awaiting the buyer's confirmation or the deadline is not past."""
    order, listing = lock_order_and_listing(order.pk)
    if order.state != S.TRANSFER_APPROVED or not order.inspection_due or order.inspection_due > timezone.now():
        return order
    return _release(order, listing, actor_label="platform (inspection deadline)")


# --- refunds -------------------------------------------------------------------------------------

def _refund(order: Order, listing: Listing, *, actor: User | None = None, actor_label: str = "",
            reason: str = "") -> Order:
    """refund → escrow to refund clearing → refund queued through the provider it came from → listing
    released. Open disputes are closed as refunded."""
    _transition(order, "refund", actor=actor, actor_label=actor_label, reason=reason)
    held = ledger.escrow_balance(order)
    payment = cast(Payment, order_payment(order))  # used only when escrow holds money, which a payment put there
    if held:
        # Each part goes back through the payment it came from: applied deposits first, the rest.
        parts = []
        rest = held
        for deposit in order.deposits.filter(state="applied").order_by("pk"):
            dep_payment = deposit_payment(deposit)
            amount = min(rest, deposit.amount_minor)
            if amount > 0 and dep_payment is not None:
                parts.append((dep_payment, amount))
                rest -= amount
        if rest > 0:
            parts.append((payment, rest))
        lines = [(ledger.account(K.ESCROW_HELD, order.currency, order=order), held)]
        for part_payment, amount in parts:
            lines.append((ledger.account(K.REFUND_CLEARING, order.currency, provider=part_payment.provider), -amount))
        ledger.post("order_refunded", lines, order=order, memo=f"{order.reference} refunded",
                    idempotency_key=f"order-refunded-{order.pk}", created_by=actor)
        for part_payment, amount in parts:
            create_disbursement(kind=Disbursement.Kind.REFUND, amount_minor=amount, currency=order.currency,
                                provider=part_payment.provider, recipient_org=order.buyer_org, order=order,
                                payment=part_payment, actor=actor)
    now = timezone.now()
    Dispute.objects.filter(order=order, state=Dispute.State.OPEN).update(
        state=Dispute.State.RESOLVED, outcome=Dispute.Outcome.REFUND, resolved_at=now,
        resolved_by=actor if getattr(actor, "is_authenticated", False) else None, resolution_note=reason)
    if order.holds_listing and listing.state == Listing.State.RESERVED:
        listing_release(listing=listing)
    elif not order.holds_listing:
        licence_places_sync(listing)
    return order


RETURN_UNDER_WAY = ("A transfer back to the seller is already under way for this order; the buyer is repaid when "
                    "the office records it.")


def transfer_recorded(order: Order) -> bool:
    """Whether the office has recorded the buyer as owner of a right of this assignment (the transfers app
    owns filings and answers; escrow never imports it). Licences change no owner: never."""
    if order.is_licence:
        return False
    return bool(ask("order.transfer_recorded", order=order))


def _refund_or_return(order: Order, listing: Listing, *, actor: User | None = None, actor_label: str = "",
                      reason: str = "") -> Order:
    """A refund. Once the office has recorded the buyer as owner it is not a plain refund: the order waits
    in RETURN_PENDING, the payment stays held, and transfers (on `order.state_changed`, step
    "start_return") prepares the assignment back to the seller; `order_return_complete` repays the buyer
    when the office records it, or staff settle by a split instead (`order_return_split`)."""
    if order.state == S.RETURN_PENDING:
        raise InvalidTransition(_(RETURN_UNDER_WAY))
    if not transfer_recorded(order):
        return _refund(order, listing, actor=actor, actor_label=actor_label, reason=reason)
    _transition(order, "start_return", actor=actor, actor_label=actor_label, reason=reason,
                data={"held_minor": ledger.escrow_balance(order)})
    Dispute.objects.filter(order=order, state=Dispute.State.OPEN).update(
        state=Dispute.State.RESOLVED, outcome=Dispute.Outcome.REFUND, resolved_at=timezone.now(),
        resolved_by=actor if getattr(actor, "is_authenticated", False) else None, resolution_note=reason)
    return order


def _require_refund_reason(reason: str | None) -> None:
    if not (reason or "").strip():
        raise ValidationFailed(_("Write the reason; both parties will read it."),
                               field_errors={"reason": [_("This field is required.")]})


@transaction.atomic(durable=True)
def order_refund(*, order: Order, actor: User | None, reason: str) -> Order:
    """Refund the buyer through the provider it came from (escrow staff, or the system when actor is
    None); the listing goes back to published. After the office recorded the buyer as owner, the
    refund starts the transfer back to the seller instead (`_refund_or_return`)."""
    _require_refund_reason(reason)
    order, listing = lock_order_and_listing(order.pk)
    if actor is not None:
        require_staff(actor, Role.ESCROW_OFFICER)
    return _refund_or_return(order, listing, actor=actor, actor_label="" if actor else "system", reason=reason)


@transaction.atomic(durable=True)
def order_seller_default(*, order: Order, reason: str) -> Order:
    """The seller missed the signing/filing deadline after the buyer paid: the buyer is refunded in
    full and the seller's margin (if held) is forfeited to the buyer."""
    order, listing = lock_order_and_listing(order.pk)
    if order.state not in (S.FUNDED, S.TRANSFER_REJECTED):
        raise InvalidTransition(_("Order %(ref)s is no longer waiting for the seller.") % {"ref": order.reference})
    reason = reason or _("The seller did not sign and file the transfer before the deadline.")
    _refund_or_return(order, listing, actor_label="deadline", reason=reason)
    margin_forfeit(listing=listing, order=order, reason=reason)
    return order


@transaction.atomic(durable=True)
def order_staff_cancel(*, order: Order, actor: User, reason: str) -> Order:
    """Escrow staff cancel an order with a written reason: unfunded → cancelled; funded → refunded."""
    _require_refund_reason(reason)
    order, listing = lock_order_and_listing(order.pk)
    require_staff(actor, Role.ESCROW_OFFICER)
    if order.state in (S.PLACED, S.SELLER_CONFIRMED):
        return _cancel(order, listing, actor=actor, reason=reason)
    return _refund_or_return(order, listing, actor=actor, reason=reason)


def may_view_order(user: Any, order: Order) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return (is_member(user, order.buyer_org) or is_member(user, order.seller_org)
            or is_staff_for(user, Role.ESCROW_OFFICER, Role.FINANCE))
