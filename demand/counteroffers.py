"""Below the reserve, the seller negotiates with the highest bidder (issue 16).

- `counter_offer_make` (seller): a price of at least the highest bid, with a deadline for the answer
  (1 hour to 7 days). One per auction; while it is open the seller's accept / end-unsold waits.
- `counter_offer_answer` (the highest bidder's organization): accept → the auction is won at that
  price and settled into the escrowed order (the bidder's held deposit counts towards it); decline →
  back to the seller, who may still accept the highest bid or end the auction unsold.
- `counter_offers_expire` (beat, or whoever opens the page after the deadline): an unanswered offer
  expires and the decision is the seller's again.

Every change locks the auction row first (then the counter-offer), like every auction service.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from core.money import format_money
from core.notifications import notify
from core.permissions import is_member

from .auctions import MAX_MINOR, auction_settle, lock_auction
from .bidding import when
from .models import Auction, CounterOffer
from .services import members

S = Auction.State
C = CounterOffer.State
MIN_HOURS, MAX_HOURS = 1, 7 * 24


def open_counter_offer(auction) -> CounterOffer | None:
    return CounterOffer.objects.filter(auction=auction, state=C.OPEN).first()


def _lock_counter_offer(auction) -> CounterOffer | None:
    return CounterOffer.objects.select_for_update(of=("self",)).filter(auction=auction).first()


@transaction.atomic(durable=True)
def counter_offer_make(*, auction, actor, price_minor, hours) -> CounterOffer:
    """The seller proposes `price_minor` (≥ the highest bid) to the highest bidder, who answers
    within `hours`."""
    auction = lock_auction(getattr(auction, "pk", auction))
    if not is_member(actor, auction.seller_org):
        raise NotAllowed(_("Only the seller's organization can propose a price."))
    if auction.state != S.RESERVE_NOT_MET or auction.high_bid_id is None:
        raise InvalidTransition(_("A price can be proposed only after an auction that ended below the reserve."))
    if _lock_counter_offer(auction) is not None:
        raise InvalidTransition(_("You have already proposed a price to the highest bidder in this auction."))
    errors: dict[str, list[str]] = {}
    try:
        price = int(price_minor)
    except (TypeError, ValueError):
        price = None
    highest = auction.current_price_minor
    if price is None or not (0 < price <= MAX_MINOR):
        errors["price_minor"] = [_("Enter an amount between 0 and 10,000,000,000,000.")]
    elif price < highest:
        errors["price_minor"] = [_("Propose at least the highest bid, %(bid)s.") % {
            "bid": format_money(highest, auction.currency)}]
    try:
        hours_int = int(hours)
    except (TypeError, ValueError):
        hours_int = 0
    if not (MIN_HOURS <= hours_int <= MAX_HOURS):
        errors["hours"] = [_("The bidder answers within 1 to 168 hours.")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], field_errors=errors)
    high = auction.high_bid
    offer = CounterOffer.objects.create(
        tenant=auction.tenant, auction=auction, bid=high, bidder_org_id=high.bidder_org_id, price_minor=price,
        deadline=timezone.now() + datetime.timedelta(hours=hours_int), created_by=actor)
    audit_record(actor=actor, action="auction.counter_offer", obj=auction, from_state=auction.state,
                 to_state=auction.state, data={"counter_offer": offer.pk, "price_minor": price,
                                               "bid_minor": highest, "deadline": offer.deadline.isoformat()})
    params = {"title": auction.listing.title, "price": format_money(price, auction.currency),
              "bid": format_money(highest, auction.currency), "deadline": when(offer.deadline)}
    url = auction.get_absolute_url()
    transaction.on_commit(lambda: notify(
        users=members(offer.bidder_org_id), kind="auction.counter_offer", url=url,
        subject=gettext_lazy("The seller of “%(title)s” proposes %(price)s"),
        body=gettext_lazy("Your bid of %(bid)s was below the reserve. Accept %(price)s by %(deadline)s and the "
                          "escrowed order is placed (your deposit counts towards it), or decline."),
        params=params))
    return offer


@transaction.atomic(durable=True)
def _answer(*, auction_id, actor, accept: bool) -> tuple[Auction, CounterOffer, bool]:
    auction = lock_auction(auction_id)
    offer = _lock_counter_offer(auction)
    if offer is None:
        raise NotFound(_("The seller has not proposed a price in this auction."))
    if not is_member(actor, offer.bidder_org):
        raise NotAllowed(_("Only the highest bidder's organization answers the seller's price."))
    if offer.state != C.OPEN:
        raise InvalidTransition(_("This proposal has already been answered or has expired (“%(state)s”).")
                                % {"state": offer.get_state_display()})
    now = timezone.now()
    if now >= offer.deadline:
        _expire(auction, offer)  # kept: the caller says why after this commits
        return auction, offer, False
    if auction.state != S.RESERVE_NOT_MET:
        raise InvalidTransition(_("There is nothing to decide on this auction."))
    offer.state, offer.answered_by, offer.answered_at = (C.ACCEPTED if accept else C.DECLINED), actor, now
    offer.save(update_fields=["state", "answered_by", "answered_at"])
    fields = []
    if accept:
        auction.state, auction.agreed_price_minor = S.WON, offer.price_minor
        fields = ["state", "agreed_price_minor"]
        auction.save(update_fields=fields)
    audit_record(actor=actor, action="auction.counter_offer_accepted" if accept else "auction.counter_offer_declined",
                 obj=auction, from_state=S.RESERVE_NOT_MET, to_state=auction.state,
                 data={"counter_offer": offer.pk, "price_minor": offer.price_minor})
    params = {"title": auction.listing.title, "price": format_money(offer.price_minor, auction.currency)}
    url, seller_org_id = auction.get_absolute_url(), auction.seller_org_id
    transaction.on_commit(lambda: notify(
        users=members(seller_org_id), kind="auction.counter_offer_answered", url=url,
        subject=(gettext_lazy("The highest bidder accepted %(price)s for “%(title)s”") if accept else
                 gettext_lazy("The highest bidder declined %(price)s for “%(title)s”")),
        body=(gettext_lazy("The escrowed order is being placed.") if accept else
              gettext_lazy("You may still accept the highest bid, or let the auction end unsold.")),
        params=params))
    return auction, offer, True


def counter_offer_answer(*, auction, actor, accept: bool) -> CounterOffer:
    """The highest bidder accepts (→ escrowed order at the proposed price) or declines."""
    auction, offer, answered = _answer(auction_id=getattr(auction, "pk", auction), actor=actor, accept=accept)
    if not answered:
        raise InvalidTransition(_("The seller's proposal expired at %(deadline)s.") % {"deadline": when(offer.deadline)})
    if accept:
        auction_settle(auction_id=auction.pk)
    return offer


def _expire(auction, offer) -> None:
    offer.state = C.EXPIRED
    offer.save(update_fields=["state"])
    audit_record(actor_label="deadline", action="auction.counter_offer_expired", obj=auction,
                 from_state=auction.state, to_state=auction.state, data={"counter_offer": offer.pk})
    notify(users=members(auction.seller_org_id), kind="auction.counter_offer_answered", url=auction.get_absolute_url(),
           subject=gettext_lazy("The highest bidder did not answer %(price)s for “%(title)s” in time"),
           body=gettext_lazy("You may still accept the highest bid, or let the auction end unsold."),
           params={"title": auction.listing.title, "price": format_money(offer.price_minor, auction.currency)})


def counter_offer_expire(*, auction_id) -> bool:
    """An open proposal whose deadline passed expires (durable; no-op otherwise)."""
    with transaction.atomic(durable=True):
        auction = lock_auction(auction_id)
        offer = _lock_counter_offer(auction)
        if offer is None or offer.state != C.OPEN or timezone.now() < offer.deadline:
            return False
        _expire(auction, offer)
        return True


def counter_offers_expire() -> int:
    """Beat, per tenant: every proposal past its deadline."""
    due = CounterOffer.objects.filter(state=C.OPEN, deadline__lte=timezone.now()).values_list("auction_id", flat=True)
    return sum(counter_offer_expire(auction_id=pk) for pk in list(due))
