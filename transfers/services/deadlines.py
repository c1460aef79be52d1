"""Every deadline of the trade, enforced by beat (DESIGN section 2): nothing relies on a person
remembering. Each overdue order goes through escrow's durable service, which locks the order and
re-checks state and deadline, so running this twice, or in two workers at once, changes nothing more.

- seller confirmation and payment deadlines → `order_expire` (cancelled, listing released);
- signing-and-filing deadline → `order_seller_default` when the seller has not signed every paper
  (buyer refunded, margin forfeited); when the seller did sign and the order waits on the buyer or on
  staff, escrow officers are told instead (once), the order shows as stuck in the admin;
- buyer inspection deadline → `order_auto_confirm` (the platform confirms and the seller is paid);
- funded orders without papers get them (`transfer_prepare`), in case the funded hook was missed.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from escrow.models import Order, OrderState
from marketplace.audit import audit_record
from marketplace.errors import DomainError
from marketplace.notifications import notify
from transfers.models import SIGNED_KINDS, Party, TransferDocument, TransferFiling
from transfers.selectors import current_documents, missing_signatures

from .common import officers, order_url
from .papers import transfer_prepare

log = logging.getLogger(__name__)

SELLER_DEFAULT_REASON = gettext_lazy("The seller did not sign the transfer papers before the deadline.")


def _run(name, func, order, counts, **kwargs):
    try:
        func(order=order, **kwargs)
        counts[name] = counts.get(name, 0) + 1
    except DomainError as exc:  # moved on meanwhile: nothing to do
        log.info("%s skipped for order %s: %s", name, order.pk, exc.message)
    except Exception:  # noqa: BLE001 - one order must not stop the rest
        log.exception("%s failed for order %s", name, order.pk)
        counts["errors"] = counts.get("errors", 0) + 1


def _filing_overdue_tell_staff(order, counts):
    """The seller signed; the order waits on the buyer or on staff. Tell the officers once."""
    with transaction.atomic():
        filing = (TransferFiling.objects.select_for_update(of=("self",)).filter(order=order)
                  .order_by("-attempt").first())
        if filing is None or filing.last_error.startswith("filing overdue"):
            return
        filing.last_error = f"filing overdue since {order.filing_due:%Y-%m-%d %H:%M}"
        filing.save(update_fields=["last_error", "updated_at"])
        audit_record(action="transfer.filing_overdue", obj=filing, actor_label="system",
                     data={"order": order.reference})
        notify(users=officers(), kind="transfer.filing_overdue",
               subject=gettext_lazy("Order %(ref)s: signing and filing deadline passed"),
               body=gettext_lazy("The seller signed, but the transfer of “%(title)s” is not filed yet. File it or "
                                 "contact the buyer."),
               params={"ref": order.reference, "title": order.listing.title}, url=order_url(order))
        counts["filing_overdue_flagged"] = counts.get("filing_overdue_flagged", 0) + 1


def trade_deadlines_enforce(*, now=None, limit: int = 500) -> dict:
    """One pass over the tenant in context. Returns what was done, by kind."""
    from escrow import services as escrow

    now = now or timezone.now()
    counts: dict[str, int] = {}
    base = Order.objects.select_related("listing", "buyer_org", "seller_org", "tenant").order_by("pk")
    for order in base.filter(state=OrderState.PLACED, seller_confirm_due__lte=now)[:limit]:
        _run("expired_unconfirmed", escrow.order_expire, order, counts)
    for order in base.filter(state=OrderState.SELLER_CONFIRMED, payment_due__lte=now)[:limit]:
        _run("expired_unpaid", escrow.order_expire, order, counts)
    for order in base.filter(state=OrderState.FUNDED, filing_due__lte=now)[:limit]:
        documents = current_documents(order, kinds=SIGNED_KINDS)
        seller_done = len(documents) == len(SIGNED_KINDS) and not missing_signatures(order, documents)[Party.SELLER]
        if seller_done:
            _filing_overdue_tell_staff(order, counts)
        else:
            _run("seller_default", escrow.order_seller_default, order, counts, reason=str(SELLER_DEFAULT_REASON))
    for order in base.filter(state=OrderState.TRANSFER_APPROVED, inspection_due__lte=now)[:limit]:
        _run("auto_confirmed", escrow.order_auto_confirm, order, counts)
    # Papers for funded orders that have none (the page view or the funded task normally did it).
    unprepared = (base.filter(state=OrderState.FUNDED)
                  .exclude(pk__in=TransferDocument.objects.values("order_id"))[:limit])
    for order in unprepared:
        _run("papers_prepared", transfer_prepare, order, counts)
    return counts
