"""Every deadline of the trade, enforced by beat (DESIGN section 2): nothing relies on a person
remembering. Each overdue order goes through escrow's durable service, which locks the order and
re-checks state and deadline, so running this twice, or in two workers at once, changes nothing more.

- seller confirmation and payment deadlines → `order_expire` (cancelled, listing released);
- signing-and-filing deadline (the rule is `transfers.selectors.filing_deadline`, also shown on the
  order page):
  - three days before it, each party that still has papers to sign is reminded (once);
  - the seller has not signed every paper → `order_seller_default` (buyer refunded, margin forfeited);
  - the seller signed, the buyer has not → buyer, seller and escrow officers are told at once (staff
    may cancel with a refund); still unsigned after the grace period → the buyer is refunded by the
    platform and the listing goes back on sale (the seller's margin is not touched);
  - both signed but not filed → escrow officers are told (once) and the order is flagged;
  - no papers at all (the platform failed) → officers are told, nobody is penalised;
- buyer inspection deadline → `order_auto_confirm` (the platform confirms and the seller is paid);
- funded orders without papers get them (`transfer_prepare`), in case the funded message was lost;
- the assignment back (a refund after the office recorded the buyer; the rule is
  `transfers.selectors.return_sign_deadline`, also shown on the order page and in the API): halfway
  to its deadline each party that has not signed is reminded (once); when it passes, escrow officers
  are told (once): they chase the party or settle the order by a split instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.errors import DomainError
from core.models import AuditEvent
from core.notifications import notify
from escrow import services as escrow
from escrow.models import Order, OrderState
from escrow.services.core import lock_order
from transfers.models import RETURN_KINDS, Party, TransferDocument, TransferFiling, signed_kinds_for
from transfers.selectors import (
    SIGN_REMINDER_BEFORE,
    FilingDeadline,
    current_documents,
    filing_deadline,
    return_document,
    return_sign_days,
    return_sign_deadline,
)

from .common import officers, order_url, party_users
from .papers import transfer_prepare_or_record

log = logging.getLogger(__name__)

SELLER_DEFAULT_REASON = gettext_lazy("The seller did not sign the transfer papers before the deadline.")
BUYER_LATE_REASON = gettext_lazy("The buyer did not sign the transfer papers before the deadline and the grace "
                                 "period that followed.")


def _run(name: str, func: Callable[..., Any], order: Order, counts: dict[str, int], **kwargs: Any) -> None:
    try:
        func(order=order, **kwargs)
        counts[name] = counts.get(name, 0) + 1
    except DomainError as exc:  # moved on meanwhile: nothing to do
        log.info("%s skipped for order %s: %s", name, order.pk, exc.message)
    except Exception:  # noqa: BLE001 - one order must not stop the rest
        log.exception("%s failed for order %s", name, order.pk)
        counts["errors"] = counts.get("errors", 0) + 1


def _once(order: Order, action: str, counts: dict[str, int], count_as: str, tell: Callable[[Order], None],
          **data: Any) -> None:
    """Run `tell(order)` once per order and `action` (an audit row on the order is the marker), under
    the order's lock so two workers do not both tell."""
    with transaction.atomic():
        order = lock_order(order.pk)
        if order.state != OrderState.FUNDED:
            return
        marker = AuditEvent.objects.filter(action=action, object_type=order._meta.label_lower, object_id=str(order.pk))
        for key, value in data.items():
            marker = marker.filter(**{f"data__{key}": value})
        if marker.exists():
            return
        audit_record(action=action, obj=order, actor_label="deadline",
                     data={"filing_due": order.filing_due.isoformat(), **data})  # type: ignore[union-attr]  # FUNDED sets it
        tell(order)
        counts[count_as] = counts.get(count_as, 0) + 1


def _remind(order: Order, party: str, rule: FilingDeadline, counts: dict[str, int]) -> None:
    if party == Party.SELLER:
        body = gettext_lazy("You still have transfer papers to sign for “%(title)s”. Sign them on the order page "
                            "before %(due)s: if you have not by then, the order is cancelled, the buyer is "
                            "refunded in full and your margin goes to the buyer.")
    else:
        body = gettext_lazy("You still have transfer papers to sign for “%(title)s”. Sign them on the order page "
                            "before %(due)s: if you have not by then, escrow staff are told, and unless you sign "
                            "before %(refund_at)s your payment is refunded and the purchase does not go ahead.")

    def tell(order: Order) -> None:
        notify(users=party_users(order, party), kind="transfer.sign_reminder",
               subject=gettext_lazy("Order %(ref)s: sign the transfer papers by %(due)s"), body=body,
               params={"ref": order.reference, "title": order.listing.title, "due": _when(rule.due),
                       "refund_at": _when(rule.buyer_refund_at)},
               url=order_url(order))
    _once(order, "transfer.sign_reminder", counts, "sign_reminders", tell, party=party)


def _when(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _buyer_late_tell(order: Order, rule: FilingDeadline, counts: dict[str, int]) -> None:
    def tell(order: Order) -> None:
        params = {"ref": order.reference, "title": order.listing.title, "due": _when(rule.due),
                  "refund_at": _when(rule.buyer_refund_at)}
        notify(users=party_users(order, Party.BUYER), kind="transfer.buyer_sign_overdue",
               subject=gettext_lazy("Order %(ref)s: the signing deadline passed"),
               body=gettext_lazy("The seller signed the transfer papers for “%(title)s”, but you did not sign "
                                 "them by %(due)s. Sign them now: unless you do before %(refund_at)s, your "
                                 "payment is refunded and the listing goes back on sale."),
               params=params, url=order_url(order))
        notify(users=party_users(order, Party.SELLER), kind="transfer.buyer_sign_overdue",
               subject=gettext_lazy("Order %(ref)s: the buyer has not signed"),
               body=gettext_lazy("The buyer did not sign the transfer papers for “%(title)s” by %(due)s. Unless "
                                 "they sign before %(refund_at)s, the buyer is refunded and your listing goes back "
                                 "on sale; your margin stays yours."),
               params=params, url=order_url(order))
        notify(users=officers(), kind="transfer.buyer_sign_overdue",
               subject=gettext_lazy("Order %(ref)s: the buyer has not signed by the deadline"),
               body=gettext_lazy("The seller signed every paper for “%(title)s”; the buyer did not by %(due)s. "
                                 "Contact the buyer, or cancel the order with a refund. The platform refunds "
                                 "the buyer on %(refund_at)s if nothing happens."),
               params=params, url=order_url(order))
    _once(order, "transfer.buyer_sign_overdue", counts, "buyer_late_told", tell)


def _staff_tell(order: Order, rule: FilingDeadline, counts: dict[str, int]) -> None:
    """The parties did their part (or the platform produced no papers): tell the officers once and
    flag the current filing for their queue."""
    def tell(order: Order) -> None:
        filing = (TransferFiling.objects.select_for_update(of=("self",)).filter(order=order, kind="transfer")
                  .order_by("-attempt").first())
        if filing is not None:
            filing.last_error = f"filing overdue since {order.filing_due:%Y-%m-%d %H:%M}"
            filing.save(update_fields=["last_error", "updated_at"])
        if rule.phase == "no_papers":
            body = gettext_lazy("The transfer papers of “%(title)s” were not generated and the signing deadline "
                                "passed. Prepare them, give the parties new time, or cancel with a refund.")
        else:
            body = gettext_lazy("Both parties signed, but the transfer of “%(title)s” is not filed yet. File it now.")
        notify(users=officers(), kind="transfer.filing_overdue",
               subject=gettext_lazy("Order %(ref)s: signing and filing deadline passed"), body=body,
               params={"ref": order.reference, "title": order.listing.title}, url=order_url(order))
    _once(order, "transfer.filing_overdue", counts, "filing_overdue_flagged", tell)


def _signing_deadline(order: Order, now: datetime, counts: dict[str, int]) -> None:
    rule = filing_deadline(order, current_documents(order, kinds=signed_kinds_for(order)), now=now)
    if rule is None:
        return
    if rule.phase == "signing":
        for party, missing in ((Party.SELLER, rule.seller_missing), (Party.BUYER, rule.buyer_missing)):
            if missing:
                _remind(order, party, rule, counts)
    elif rule.phase == "seller_late":
        _run("seller_default", escrow.order_seller_default, order, counts, reason=str(SELLER_DEFAULT_REASON))
    elif rule.phase == "buyer_late":
        _buyer_late_tell(order, rule, counts)
        if now >= rule.buyer_refund_at:
            _run("buyer_late_refunded", escrow.order_refund, order, counts, actor=None, reason=str(BUYER_LATE_REASON))
    else:  # staff_late, no_papers
        _staff_tell(order, rule, counts)


RETURN_BODIES = {
    "reminder": gettext_lazy("The refund of “%(title)s” waits for your signature on the assignment back to the "
                             "seller. Sign it on the order page before %(due)s; after that escrow staff take over "
                             "and may settle the order by a split instead."),
    (Party.SELLER,): gettext_lazy("The assignment back of “%(title)s” was due to be signed by %(due)s; the seller "
                                  "has not signed it. Contact the seller, or settle the order by a split in the "
                                  "admin."),
    (Party.BUYER,): gettext_lazy("The assignment back of “%(title)s” was due to be signed by %(due)s; the buyer "
                                 "has not signed it. Contact the buyer, or settle the order by a split in the "
                                 "admin."),
    (Party.SELLER, Party.BUYER): gettext_lazy("The assignment back of “%(title)s” was due to be signed by "
                                              "%(due)s; neither party has signed it. Contact them, or settle the "
                                              "order by a split in the admin."),
}


def _return_once(order: Order, now: datetime, action: str, counts: dict[str, int], count_as: str,
                 party: str = "") -> None:
    """Remind `party` (or, without one, tell the officers) once per assignment back, under the order's
    lock, after checking again that it is still unsigned and the moment has come (an audit row on the
    order is the marker)."""
    with transaction.atomic():
        order = lock_order(order.pk)
        document = return_document(order)
        rule = return_sign_deadline(order, document, now=now)
        if rule is None or document is None or rule.phase not in ("remind", "late"):
            return
        if (party and party not in rule.missing) or (not party and rule.phase != "late"):
            return
        marker = AuditEvent.objects.filter(action=action, object_type=order._meta.label_lower,
                                           object_id=str(order.pk), data__paper=document.pk)
        if party:
            marker = marker.filter(data__party=party)
        if marker.exists():
            return
        audit_record(action=action, obj=order, actor_label="deadline",
                     data={"paper": document.pk, "due": rule.due.isoformat(), "party": party,
                           "missing": list(rule.missing)})
        params = {"ref": order.reference, "title": order.listing.title, "due": _when(rule.due)}
        if party:
            notify(users=party_users(order, party), kind="transfer.return_sign_reminder",
                   subject=gettext_lazy("Order %(ref)s: sign the assignment back by %(due)s"),
                   body=RETURN_BODIES["reminder"], params=params, url=order_url(order))
        else:
            notify(users=officers(), kind="transfer.return_sign_overdue",
                   subject=gettext_lazy("Order %(ref)s: the assignment back was not signed in time"),
                   body=RETURN_BODIES[rule.missing], params=params, url=order_url(order))
        counts[count_as] = counts.get(count_as, 0) + 1


def _return_deadline(order: Order, now: datetime, counts: dict[str, int]) -> None:
    rule = return_sign_deadline(order, now=now)
    if rule is None:
        return
    if rule.phase == "remind":
        for party in rule.missing:
            _return_once(order, now, "transfer.return_sign_reminder", counts, "return_sign_reminders", party=party)
    elif rule.phase == "late":
        _return_once(order, now, "transfer.return_sign_overdue", counts, "return_sign_overdue")


def trade_deadlines_enforce(*, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """One pass over the tenant in context. Returns what was done, by kind."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    base = Order.objects.select_related("listing", "buyer_org", "seller_org", "tenant").order_by("pk")
    for order in base.filter(state=OrderState.PLACED, seller_confirm_due__lte=now)[:limit]:
        _run("expired_unconfirmed", escrow.order_expire, order, counts)
    for order in base.filter(state=OrderState.SELLER_CONFIRMED, payment_due__lte=now)[:limit]:
        _run("expired_unpaid", escrow.order_expire, order, counts)
    # Papers for funded orders that have none (the funded message normally did it) come first, so
    # that the signing deadline below never judges an order whose papers were only late.
    unprepared = (base.filter(state=OrderState.FUNDED)
                  .exclude(pk__in=TransferDocument.objects.values("order_id"))[:limit])
    for order in unprepared:
        _run("papers_prepared", transfer_prepare_or_record, order, counts)
    for order in base.filter(state=OrderState.FUNDED, filing_due__lte=now + SIGN_REMINDER_BEFORE)[:limit]:
        try:
            _signing_deadline(order, now, counts)
        except Exception:  # noqa: BLE001 - one order must not stop the rest
            log.exception("signing deadline failed for order %s", order.pk)
            counts["errors"] = counts.get("errors", 0) + 1
    for order in base.filter(state=OrderState.TRANSFER_APPROVED, inspection_due__lte=now)[:limit]:
        _run("auto_confirmed", escrow.order_auto_confirm, order, counts)
    halfway = now - timedelta(days=return_sign_days()) / 2
    opened_before = (TransferDocument.objects.filter(kind__in=RETURN_KINDS, superseded=False, created_at__lte=halfway)
                     .values("order_id"))
    for order in base.filter(state=OrderState.RETURN_PENDING, pk__in=opened_before)[:limit]:
        try:
            _return_deadline(order, now, counts)
        except Exception:  # noqa: BLE001 - one order must not stop the rest
            log.exception("assignment back deadline failed for order %s", order.pk)
            counts["errors"] = counts.get("errors", 0) + 1
    return counts
