"""Locks and the one generic transition helper every order service goes through."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from accounts.models import User
from core.audit import audit_record
from core.errors import InvalidTransition, NotFound
from core.events import emit
from core.notifications import notify
from escrow.models import Order, OrderState
from listings.models import Listing

# Transitions other apps may drive with `order_step` (the transfers app).
ORDER_STEPS = frozenset({"file_transfer", "approve_transfer", "reject_transfer"})

# What both parties are told after each transition (subject, body); params: ref, title, reason.
MESSAGES = {
    "place": (gettext_lazy("Order %(ref)s placed"),
              gettext_lazy("An order was placed for “%(title)s”. The seller has to confirm it before the deadline.")),
    "seller_confirm": (gettext_lazy("Order %(ref)s confirmed by the seller"),
                       gettext_lazy("The seller confirmed the order for “%(title)s”. The buyer can now pay; the payment is held by the platform.")),
    "cancel": (gettext_lazy("Order %(ref)s cancelled"),
               gettext_lazy("The order for “%(title)s” was cancelled. %(reason)s")),
    "fund": (gettext_lazy("Payment for order %(ref)s is held by the platform"),
             gettext_lazy("The buyer's payment for “%(title)s” is held by the platform. Next: both parties sign the transfer papers.")),
    "file_transfer": (gettext_lazy("Transfer of order %(ref)s filed with the office"),
                      gettext_lazy("The transfer papers for “%(title)s” were filed with the office.")),
    "approve_transfer": (gettext_lazy("Office approved the transfer of order %(ref)s"),
                         gettext_lazy("The office approved the transfer of “%(title)s”. The buyer confirms receipt of the certificate before the deadline.")),
    "reject_transfer": (gettext_lazy("Office rejected the transfer of order %(ref)s"),
                        gettext_lazy("The office rejected the transfer of “%(title)s”. %(reason)s")),
    "complete": (gettext_lazy("Order %(ref)s completed: the payout to the seller is released"),
                 gettext_lazy("The buyer's confirmation of “%(title)s” was recorded and the seller's payout released.")),
    "open_dispute": (gettext_lazy("Dispute opened on order %(ref)s"),
                     gettext_lazy("A dispute was opened on “%(title)s”: %(reason)s. Escrow staff will review it; the payment stays held.")),
    "resume": (gettext_lazy("Dispute on order %(ref)s resolved: the trade continues"),
               gettext_lazy("Escrow staff resolved the dispute on “%(title)s”; the trade continues. %(reason)s")),
    "start_return": (gettext_lazy("Order %(ref)s: the rights go back to the seller before the buyer is repaid"),
                     gettext_lazy("The office had recorded the buyer as owner of “%(title)s”, so the refund starts "
                                  "with a transfer back to the seller: both parties sign the assignment back on the "
                                  "order page, the exchange files it, and the buyer is repaid when the office records "
                                  "it. The payment stays held meanwhile. %(reason)s")),
    "refund": (gettext_lazy("Order %(ref)s refunded"),
               gettext_lazy("The buyer's payment for “%(title)s” is being returned through the provider it came from. %(reason)s")),
}

# Timestamps and deadlines set when a transition happens.
def _stamp(order: Order, name: str, now: datetime) -> list[str]:
    tenant = order.tenant
    fields: list[str] = []
    if name == "seller_confirm":
        order.confirmed_at = now
        order.payment_due = now + timedelta(days=tenant.buyer_pay_days)
        fields += ["confirmed_at", "payment_due"]
    elif name == "fund":
        order.funded_at = now
        order.filing_due = now + timedelta(days=tenant.sign_and_file_days)
        fields += ["funded_at", "filing_due"]
    elif name == "file_transfer":
        order.filed_at = now
        fields += ["filed_at"]
    elif name == "approve_transfer":
        order.approved_at = now
        order.inspection_due = now + timedelta(days=tenant.buyer_inspect_days)
        fields += ["approved_at", "inspection_due"]
    elif name == "complete":
        order.completed_at = now
        fields += ["completed_at"]
    elif name in ("cancel", "refund"):
        order.closed_at = now
        fields += ["closed_at", "close_reason"]
    elif name == "start_return":
        fields += ["close_reason", "disputed_from"]
    elif name in ("open_dispute", "resume"):
        fields += ["disputed_from"]
        if name == "resume":
            fields += _pause_deadlines(order, now)
    return fields


def _pause_deadlines(order: Order, now: datetime) -> list[str]:
    """The clock stops while a dispute is open: when the trade continues, the running deadline (signing
    and filing, or the buyer's inspection) moves on by the time the dispute took, so nobody defaults
    because staff were deciding."""
    from escrow.models import Dispute

    dispute = (Dispute.objects.filter(order=order, state=Dispute.State.OPEN).order_by("-opened_at").first())
    if dispute is None:
        return []
    paused = now - dispute.opened_at
    field = {OrderState.FUNDED: "filing_due", OrderState.TRANSFER_APPROVED: "inspection_due"}.get(order.state)
    if field is None or getattr(order, field) is None:
        return []
    setattr(order, field, getattr(order, field) + paused)
    return [field]


def lock_order(order_id: int) -> Order:
    """Lock one order row (SELECT ... FOR UPDATE OF the order only) in the tenant in context.
    Must run inside a transaction. Raises NotFound if there is no such order in this tenant."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_order must be called inside transaction.atomic()")
    order = (Order.objects.select_for_update(of=("self",)).select_related("tenant", "buyer", "buyer_org", "seller_org")
             .filter(pk=order_id).first())
    if order is None:
        raise NotFound(_("This order does not exist."))
    return order


def lock_order_and_listing(order_id: int) -> tuple[Order, Listing]:
    """Lock the order, then its listing: the fixed order every service that needs both uses."""
    order = lock_order(order_id)
    listing = Listing.objects.select_for_update(of=("self",)).get(pk=order.listing_id)
    order.listing = listing
    return order, listing


def order_parties(order: Order) -> list[User]:
    """Every member of the buyer's and the seller's organization (they are all told)."""
    return list(User.objects.filter(memberships__organization__in=[order.buyer_org_id, order.seller_org_id],
                                    is_active=True).distinct())


def _transition(order: Order, name: str, *, actor: User | None = None, actor_label: str = "", reason: str = "",
                data: dict[str, Any] | None = None, notify_parties: bool = True) -> Order:
    """can_proceed → transition → timestamps/deadlines → save → audit → notify on commit → emit.
    The caller holds the transaction and the lock on `order`."""
    method = getattr(order, name, None)
    if method is None or not hasattr(method, "_django_fsm"):
        raise InvalidTransition(_("Unknown order step “%(name)s”.") % {"name": name})
    if not can_proceed(method):
        raise InvalidTransition(
            _("Order %(ref)s is “%(state)s”; it cannot do “%(step)s” now.")
            % {"ref": order.reference, "state": order.get_state_display(), "step": name.replace("_", " ")}
        )
    from_state = order.state
    method()
    now = timezone.now()
    if name in ("cancel", "refund", "start_return") and reason:
        order.close_reason = reason
    fields = _stamp(order, name, now)
    order.save(update_fields=sorted({"state", "updated_at", *fields}))
    audit_record(actor=actor, actor_label=actor_label, action=f"order.{name}", obj=order, from_state=from_state,
                 to_state=order.state, reason=reason, data=data)
    if notify_parties:
        subject, body = MESSAGES.get(name, (gettext_lazy("Order %(ref)s updated"), ""))
        notify(users=order_parties(order), kind=f"order.{name}", subject=subject, body=body,
               params={"ref": order.reference, "title": order.listing.title, "reason": reason or ""},
               url=order.get_absolute_url())
    emit("order.state_changed", organizations=[order.buyer_org, order.seller_org],
         data={"order": order.reference, "from": from_state, "to": order.state, "step": name,
               "at": now.isoformat()},
         order=order, step=name, actor=actor, reason=reason)
    return order


def order_step(order: Order, transition: str, *, actor: User | None = None, actor_label: str = "", reason: str = "",
               data: dict[str, Any] | None = None) -> Order:
    """Drive one of the transfer steps (`file_transfer`, `approve_transfer`, `reject_transfer`).

    NON-durable: the caller holds the transaction and `lock_order(order.pk)`. Checks the state
    (InvalidTransition with a message for people otherwise), transitions, sets timestamps and
    deadlines (file_transfer → filed_at; approve_transfer → approved_at and inspection_due = now +
    tenant.buyer_inspect_days), saves, writes the audit row, notifies both parties after commit and
    emits `order.state_changed`. No money moves in these steps.
    """
    if transition not in ORDER_STEPS:
        raise InvalidTransition(_("“%(name)s” is not a transfer step.") % {"name": transition})
    return _transition(order, transition, actor=actor, actor_label=actor_label, reason=reason, data=data)


def now_overdue(due: datetime | None) -> bool:
    return due is not None and due <= timezone.now()


__all__ = ["ORDER_STEPS", "lock_order", "lock_order_and_listing", "order_step", "order_parties", "OrderState"]
