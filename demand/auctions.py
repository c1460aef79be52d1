"""English auctions of a published listing (DESIGN section 9: demand sits above escrow).

- Bidders act for a verified organization that is not the seller's and must have a deposit held by
  escrow for the auction (`escrow.services.deposit_pay_start`, subject "auction:<id>").
- `bid_place` (demand/bidding.py) locks the auction row in one statement: bids are serialised, so
  among any number of bidders at once exactly one is highest and each accepted bid is at least the
  current price + increment; a bid in the last `extension_seconds` moves the end on (anti-sniping);
  nothing is accepted at or after the end.
- `auction_close` (beat, or anyone opening the page after the end): highest bid ≥ reserve → won,
  the runner-up's deposit held until the winner pays (at most `Tenant.auction_runner_up_hold_days`,
  `release_runner_up`), other deposits returned; below the reserve the seller may accept the highest
  bid, propose a price to the highest bidder (demand/counteroffers.py) or let it go.
- `auction_settle`: the winner's escrowed order at the winning price (escrow's
  `order_place(agreed_price_minor=...)`), the winner's deposit counted towards its payment.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.selectors import active_organization
from core.audit import audit_record
from core.errors import Conflict, DomainError, InvalidTransition, NotAllowed, ValidationFailed
from core.events import emit
from core.money import format_money
from core.notifications import notify
from core.permissions import Role, has_role, is_member
from core.tenancy import require_tenant
from escrow import services as escrow
from escrow.models import Deposit
from escrow.selectors import deposits_for, live_deposit
from listings.models import Listing

from .bidding import bid_place, bidder_blocker, when  # noqa: F401 - the auction API: views, tests and the bench call A.bid_place
from .models import Auction, Bid
from .services import members

S = Auction.State
MAX_MINOR = 10**15


def lock_auction(auction_id) -> Auction:
    auction = (Auction.objects.select_for_update(of=("self",)).select_related("listing", "high_bid")
               .filter(pk=auction_id).first())
    if auction is None:
        from core.errors import NotFound

        raise NotFound(_("This auction does not exist."))
    return auction


@transaction.atomic(durable=True)
def auction_create(*, listing, actor, start_price_minor: int, reserve_minor: int, increment_minor: int,
                   deposit_minor: int, starts_at, ends_at, extension_seconds: int = 120) -> Auction:
    """The seller (or the exchange's administrators, for a package) puts a published listing up for auction."""
    tenant = require_tenant()
    listing = Listing.objects.select_for_update(of=("self",)).select_related("seller_org").get(pk=listing.pk)
    staff = actor is not None and actor.is_authenticated and (actor.is_superuser or has_role(actor, Role.TENANT_ADMIN))
    if not staff and not is_member(actor, listing.seller_org):
        raise NotAllowed(_("Only the seller's organization or the exchange's administrators can auction this listing."))
    if listing.state != Listing.State.PUBLISHED:
        raise InvalidTransition(_("Only a published listing can be auctioned."))
    errors: dict[str, list[str]] = {}
    values = {"start_price_minor": start_price_minor, "increment_minor": increment_minor,
              "deposit_minor": deposit_minor, "reserve_minor": reserve_minor}
    for name, value in values.items():
        if value is None or not (0 <= int(value) <= MAX_MINOR):
            errors[name] = [_("Enter an amount between 0 and 10,000,000,000,000.")]
    if not errors:
        if start_price_minor <= 0:
            errors["start_price_minor"] = [_("The start price must be above zero.")]
        if increment_minor <= 0:
            errors["increment_minor"] = [_("The bid increment must be above zero.")]
        if deposit_minor <= 0:
            errors["deposit_minor"] = [_("Bidders place a deposit: enter an amount above zero.")]
        elif deposit_minor > start_price_minor:
            errors["deposit_minor"] = [_("The deposit cannot be more than the start price.")]
    now = timezone.now()
    if starts_at is None or ends_at is None:
        errors["ends_at"] = [_("Give the start and the end.")]
    elif ends_at <= starts_at:
        errors["ends_at"] = [_("The end must be after the start.")]
    elif ends_at <= now:
        errors["ends_at"] = [_("The end is in the past.")]
    elif ends_at - starts_at > datetime.timedelta(days=60):
        errors["ends_at"] = [_("An auction runs at most 60 days.")]
    if not (0 <= int(extension_seconds or 0) <= 3600):
        errors["extension_seconds"] = [_("The extension is between 0 and 3,600 seconds.")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], field_errors=errors)
    if Auction.objects.filter(listing=listing, state=S.OPEN).exists():
        raise Conflict(_("This listing is already being auctioned."))
    auction = Auction.objects.create(
        tenant=tenant, listing=listing, seller_org=listing.seller_org, created_by=actor, currency=listing.currency,
        start_price_minor=start_price_minor, reserve_minor=reserve_minor, increment_minor=increment_minor,
        deposit_minor=deposit_minor, starts_at=starts_at, ends_at=ends_at, scheduled_end=ends_at,
        extension_seconds=extension_seconds)
    audit_record(actor=actor, action="auction.create", obj=auction, to_state=auction.state,
                 data={"listing": listing.pk, "start_price_minor": start_price_minor, "increment_minor": increment_minor,
                       "deposit_minor": deposit_minor, "ends_at": ends_at.isoformat()})  # the reserve stays hidden
    emit("auction.opened", organizations=[listing.seller_org], data={"auction": auction.pk, "listing": listing.pk})
    return auction


@transaction.atomic(durable=True)
def auction_deposit_start(*, auction, actor, provider: str = "simulated"):
    """A bidder starts paying the deposit (escrow holds it); returns escrow's pending Payment."""
    auction = Auction.objects.select_related("seller_org").get(pk=auction.pk)
    org = active_organization(actor) if actor is not None and actor.is_authenticated else None
    if org is None:
        raise NotAllowed(_("Register the organization you bid for in your account first."))
    if org.pk == auction.seller_org_id:
        raise NotAllowed(_("Your organization is selling this; it cannot bid in its own auction."))
    if not org.is_verified:
        raise NotAllowed(_("Only verified organizations can bid: have %(org)s verified in your account first.")
                         % {"org": org.legal_name})
    if auction.state != S.OPEN or timezone.now() >= auction.ends_at:
        raise InvalidTransition(_("The auction has ended."))
    return auction, org


def deposit_start(*, auction, actor, provider: str = "simulated"):
    auction, org = auction_deposit_start(auction=auction, actor=actor, provider=provider)
    return escrow.deposit_pay_start(subject=auction.subject, payer_org=org, amount_minor=auction.deposit_minor,
                                    currency=auction.currency, actor=actor, provider=provider)


def _return_deposits(auction, *, keep_org_id=None, keep_org_ids=(), reason=""):
    keep = {keep_org_id, *keep_org_ids}
    for deposit in deposits_for(auction.subject).exclude(state__in=[Deposit.State.RETURNED, Deposit.State.APPLIED]):
        if deposit.payer_org_id not in keep:
            escrow.deposit_return(deposit=deposit, reason=reason)


def runner_up_bid(auction):
    """The bid that wins if the winner does not pay: the highest of another organization (none that
    defaulted) at or above the reserve."""
    exclude = [*auction.defaulted_org_ids, auction.high_bid.bidder_org_id] if auction.high_bid_id else \
        list(auction.defaulted_org_ids)
    return (Bid.objects.filter(auction=auction, amount_minor__gte=auction.reserve_minor)
            .exclude(bidder_org_id__in=exclude).order_by("-amount_minor", "pk").first())


def release_runner_up(auction, *, reason: str) -> int:
    """NON-durable (auction row locked by the caller): return the held deposits that count towards no
    order, except the current winner's. Returns how many."""
    winner_org = auction.high_bid.bidder_org_id if auction.high_bid_id else None
    returned = 0
    for deposit in deposits_for(auction.subject).filter(state=Deposit.State.HELD, order__isnull=True):
        if deposit.payer_org_id != winner_org:
            escrow.deposit_return(deposit=deposit, reason=reason)
            returned += 1
    if auction.runner_up_until is not None:
        auction.runner_up_until = None
        auction.save(update_fields=["runner_up_until"])
    return returned


@transaction.atomic(durable=True)
def runner_up_release_due(*, auction_id) -> int:
    """Beat: the runner-up's hold window passed (the winner has not paid yet): their deposit goes back."""
    auction = lock_auction(auction_id)
    if auction.runner_up_until is None or timezone.now() < auction.runner_up_until:
        return 0
    return release_runner_up(auction, reason=_("The hold on the runner-up's deposit ended."))


@transaction.atomic(durable=True)
def auction_close(*, auction_id) -> Auction:
    """After the end (no-op before it, or when already closed): decide the outcome and return the
    deposits of everyone but the highest bidder."""
    auction = lock_auction(auction_id)
    now = timezone.now()
    if auction.state != S.OPEN or now < auction.ends_at:
        return auction
    high = auction.high_bid
    title = auction.listing.title
    if high is None:
        auction.state = S.NO_BIDS
        _return_deposits(auction, reason=_("The auction ended without bids."))
    elif auction.current_price_minor >= auction.reserve_minor:
        auction.state = S.WON
        # The runner-up's deposit stays held until the winner pays (at most the exchange's window): if the
        # winner defaults, the auction passes to them and it counts towards their order.
        days = auction.tenant.auction_runner_up_hold_days
        runner_up = runner_up_bid(auction) if days else None
        if runner_up is not None:
            auction.runner_up_until = now + datetime.timedelta(days=days)
        _return_deposits(auction, keep_org_ids={high.bidder_org_id, runner_up and runner_up.bidder_org_id},
                         reason=_("Another bidder won the auction."))
    else:
        auction.state = S.RESERVE_NOT_MET
        _return_deposits(auction, keep_org_id=high.bidder_org_id, reason=_("The auction ended below the reserve."))
    auction.closed_at = now
    auction.save(update_fields=["state", "closed_at", "runner_up_until"])
    audit_record(actor_label="auction end", action="auction.close", obj=auction, from_state=S.OPEN,
                 to_state=auction.state, data={"price_minor": auction.current_price_minor, "bids": auction.bid_count})
    price = format_money(auction.current_price_minor, auction.currency)
    if auction.state == S.WON:
        notify(users=members(high.bidder_org_id), kind="auction.won", url=auction.get_absolute_url(),
               subject=gettext_lazy("You won the auction of “%(title)s” at %(price)s"),
               body=gettext_lazy("Your escrowed order is being placed; your deposit counts towards the payment."),
               params={"title": title, "price": price})
        notify(users=members(auction.seller_org_id), kind="auction.won", url=auction.get_absolute_url(),
               subject=gettext_lazy("Your auction of “%(title)s” ended at %(price)s"),
               params={"title": title, "price": price})
        if auction.runner_up_until is not None:
            notify(users=members(runner_up.bidder_org_id), kind="auction.runner_up", url=auction.get_absolute_url(),
                   subject=gettext_lazy("You are the runner-up in the auction of “%(title)s”"),
                   body=gettext_lazy("Your bid of %(bid)s is the next highest. Your deposit stays held until the winner "
                                     "pays, at the latest until %(until)s; if the winner does not pay, the auction "
                                     "goes to you and your deposit counts towards the payment."),
                   params={"title": title, "bid": format_money(runner_up.amount_minor, auction.currency),
                           "until": when(auction.runner_up_until)})
    elif auction.state == S.RESERVE_NOT_MET:
        notify(users=members(auction.seller_org_id), kind="auction.reserve_not_met", url=auction.get_absolute_url(),
               subject=gettext_lazy("The auction of “%(title)s” ended below your reserve"),
               body=gettext_lazy("The highest bid was %(price)s. You may accept it, propose a price to the highest "
                                 "bidder, or let the auction end unsold."),
               params={"title": title, "price": price})
        notify(users=members(high.bidder_org_id), kind="auction.reserve_not_met", url=auction.get_absolute_url(),
               subject=gettext_lazy("The auction of “%(title)s” ended below the reserve"),
               body=gettext_lazy("The seller may still accept your bid of %(price)s; your deposit stays held until "
                                 "they decide."), params={"title": title, "price": price})
    emit("auction.closed", organizations=[auction.seller_org], data={"auction": auction.pk, "state": auction.state})
    return auction


def auction_settle(*, auction_id) -> Auction:
    """A won auction becomes the winner's escrowed order at the winning price; the winner's deposit
    counts towards it. Safe to run twice. When the order cannot be placed (the listing was withdrawn or
    sold meanwhile) the auction ends unsold and the deposit goes back."""
    auction = Auction.objects.select_related("high_bid__bidder", "listing").get(pk=auction_id)
    if auction.state != S.WON or auction.order_id:
        return auction
    high = auction.high_bid
    try:
        order = escrow.order_place(listing=auction.listing, buyer=high.bidder, terms_accepted=True,
                                   agreed_price_minor=auction.sale_price_minor, via=auction.subject)
    except DomainError as exc:
        with transaction.atomic():
            locked = lock_auction(auction_id)
            if locked.state == S.WON and not locked.order_id:
                locked.state = S.UNSOLD
                locked.save(update_fields=["state"])
                _return_deposits(locked, reason=str(exc.message))
                audit_record(actor_label="system", action="auction.unsold", obj=locked, reason=str(exc.message))
        return Auction.objects.get(pk=auction_id)
    deposit = live_deposit(auction.subject, high.bidder_org)
    if deposit is not None and deposit.state == Deposit.State.HELD:
        try:
            escrow.deposit_apply(deposit=deposit, order=order)
        except DomainError:
            with transaction.atomic():
                escrow.deposit_return(deposit=deposit, reason=_("The order was placed for another organization."))
    with transaction.atomic():
        locked = lock_auction(auction_id)
        locked.order, locked.state = order, S.SOLD
        locked.save(update_fields=["order", "state"])
        audit_record(actor_label="system", action="auction.sold", obj=locked, from_state=S.WON, to_state=S.SOLD,
                     data={"order": order.reference, "price_minor": order.price_minor})
    return locked


@transaction.atomic(durable=True)
def auction_seller_decide(*, auction, actor, accept: bool) -> Auction:
    """Below the reserve: the seller accepts the highest bid (→ won, then settled) or lets it end unsold."""
    auction = lock_auction(auction.pk)
    if not is_member(actor, auction.seller_org):
        raise NotAllowed(_("Only the seller's organization decides."))
    if auction.state != S.RESERVE_NOT_MET:
        raise InvalidTransition(_("There is nothing to decide on this auction."))
    waiting = auction.counter_offers.filter(state="open").first()
    if waiting is not None:
        raise InvalidTransition(_("You proposed %(price)s to the highest bidder; their answer is awaited until "
                                  "%(deadline)s.") % {"price": format_money(waiting.price_minor, auction.currency),
                                                      "deadline": when(waiting.deadline)})
    if accept:
        auction.state = S.WON
    else:
        auction.state = S.UNSOLD
        _return_deposits(auction, reason=_("The seller did not accept the highest bid."))
    auction.save(update_fields=["state"])
    audit_record(actor=actor, action="auction.accept_below_reserve" if accept else "auction.decline_below_reserve",
                 obj=auction, from_state=S.RESERVE_NOT_MET, to_state=auction.state)
    if auction.high_bid_id:
        notify(users=members(auction.high_bid.bidder_org_id), kind="auction.decided", url=auction.get_absolute_url(),
               subject=(gettext_lazy("The seller accepted your bid on “%(title)s”") if accept else
                        gettext_lazy("The seller did not accept your bid on “%(title)s”; your deposit is returned")),
               params={"title": auction.listing.title})
    return auction


def auction_finish(*, auction_id) -> Auction:
    """Close (when due) and settle: what the beat task and the page after the end call."""
    auction = auction_close(auction_id=auction_id)
    if auction.state == S.WON:
        auction = auction_settle(auction_id=auction_id)
    return auction


def seller_accept(*, auction, actor, accept: bool) -> Auction:
    auction = auction_seller_decide(auction=auction, actor=actor, accept=accept)
    if accept:
        auction = auction_settle(auction_id=auction.pk)
    return auction


def pass_to_next_bidder(auction: Auction, *, defaulted_org_id, reason: str = "") -> Auction:
    """NON-durable (inside escrow's cancellation, the auction row locked by the caller): the winner's
    order was cancelled. A defaulting winner is recorded (their deposit is forfeited by escrow) and the
    next highest bid of another organization at or above the reserve wins at its amount; without one,
    or when the seller defaulted (`defaulted_org_id` None), the auction ends unsold."""
    from core.outbox import enqueue

    previous = auction.high_bid
    fields = ["state", "order", "high_bid", "current_price_minor", "defaulted_org_ids", "agreed_price_minor",
              "runner_up_until"]
    auction.runner_up_until = None
    auction.agreed_price_minor = None  # the next bidder pays their own bid
    nxt = None
    if defaulted_org_id is not None:
        auction.defaulted_org_ids = sorted({*auction.defaulted_org_ids, int(defaulted_org_id)})
        nxt = (Bid.objects.filter(auction=auction, amount_minor__gte=auction.reserve_minor)
               .exclude(bidder_org_id__in=auction.defaulted_org_ids).order_by("-amount_minor", "pk").first())
    auction.order = None
    if nxt is not None:
        auction.state, auction.high_bid, auction.current_price_minor = S.WON, nxt, nxt.amount_minor
    else:
        auction.state = S.UNSOLD
    auction.save(update_fields=fields)
    # the next bidder's deposit, still held, counts towards their order (auction_settle applies it); any
    # other held deposit that counts towards no order goes back
    release_runner_up(auction, reason=_("The auction went to another bidder.") if nxt is not None
                      else _("The auction ended unsold."))
    audit_record(actor_label="system", action="auction.winner_defaulted" if defaulted_org_id else "auction.order_cancelled",
                 obj=auction, from_state=S.SOLD, to_state=auction.state, reason=reason,
                 data={"defaulted_org": defaulted_org_id, "previous_bid": previous.pk if previous else None,
                       "next_bid": nxt.pk if nxt else None, "price_minor": auction.current_price_minor})
    title = auction.listing.title
    if nxt is not None:
        enqueue("demand.tasks.settle_auction", tenant_id=auction.tenant_id, auction_id=auction.pk)
        notify(users=members(nxt.bidder_org_id), kind="auction.won", url=auction.get_absolute_url(),
               subject=gettext_lazy("The auction of “%(title)s” goes to you at %(price)s"),
               body=gettext_lazy("The winner did not pay. Your bid of %(price)s is the next highest: your escrowed "
                                 "order is being placed; your deposit, if it is still held, counts towards it."),
               params={"title": title, "price": format_money(nxt.amount_minor, auction.currency)})
    notify(users=members(auction.seller_org_id), kind="auction.winner_defaulted", url=auction.get_absolute_url(),
           subject=(gettext_lazy("The winner of “%(title)s” did not pay; the next bidder gets it") if nxt is not None
                    else gettext_lazy("The auction of “%(title)s” ended unsold")),
           body=(gettext_lazy("The winner's deposit is forfeited to you, less the exchange's share.")
                 if defaulted_org_id else gettext_lazy("The order was cancelled.")),
           params={"title": title})
    return auction
