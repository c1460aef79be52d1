"""Reads of the escrow app: who sees which order, the trade timeline, the one action now, dashboards."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import F, Q, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, Role
from core.permissions import has_role

from .models import Disbursement, Dispute, Order, OrderState, Payment

S = OrderState


def user_org_ids(user) -> list[int]:
    if user is None or not user.is_authenticated:
        return []
    return list(Membership.objects.filter(user=user).values_list("organization_id", flat=True))


def is_escrow_staff(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or has_role(user, Role.ESCROW_OFFICER,
                                                                                     Role.FINANCE)))


def orders_for_user(user):
    """Orders of the tenant in context where the user belongs to the buyer's or seller's organization."""
    org_ids = user_org_ids(user)
    return (Order.objects.filter(Q(buyer_org_id__in=org_ids) | Q(seller_org_id__in=org_ids))
            .select_related("listing", "buyer_org", "seller_org"))


def orders_brokered(user, org_ids=None):
    """Orders of deals the user's organizations brokered, for the seller or for the buyer (read only)."""
    org_ids = user_org_ids(user) if org_ids is None else org_ids
    if not org_ids:
        return Order.objects.none()
    return (Order.objects.filter(Q(broker_org_id__in=org_ids) | Q(buyer_broker_org_id__in=org_ids))
            .select_related("listing", "buyer_org", "seller_org").order_by("-placed_at", "-id"))


def order_for_viewer(user, reference: str) -> tuple[Order, str]:
    """(order, role) where role is buyer | seller | staff | broker (a broker that negotiated the deal for
    either side). Anyone else gets 404 (not 403: an order's existence is private)."""
    if "\x00" in reference:  # PostgreSQL rejects NUL in a text literal: a 404, not a 500
        raise Http404
    order = (Order.objects.select_related("listing", "buyer", "buyer_org", "seller_org", "tenant", "broker_org",
                                          "buyer_broker_org")
             .filter(reference=reference).first())
    if order is None or user is None or not user.is_authenticated:
        raise Http404
    org_ids = user_org_ids(user)
    if order.buyer_org_id in org_ids:
        return order, "buyer"
    if order.seller_org_id in org_ids:
        return order, "seller"
    if is_escrow_staff(user):
        return order, "staff"
    if order.broker_org_id in org_ids or order.buyer_broker_org_id in org_ids:
        return order, "broker"  # read only: status, papers, its commission (never the parties' bank details)
    raise Http404


STEPS = [
    # key, label, timestamp field, deadline field
    ("placed", _("Order placed"), "placed_at", None),
    ("confirmed", _("Seller confirms"), "confirmed_at", "seller_confirm_due"),
    ("funded", _("Payment held by the platform"), "funded_at", "payment_due"),
    ("filed", _("Papers signed and filed"), "filed_at", "filing_due"),
    ("approved", _("Office approves the transfer"), "approved_at", None),
    ("certificate", _("Buyer confirms the certificate"), "completed_at", "inspection_due"),
    ("paid", _("Seller paid"), None, None),
]
# Index of the step an order in each state is working on.
CURRENT = {S.PLACED: 1, S.SELLER_CONFIRMED: 2, S.FUNDED: 3, S.TRANSFER_FILED: 4, S.TRANSFER_REJECTED: 3,
           S.TRANSFER_APPROVED: 5, S.COMPLETED: 6}


def timeline(order: Order, payout: Disbursement | None = None) -> list[dict]:
    """The trade as steps with status done | current | next | stopped, each with its time and deadline."""
    state = order.disputed_from if order.state == S.DISPUTED else order.state
    # ended: by a split (settled), or a refund (a transfer back under way ends the trade too)
    closed = order.state in (S.CANCELLED, S.REFUNDED, S.SETTLED, S.RETURN_PENDING)
    if closed:
        reached = 1 + sum(1 for f in ("confirmed_at", "funded_at", "filed_at", "approved_at") if getattr(order, f))
    else:
        reached = CURRENT.get(state, 0)
    now = timezone.now()
    steps = []
    for index, (key, label, at_field, due_field) in enumerate(STEPS):
        at = getattr(order, at_field) if at_field else None
        if key == "paid":
            at = payout.paid_at if payout and payout.state == Disbursement.State.PAID else None
        if index < reached or (key == "paid" and at):
            status = "done"
        elif index == reached and not closed:
            status = "current"
        else:
            status = "stopped" if closed else "next"
        due = getattr(order, due_field) if due_field and status == "current" else None
        paused = bool(due) and order.state == S.DISPUTED  # the clock stops during a dispute
        due = None if paused else due
        steps.append({"key": key, "label": label, "status": status, "at": at if status == "done" else None,
                      "due": due, "overdue": bool(due and due <= now), "paused": paused})
    if order.state == S.COMPLETED and not (payout and payout.state == Disbursement.State.PAID):
        steps[-1]["status"] = "current"
    return steps


def viewer_action(order: Order, role: str) -> dict | None:
    """The one thing this viewer can do now (None: wait for the other side)."""
    state = order.state
    if role == "seller" and state == S.PLACED:
        return {"kind": "confirm", "label": _("Confirm the order"),
                "help": _("Confirm that this right can be traded. Decline if it cannot.")}
    if role == "buyer" and state == S.SELLER_CONFIRMED:
        return {"kind": "pay", "label": _("Pay now"),
                "help": _("Your payment is held by the platform and only paid out after the transfer is registered.")}
    if role == "buyer" and state == S.TRANSFER_APPROVED:
        return {"kind": "certificate", "label": _("Confirm I received the certificate"),
                "help": _("Confirm that you received the certificate and the office's notice. The seller is then paid.")}
    if role == "staff":
        return {"kind": "admin", "label": _("Open in the back-office")}
    return None


def waiting_for(order: Order, role: str) -> str:
    """A sentence telling the viewer who acts next, when it is not them."""
    state = order.state
    if state == S.PLACED:
        return _("Waiting for the seller to confirm.") if role != "seller" else ""
    if state == S.SELLER_CONFIRMED:
        return _("Waiting for the buyer's payment.") if role != "buyer" else ""
    if state in (S.FUNDED, S.TRANSFER_REJECTED):
        return _("Both parties sign the transfer papers; then they are filed with the office.")
    if state == S.TRANSFER_FILED:
        return _("Filed with the office; waiting for its notice (usually about a month).")
    if state == S.TRANSFER_APPROVED:
        return _("Waiting for the buyer to confirm the certificate.") if role != "buyer" else ""
    if state == S.DISPUTED:
        return _("Escrow staff are reviewing the dispute. The payment stays held.")
    return ""


def pending_payment(order: Order) -> Payment | None:
    return order.payments.filter(state=Payment.State.PENDING).order_by("-created_at").first()


def open_dispute(order: Order) -> Dispute | None:
    return order.disputes.filter(state=Dispute.State.OPEN).prefetch_related("evidence").first()


def dashboard(user) -> dict:
    """The user's orders as buyer and as seller, with money totals per currency."""
    org_ids = user_org_ids(user)
    bought = list(Order.objects.filter(buyer_org_id__in=org_ids).select_related("listing", "seller_org")[:100])
    sold = list(Order.objects.filter(seller_org_id__in=org_ids).select_related("listing", "buyer_org")[:100])
    held_states = [S.FUNDED, S.TRANSFER_FILED, S.TRANSFER_APPROVED, S.TRANSFER_REJECTED, S.DISPUTED]

    def sums(qs, field):
        out = defaultdict(int)
        for row in qs.values("currency").annotate(total=Sum(field)):
            out[row["currency"]] += row["total"] or 0
        return dict(out)

    bought_qs = Order.objects.filter(buyer_org_id__in=org_ids)
    sold_qs = Order.objects.filter(seller_org_id__in=org_ids)
    payouts = Disbursement.objects.filter(recipient_org_id__in=org_ids)
    return {
        "bought": bought,
        "brokered": list(orders_brokered(user, org_ids)[:100]),
        "sold": sold,
        "buyer_held": sums(bought_qs.filter(state__in=held_states), F("price_minor") + F("buyer_fee_minor") + F("buyer_broker_commission_minor")),
        "buyer_spent": sums(bought_qs.filter(state=S.COMPLETED), F("price_minor") + F("buyer_fee_minor") + F("buyer_broker_commission_minor")),
        "seller_in_escrow": sums(sold_qs.filter(state__in=held_states), "price_minor"),
        "seller_paid": sums(payouts.filter(state=Disbursement.State.PAID,
                                           kind__in=[Disbursement.Kind.PAYOUT]), "amount_minor"),
        "seller_pending": sums(payouts.exclude(state=Disbursement.State.PAID).filter(
            kind__in=[Disbursement.Kind.PAYOUT, Disbursement.Kind.MARGIN_RETURN]), "amount_minor"),
        "refunds": sums(payouts.filter(kind__in=[Disbursement.Kind.REFUND, Disbursement.Kind.MARGIN_FORFEIT]),
                        "amount_minor"),
    }


def live_deposit(subject: str, organization):
    """The deposit `organization` placed for `subject` (pending or held or applied), or None."""
    from .models import Deposit

    if organization is None:
        return None
    return (Deposit.objects.filter(subject=subject, payer_org=organization)
            .exclude(state=Deposit.State.RETURNED).order_by("-pk").first())


def deposits_for(subject: str):
    from .models import Deposit

    return Deposit.objects.filter(subject=subject).select_related("payer_org").order_by("pk")


def destination_text(disbursement: Any) -> str:
    """Where a payout or refund goes, in the reader's language: the stored `destination` was written in
    the language of whoever's request created it; words (not bank details) are rendered again."""
    from .services.payouts import TO_SELLER, payout_destination, refund_destination

    if disbursement.kind in TO_SELLER:
        if disbursement.provider not in ("bank_transfer", "stripe") and disbursement.recipient_org is not None:
            return payout_destination(disbursement.recipient_org, disbursement.provider).label
        return disbursement.destination
    if disbursement.payment_id:
        return refund_destination(disbursement) or disbursement.destination
    return disbursement.destination


def _held_reason(payout: Any) -> str:
    """Why a payout waits, in the reader's language (the stored `last_error` is in the language of
    whoever's request held it): what is missing now, from the seller's payout destination."""
    from .services.payouts import payout_destination

    if payout.recipient_org is not None:
        missing = payout_destination(payout.recipient_org, payout.provider).missing
        if missing:
            return missing
    return payout.last_error


def seller_money(order: Any, disbursements: list[Any]) -> dict[str, Any]:
    """What the seller gets and where it stands, in words that do not overstate it: "paid" only for a
    payout the provider or finance confirmed, pending/held/failed as such, nothing for a refunded order."""

    payouts = [d for d in disbursements if d.kind == Disbursement.Kind.PAYOUT]
    by_state: dict[str, int] = {}
    for d in payouts:
        by_state[d.state] = by_state.get(d.state, 0) + d.amount_minor
    latest = payouts[0] if payouts else None
    return {
        "paid": by_state.get(Disbursement.State.PAID, 0),
        "pending": by_state.get(Disbursement.State.PENDING, 0),
        "held": by_state.get(Disbursement.State.HELD, 0),
        "failed": by_state.get(Disbursement.State.FAILED, 0),
        "payouts": payouts,
        "destination": next((destination_text(d) for d in payouts if d.destination), ""),
        "held_reason": next((_held_reason(d) for d in payouts if d.state == Disbursement.State.HELD), ""),
        "failed_reason": next((d.last_error for d in payouts if d.state == Disbursement.State.FAILED), ""),
        "nothing": order.state in (OrderState.REFUNDED, OrderState.CANCELLED) and not payouts,
        "latest": latest,
    }


def broker_view(order: Order, org_ids: set[int] | list[int]) -> dict[str, Any]:
    """What a broker sees of the money of an order it brokered: the price, its commission, and where the
    payout of that commission stands (no destination account, nothing of the parties' own payments)."""
    side = "seller" if order.broker_org_id in org_ids else "buyer"
    org_id = order.broker_org_id if side == "seller" else order.buyer_broker_org_id
    commission = order.broker_commission_minor if side == "seller" else order.buyer_broker_commission_minor
    payouts = list(Disbursement.objects.filter(order=order, kind=Disbursement.Kind.PAYOUT, recipient_org_id=org_id)
                   .only("amount_minor", "currency", "state", "created_at"))
    return {"side": side, "commission_minor": commission, "payouts": payouts}
