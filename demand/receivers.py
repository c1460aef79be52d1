"""What demand does when a lower app announces something or asks a question (core.events)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from core.events import answer, on
from core.money import format_money
from core.outbox import enqueue

from .models import Auction

# An auction holds its listing from its creation until it is settled or ends unsold: before the start,
# while bids come in, while the winner's order is being placed and while the seller decides below the
# reserve. Nobody buys the listing at its list price (or by offer) meanwhile.
HOLDING_STATES = (Auction.State.OPEN, Auction.State.WON, Auction.State.RESERVE_NOT_MET)


@on("listing.published")
def match_new_listing(*, tenant, data, **objects):
    """A listing went live: match it against open wants in a task (after commit)."""
    enqueue("demand.tasks.match_listing", tenant_id=tenant.pk, listing_id=data["listing"])


@dataclass(frozen=True)
class SaleHold:
    message: str
    url: str
    auction: Auction


def auction_holding(listing_id) -> Auction | None:
    return (Auction.objects.filter(listing_id=listing_id, state__in=HOLDING_STATES)
            .order_by("-id").first())


@answer("listing.sale_hold")
def listing_sale_hold(*, listing, via: str = "") -> SaleHold | None:
    """Escrow (order_place), negotiation (offers) and the listing page ask whether the listing may be
    sold other than through the sale named by `via`. Called under the listing row lock by the services,
    and auction_create takes the same lock, so an order and an auction racing for one listing cannot
    both get it."""
    auction = auction_holding(listing.pk)
    if auction is None or via == auction.subject:
        return None
    if auction.state == Auction.State.OPEN:
        if timezone.now() < auction.starts_at:
            message = _("This listing is going to auction on %(start)s; it can only be bought by bidding.") % {
                "start": timezone.localtime(auction.starts_at).strftime("%Y-%m-%d %H:%M")}
        else:
            message = _("This listing is being auctioned (now %(price)s, until %(end)s); it can only be bought "
                        "by bidding.") % {
                "price": format_money(auction.current_price_minor or auction.start_price_minor, auction.currency),
                "end": timezone.localtime(auction.ends_at).strftime("%Y-%m-%d %H:%M")}
    else:
        message = _("The auction of this listing has ended and its result is being settled; it is not for sale "
                    "any other way meanwhile.")
    return SaleHold(message=message, url=auction.get_absolute_url(), auction=auction)


@on("order.state_changed")
def auction_order_cancelled(*, tenant, data, order=None, actor=None, **objects):
    """A won auction's order was cancelled before payment. When its buyer defaulted (let the payment
    deadline pass, or cancelled) escrow forfeits their deposit in the same transaction, and the auction
    goes to the next highest bidder of another organization at or above the reserve, at that bid (their
    order is placed by a task; beat's finish_due_auctions settles it too if the task is lost), or ends
    unsold. When the seller defaulted (did not confirm, declined) the auction ends unsold."""
    if data.get("to") != "cancelled" or order is None:
        return
    auction = Auction.objects.select_for_update(of=("self",)).filter(order_id=order.pk, state=Auction.State.SOLD).first()
    if auction is None:
        return
    from core.permissions import is_member

    from .auctions import pass_to_next_bidder

    buyer_default = ((actor is None and data.get("from") == "seller_confirmed")
                     or (actor is not None and is_member(actor, order.buyer_org)))
    pass_to_next_bidder(auction, defaulted_org_id=order.buyer_org_id if buyer_default else None,
                        reason=str(objects.get("reason") or ""))


@on("order.state_changed")
def auction_order_funded(*, tenant, data, order=None, **objects):
    """The winner paid (their order is funded): the runner-up's deposit, held in case they did not,
    goes back (in the funding transaction)."""
    if data.get("to") != "funded" or order is None:
        return
    auction = (Auction.objects.select_for_update(of=("self",)).select_related("high_bid")
               .filter(order_id=order.pk, state=Auction.State.SOLD).first())
    if auction is None:
        return
    from django.utils.translation import gettext as _

    from .auctions import release_runner_up

    release_runner_up(auction, reason=_("The winner paid."))


def record_class_keys(records) -> list[str]:
    """The match keys of register records' classes ("H04L 9/32" -> H04L, H04L9, H04L9/32; Nice "9" -> "09")."""
    import re

    from . import classes as C

    classes = []
    for r in records:
        for c in r.classes or []:
            compact = re.sub(r"\s+", "", str(c)).upper()
            if compact.isdigit():
                classes.append(f"{int(compact):02d}")
            elif len(compact) >= 4:
                classes.append(compact)
    return C.keys(classes)


@answer("right.matching_wants")
def matching_wants(*, records, tenant_id) -> dict[str, int]:
    """Financing asks how many open wants (deadline not passed) match these rights: a want sharing a class
    key (subclass level or deeper, as demand's matching) and not limited to other kinds of right.
    {"here": on exchange `tenant_id`, "elsewhere": on every other exchange (a count only)}; one query."""
    from django.db.models import Count, Q

    from .models import Want

    records = [r for r in records if r is not None]
    keys = record_class_keys(records)
    if not keys:
        return {"here": 0, "elsewhere": 0}
    kinds = sorted({r.kind for r in records})
    rows = (Want.objects.unscoped()
            .filter(state=Want.State.OPEN, deadline__gte=timezone.localdate(), class_keys__overlap=keys)
            .filter(Q(kinds__len=0) | Q(kinds__overlap=kinds))
            .aggregate(here=Count("id", filter=Q(tenant_id=tenant_id)), total=Count("id")))
    return {"here": rows["here"] or 0, "elsewhere": (rows["total"] or 0) - (rows["here"] or 0)}


# --- withdrawing matches when what matched leaves the market ---------------------------------------

def _listing_gone(reason, data, actor):
    from .services import matches_withdraw

    matches_withdraw(reason=reason, listing_id=data["listing"], actor=actor)


@on("listing.withdrawn")
def listing_withdrawn(*, tenant, data, actor=None, **objects):
    """The seller took the listing off the market: its matches with wants are withdrawn (same transaction)."""
    _listing_gone("listing_withdrawn", data, actor)


@on("listing.sold")
def listing_sold(*, tenant, data, **objects):
    """The listing was sold (or all its licences taken): its matches are withdrawn (same transaction)."""
    _listing_gone("listing_sold", data, None)


@on("listing.lapsed")
def listing_lapsed(*, tenant, data, actor=None, **objects):
    """The listing was taken off the market because its right lapsed: its matches are withdrawn."""
    _listing_gone("listing_lapsed", data, actor)


@on("holding.closed_to_wants")
def rights_closed_to_wants(*, tenant, data, actor=None, **objects):
    """The holder closed rights to buyers' wants: their matches are withdrawn (same transaction)."""
    from .services import matches_withdraw

    matches_withdraw(reason="right_closed", holding_ids=list(data.get("holdings") or []), actor=actor)


@on("right.owner_recorded")
def right_changed_hands(*, tenant, data, **objects):
    """A transfer was recorded: the previous holder's matches on that right are withdrawn."""
    from rights.models import Holding

    from .services import matches_withdraw

    ended = list(Holding.objects.filter(record_id=data["record"], ended_at__isnull=False).values_list("pk", flat=True))
    matches_withdraw(reason="right_transferred", holding_ids=ended)


_GONE_STATUSES = ("lapsed", "expired", "invalidated")


@on("right.alert")
def right_lapsed(*, tenant, data, **objects):
    """Monitoring saw the right lapse (announced after its commit): the matches of its holdings are
    withdrawn in a transaction of their own. A listed right goes through its listing (listing.lapsed)."""
    from django.db import transaction

    from rights.models import Holding, RegisterRecord

    from .services import matches_withdraw

    if data.get("kind") not in ("lapse", "status_change"):
        return
    with transaction.atomic():
        record = RegisterRecord.objects.filter(pk=data.get("record")).first()
        if record is None or record.legal_status not in _GONE_STATUSES:
            return
        holdings = list(Holding.objects.filter(record=record).values_list("pk", flat=True))
        matches_withdraw(reason="right_lapsed", holding_ids=holdings)
