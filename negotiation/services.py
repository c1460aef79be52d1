"""Every write of negotiated deals. Durable services own their transaction and always lock the
listing row first, then the offer row (the same order as escrow's order_place), so an accept and
a direct order of the same listing never deadlock and exactly one of them wins.

offer_make → offer_counter (back and forth) → offer_accept (→ escrowed order at the agreed price and
terms, through escrow.services.order_place_agreed) | offer_reject | offer_withdraw | offer_expire_due."""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.mandates import mandate_for_listing
from accounts.models import Mandate, Membership
from accounts.selectors import active_organization
from core.audit import audit_record
from core.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from core.events import answer, ask, emit
from core.notifications import notify
from core.permissions import is_member
from escrow.models import LIVE_STATES, Order, OrderState
from escrow.services import AgreedDeal, order_place_agreed
from listings.models import Listing

from .models import Licence, Offer, OfferRound, Question, Side
from .terms import clean_terms, overlaps

DEFAULT_VALIDITY_DAYS = 7
MAX_VALIDITY_DAYS = 60
MAX_NOTE = 2000
MAX_PRICE_MINOR = 10**15


# --- helpers ---------------------------------------------------------------------------------------

def _lock_listing(pk) -> Listing:
    listing = Listing.objects.select_for_update(of=("self",)).select_related("seller_org").filter(pk=pk).first()
    if listing is None:
        raise InvalidTransition(_("This listing is not for sale right now."))
    return listing


def _lock_offer(offer) -> tuple[Listing, Offer]:
    listing = _lock_listing(offer.listing_id)
    locked = Offer.objects.select_for_update(of=("self",)).select_related(
        "buyer_org", "seller_org", "buyer_user", "seller_mandate", "buyer_mandate").get(pk=offer.pk)
    return listing, locked


def _members(org):
    return [m.user for m in Membership.objects.filter(organization=org).select_related("user")]


def _party_users(offer):
    users = _members(offer.buyer_org) + _members(offer.seller_org)
    for mandate in (offer.seller_mandate, offer.buyer_mandate):
        if mandate is not None:
            users += _members(mandate.broker_org)
    return users


def side_of(actor, offer) -> tuple[str | None, Mandate | None]:
    """Which side `actor` may act for on this offer: ("buyer", None), ("seller", None), ("seller", mandate)
    or ("buyer", mandate) for a broker's member under a mandate in force for this listing, or (None, None)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, None
    if is_member(actor, offer.buyer_org):
        return Side.BUYER, None
    if is_member(actor, offer.seller_org):
        return Side.SELLER, None
    mandate = mandate_for_listing(user=actor, principal_org=offer.seller_org, listing_id=offer.listing_id)
    if mandate is not None:
        return Side.SELLER, mandate
    mandate = mandate_for_listing(user=actor, principal_org=offer.buyer_org, listing_id=offer.listing_id,
                                  side=Mandate.Side.BUYER)
    if mandate is not None:
        return Side.BUYER, mandate
    return None, None


def seller_side_for_listing(actor, listing) -> tuple[bool, Mandate | None]:
    """May `actor` act for the seller of `listing` (a member, or a broker under a mandate in force)?"""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False, None
    if is_member(actor, listing.seller_org):
        return True, None
    mandate = mandate_for_listing(user=actor, principal_org=listing.seller_org, listing_id=listing.pk)
    return mandate is not None, mandate


def _refuse_if_held(listing) -> None:
    """A listing held by another sale (demand: a live auction) takes no offers; asked under the listing
    lock, which the auction's creation takes too. Accepting is refused by escrow's order_place_agreed."""
    hold = ask("listing.sale_hold", listing=listing, via="")
    if hold is not None:
        raise Conflict(str(hold.message), code="on_auction")


def _keep_mandate(offer, mandate) -> None:
    """A broker acted: its mandate is the offer's for its side (the last broker to act for a side counts)."""
    if mandate is None:
        return
    if mandate.side == Mandate.Side.BUYER:
        offer.buyer_mandate = mandate
    else:
        offer.seller_mandate = mandate


def _require_places_left(listing) -> None:
    if listing.state == Listing.State.SOLD_OUT:
        raise Conflict(_("All %(n)s licences of this listing are taken.") % {"n": listing.licence_cap})


def _check_price(price_minor, listing, *, floor=True):
    if isinstance(price_minor, bool) or not isinstance(price_minor, int) or not 0 < price_minor <= MAX_PRICE_MINOR:
        raise ValidationFailed(_("Enter a price above zero."), field_errors={"price": [_("Enter a valid amount.")]})
    if floor and listing.offer_floor_minor and price_minor < listing.offer_floor_minor:
        raise ValidationFailed(_("This offer is below the lowest price the seller considers; it was not sent."),
                               field_errors={"price": [_("Offer more.")]})


def _expiry(expires_at, now):
    if expires_at is None:
        return now + datetime.timedelta(days=DEFAULT_VALIDITY_DAYS)
    if expires_at <= now:
        raise ValidationFailed(_("The offer must be valid for some time from now."),
                               field_errors={"expires_at": [_("Choose a later date.")]})
    if expires_at > now + datetime.timedelta(days=MAX_VALIDITY_DAYS):
        raise ValidationFailed(_("An offer is valid for at most %(n)s days.") % {"n": MAX_VALIDITY_DAYS},
                               field_errors={"expires_at": [_("Choose an earlier date.")]})
    return expires_at


def _require_live(offer, now):
    if offer.state == Offer.State.OPEN and offer.expires_at <= now:
        raise InvalidTransition(_("This offer expired on %(when)s; make a new one.")
                                % {"when": timezone.localtime(offer.expires_at).strftime("%Y-%m-%d %H:%M")})
    if offer.state != Offer.State.OPEN:
        raise InvalidTransition(_("This offer is %(state)s; nothing more can be done with it.")
                                % {"state": offer.get_state_display()})


def _round(offer, kind, *, side="", actor=None, acting_org=None, note="", with_terms=False):
    return OfferRound.objects.create(
        offer=offer, kind=kind, side=side, actor=actor, acting_org=acting_org, note=(note or "")[:MAX_NOTE],
        price_minor=offer.price_minor if with_terms else None, terms=offer.terms if with_terms else {},
        expires_at=offer.expires_at if with_terms else None)


def _notify(offer, kind, subject, body, params=None):
    notify(users=_party_users(offer), kind=kind, subject=subject, body=body,
           params={"title": offer.listing.title, "id": offer.pk, **(params or {})}, url=offer.get_absolute_url())


def _emit(offer, step):
    orgs = [offer.buyer_org, offer.seller_org]
    for mandate in (offer.seller_mandate, offer.buyer_mandate):
        if mandate is not None:
            orgs.append(mandate.broker_org)
    emit("offer.state_changed", organizations=orgs,
         data={"offer": offer.pk, "listing": offer.listing_id, "state": offer.state, "step": step,
               "waiting_for": offer.waiting_for if offer.is_open else "", "price_minor": offer.price_minor,
               "currency": offer.currency})


# --- offers ----------------------------------------------------------------------------------------

@transaction.atomic(durable=True)
def offer_make(*, listing, actor, price_minor: int, currency: str, terms: dict | None = None,
               expires_at: datetime.datetime | None = None, note: str = "", for_org=None) -> Offer:
    """A buyer offers a price (and, for a licence, its terms) on a listing that takes offers. Below the
    seller's floor the offer is refused at once (nothing stored). One open offer per buyer and listing.
    `for_org`: a broker's member makes the offer for that buyer organization, under a buyer-side mandate
    in force covering the listing; the order will be the principal's (placed in the name of the member who
    accepted the mandate), with the broker's commission on top."""
    if actor is None or not actor.is_authenticated:
        raise NotAllowed(_("Log in to make an offer."))
    buyer_mandate = None
    if for_org is not None and not is_member(actor, for_org):
        buyer_mandate = mandate_for_listing(user=actor, principal_org=for_org, listing_id=listing.pk,
                                            side=Mandate.Side.BUYER)
        if buyer_mandate is None:
            raise NotAllowed(_("You have no mandate in force from %(org)s covering this listing.")
                             % {"org": for_org.legal_name})
        principal_user = buyer_mandate.decided_by
        if principal_user is None or not is_member(principal_user, for_org):
            raise NotAllowed(_("The member of %(org)s who accepted the mandate no longer acts for it; ask "
                               "%(org)s to accept a new mandate.") % {"org": for_org.legal_name})
        buyer_org, buyer_user, acting_org = for_org, principal_user, buyer_mandate.broker_org
    else:
        buyer_org = for_org or active_organization(actor)
        buyer_user, acting_org = actor, buyer_org
    if buyer_org is None:
        raise NotAllowed(_("Join or register an organization in your account before making an offer."))
    listing = _lock_listing(listing.pk)
    if listing.seller_org_id == buyer_org.pk:
        raise NotAllowed(_("You cannot make an offer on a listing of your own organization."))
    if not listing.takes_offers:
        raise InvalidTransition(_("This listing is sold at its fixed price; order it instead."))
    if listing.state == Listing.State.RESERVED:
        raise Conflict(_("Someone else ordered this a moment ago."))
    _require_places_left(listing)
    if listing.state != Listing.State.PUBLISHED:
        raise InvalidTransition(_("This listing is not for sale right now."))
    _refuse_if_held(listing)
    if (currency or "").upper() != listing.currency:
        raise ValidationFailed(_("The listing is priced in %(cur)s; make your offer in %(cur)s.") % {"cur": listing.currency},
                               field_errors={"currency": [_("Use %(cur)s.") % {"cur": listing.currency}]})
    _check_price(price_minor, listing)
    now = timezone.now()
    offer = Offer(listing=listing, buyer_org=buyer_org, seller_org=listing.seller_org, buyer_user=buyer_user,
                  buyer_mandate=buyer_mandate, waiting_for=Side.SELLER, price_minor=price_minor, currency=listing.currency,
                  terms=clean_terms(listing, terms), expires_at=_expiry(expires_at, now))
    try:
        with transaction.atomic():
            offer.save()
    except IntegrityError:
        raise Conflict(_("Your organization already has an open offer on this listing; counter or withdraw it.")) from None
    _round(offer, OfferRound.Kind.OFFER, side=Side.BUYER, actor=actor, acting_org=acting_org, note=note, with_terms=True)
    audit_record(actor=actor, action="offer.make", obj=offer, to_state=offer.state,
                 data={"listing": listing.pk, "price_minor": price_minor, "currency": offer.currency, "terms": offer.terms,
                       "buyer_broker_org": buyer_mandate.broker_org_id if buyer_mandate else None,
                       "buyer_mandate": buyer_mandate.pk if buyer_mandate else None})
    _notify(offer, "offer.made", gettext_lazy("New offer on “%(title)s”"),
            gettext_lazy("A buyer offers %(price)s for “%(title)s”. Accept, counter or reject it before it expires."),
            {"price": f"{price_minor / 100:,.2f} {offer.currency}"})
    _emit(offer, "make")
    return offer


@answer("negotiation.offer_to_buyer")
@transaction.atomic
def offer_propose(*, listing, actor, buyer_org, buyer_user, price_minor: int, note: str = "",
                  source: str = "", buyer_anonymous: bool = False) -> Offer:
    """NOT durable: the seller's side proposes a price to a buyer organization that asked for something
    like it (demand: a holder answers a buyer's want). The offer opens waiting for the buyer, who accepts
    (→ escrowed order), counters or rejects it as usual. Demand calls it through core.events.ask inside
    its own transaction, so the answer and the offer commit together. `buyer_anonymous` (an anonymous
    want): the seller's side sees "Anonymous buyer" until the buyer reveals itself (`offer_reveal_buyer`)
    or the deal is agreed (an escrowed order names both parties)."""
    listing = _lock_listing(listing.pk)
    is_seller, mandate = seller_side_for_listing(actor, listing)
    if not is_seller:
        raise NotAllowed(_("Only the seller of this listing (or its broker) can offer it."))
    if listing.seller_org_id == buyer_org.pk:
        raise NotAllowed(_("You cannot make an offer to your own organization."))
    if listing.state == Listing.State.RESERVED:
        raise Conflict(_("Someone else ordered this a moment ago."))
    if listing.state != Listing.State.PUBLISHED:
        raise InvalidTransition(_("This listing is not for sale right now."))
    _refuse_if_held(listing)
    _check_price(price_minor, listing, floor=False)
    now = timezone.now()
    offer = Offer(listing=listing, buyer_org=buyer_org, seller_org=listing.seller_org, buyer_user=buyer_user,
                  seller_mandate=mandate, waiting_for=Side.BUYER, price_minor=price_minor, currency=listing.currency,
                  terms=clean_terms(listing, {}), expires_at=_expiry(None, now), buyer_anonymous=bool(buyer_anonymous))
    try:
        with transaction.atomic():
            offer.save()
    except IntegrityError:
        raise Conflict(_("This buyer already negotiates this listing with you; answer in that negotiation.")) from None
    acting_org = mandate.broker_org if mandate else listing.seller_org
    _round(offer, OfferRound.Kind.OFFER, side=Side.SELLER, actor=actor, acting_org=acting_org, note=note,
           with_terms=True)
    audit_record(actor=actor, action="offer.propose", obj=offer, to_state=offer.state,
                 data={"listing": listing.pk, "price_minor": price_minor, "currency": offer.currency,
                       "buyer_org": buyer_org.pk, "source": source, "buyer_anonymous": offer.buyer_anonymous})
    _notify(offer, "offer.made", gettext_lazy("Offer for “%(title)s”"),
            gettext_lazy("The seller offers “%(title)s” for %(price)s. Accept, counter or reject it before it expires."),
            {"price": f"{price_minor / 100:,.2f} {offer.currency}"})
    _emit(offer, "make")
    return offer


@transaction.atomic(durable=True)
def offer_reveal_buyer(*, offer, actor) -> Offer:
    """The buyer of an offer made to it anonymously (an anonymous want) tells the seller's side who it is.
    Only the buyer's side can; once revealed it stays so."""
    listing, offer = _lock_offer(offer)
    side, _mandate = side_of(actor, offer)
    if side != Side.BUYER:
        raise NotAllowed(_("Only the buyer can say who the buyer is."))
    if not offer.buyer_anonymous:
        raise InvalidTransition(_("The seller already knows who you are."))
    offer.buyer_anonymous = False
    offer.save(update_fields=["buyer_anonymous", "updated_at"])
    audit_record(actor=actor, action="offer.buyer_revealed", obj=offer, data={"on": "buyer's choice"})
    seller_users = _members(offer.seller_org) + (_members(offer.seller_mandate.broker_org) if offer.seller_mandate else [])
    notify(users=seller_users, kind="offer.buyer_revealed", url=offer.get_absolute_url(),
           subject=gettext_lazy("The buyer of “%(title)s” is %(buyer)s"),
           body=gettext_lazy("The buyer who posted its want anonymously now tells you who it is."),
           params={"title": listing.title, "buyer": offer.buyer_org.legal_name})
    return offer


@transaction.atomic(durable=True)
def offer_counter(*, offer, actor, price_minor: int, terms: dict | None = None,
                  expires_at: datetime.datetime | None = None, note: str = "") -> Offer:
    """The side whose turn it is answers with another price/terms; the turn passes to the other side.
    The seller's counters are not held to the floor. Refused once the offer has expired."""
    listing, offer = _lock_offer(offer)
    now = timezone.now()
    _require_live(offer, now)
    side, mandate = side_of(actor, offer)
    if side is None:
        raise NotAllowed(_("Only the buyer and the seller (or its broker) can negotiate this offer."))
    if side != offer.waiting_for:
        raise InvalidTransition(_("It is the other side's turn to answer."))
    _require_places_left(listing)
    if listing.state != Listing.State.PUBLISHED:
        raise InvalidTransition(_("This listing is not for sale right now."))
    _refuse_if_held(listing)
    _check_price(price_minor, listing, floor=side == Side.BUYER)
    offer.price_minor = price_minor
    if terms is not None:
        offer.terms = clean_terms(listing, {**offer.terms, **terms})
    offer.expires_at = _expiry(expires_at, now)
    offer.waiting_for = Side.BUYER if side == Side.SELLER else Side.SELLER
    _keep_mandate(offer, mandate)
    offer.save(update_fields=["price_minor", "terms", "expires_at", "waiting_for", "seller_mandate", "buyer_mandate",
                              "updated_at"])
    acting_org = mandate.broker_org if mandate else (offer.buyer_org if side == Side.BUYER else offer.seller_org)
    _round(offer, OfferRound.Kind.COUNTER, side=side, actor=actor, acting_org=acting_org, note=note, with_terms=True)
    audit_record(actor=actor, action="offer.counter", obj=offer,
                 data={"side": side, "price_minor": price_minor, "terms": offer.terms,
                       "broker_org": mandate.broker_org_id if mandate else None})
    _notify(offer, "offer.countered", gettext_lazy("Counter-offer on “%(title)s”"),
            gettext_lazy("The other side answers with %(price)s. Accept, counter or reject it before it expires."),
            {"price": f"{price_minor / 100:,.2f} {offer.currency}"})
    _emit(offer, "counter")
    return offer


def _licence_overlap(listing, offer):
    """An exclusive licence blocks every licence whose scope overlaps it (live or completed orders)."""
    if listing.deal_type != Listing.DealType.EXCLUSIVE_LICENCE:
        return
    granted = Order.objects.filter(listing=listing, holds_listing=False,
                                   state__in=(*LIVE_STATES, OrderState.COMPLETED)).only("terms", "reference")
    for order in granted:
        if overlaps(order.terms, offer.terms):
            raise Conflict(_("An exclusive licence covering this territory and field is already granted "
                             "(order %(ref)s).") % {"ref": order.reference})


@transaction.atomic(durable=True)
def offer_accept(*, offer, actor) -> Offer:
    """The side whose turn it is accepts: the escrowed order is placed at the agreed price and terms in
    the same transaction (one live order per listing for an assignment; licences as the listing allows).
    Two accepts at once on offers for one listing: the listing row lock lets exactly one through."""
    listing, offer = _lock_offer(offer)
    now = timezone.now()
    _require_live(offer, now)
    side, mandate = side_of(actor, offer)
    if side is None:
        raise NotAllowed(_("Only the buyer and the seller (or its broker) can accept this offer."))
    if side != offer.waiting_for:
        raise InvalidTransition(_("You made the last proposal; the other side has to accept it."))
    if listing.state == Listing.State.RESERVED:
        raise Conflict(_("Someone else ordered this a moment ago."))
    if listing.currency != offer.currency:
        raise ValidationFailed(_("The listing is now priced in %(cur)s; make a new offer.") % {"cur": listing.currency})
    _licence_overlap(listing, offer)
    today = timezone.localdate()
    buyer_broker = offer.buyer_mandate if offer.buyer_mandate_id else None
    if buyer_broker is not None:
        if not buyer_broker.in_force(today):
            raise Conflict(_("The mandate of %(broker)s for %(org)s is no longer in force; the offer cannot be "
                             "accepted.") % {"broker": buyer_broker.broker_org.legal_name,
                                             "org": offer.buyer_org.legal_name})
        if not is_member(offer.buyer_user, offer.buyer_org):
            raise Conflict(_("The buyer who made this offer no longer acts for %(org)s; they make a new offer.")
                           % {"org": offer.buyer_org.legal_name})
    elif active_organization(offer.buyer_user) != offer.buyer_org:
        raise Conflict(_("The buyer who made this offer no longer acts for %(org)s; they make a new offer.")
                       % {"org": offer.buyer_org.legal_name})
    _keep_mandate(offer, mandate)
    broker = offer.seller_mandate if offer.seller_mandate_id and offer.seller_mandate.in_force(today) else None
    agreed = AgreedDeal(price_minor=offer.price_minor, currency=offer.currency, terms={**offer.terms, "offer": offer.pk},
                        holds_listing=listing.deal_type == Listing.DealType.ASSIGNMENT,
                        broker_org=broker.broker_org if broker else None,
                        broker_commission_bps=broker.commission_bps if broker else 0,
                        buyer_org=offer.buyer_org if buyer_broker else None,
                        buyer_broker_org=buyer_broker.broker_org if buyer_broker else None,
                        buyer_broker_commission_bps=buyer_broker.commission_bps if buyer_broker else 0)
    order = order_place_agreed(listing=listing, buyer=offer.buyer_user, agreed=agreed, actor=actor)
    if listing.is_licence:
        Licence.objects.create(listing=listing, order=order, licensor_org=offer.seller_org, licensee_org=offer.buyer_org,
                               exclusive=bool(offer.terms.get("exclusive")), territory=offer.terms.get("territory", ""),
                               field_of_use=offer.terms.get("field", ""), term_months=offer.terms.get("term_months"),
                               sublicensing=bool(offer.terms.get("sublicensing")),
                               royalty_bps=offer.terms.get("royalty_bps") or 0,
                               royalty_base=offer.terms.get("royalty_base", ""),
                               royalty_period=offer.terms.get("royalty_period", ""),
                               royalty_minimum_minor=offer.terms.get("royalty_minimum_minor") or 0,
                               currency=offer.currency)
    revealed = offer.buyer_anonymous  # an escrowed order names both parties: agreeing ends the anonymity
    offer.state, offer.order, offer.closed_at, offer.buyer_anonymous = Offer.State.ACCEPTED, order, now, False
    offer.save(update_fields=["state", "order", "closed_at", "seller_mandate", "buyer_mandate", "buyer_anonymous",
                              "updated_at"])
    if revealed:
        audit_record(actor=actor, action="offer.buyer_revealed", obj=offer, data={"on": "accept"})
    acting_org = mandate.broker_org if mandate else (offer.buyer_org if side == Side.BUYER else offer.seller_org)
    _round(offer, OfferRound.Kind.ACCEPT, side=side, actor=actor, acting_org=acting_org)
    audit_record(actor=actor, action="offer.accept", obj=offer, from_state=Offer.State.OPEN, to_state=offer.state,
                 data={"order": order.reference, "price_minor": offer.price_minor, "side": side,
                       "broker_org": broker.broker_org_id if broker else None,
                       "buyer_broker_org": buyer_broker.broker_org_id if buyer_broker else None})
    _notify(offer, "offer.accepted", gettext_lazy("Offer on “%(title)s” accepted"),
            gettext_lazy("The deal is agreed: order %(ref)s is placed at the agreed price, held in escrow as usual."),
            {"ref": order.reference})
    _emit(offer, "accept")
    return offer


@transaction.atomic(durable=True)
def offer_reject(*, offer, actor, reason: str = "") -> Offer:
    listing, offer = _lock_offer(offer)
    _require_live(offer, timezone.now())
    side, mandate = side_of(actor, offer)
    if side is None or side != offer.waiting_for:
        raise NotAllowed(_("Only the side whose turn it is can reject this offer."))
    return _close(offer, Offer.State.REJECTED, OfferRound.Kind.REJECT, actor=actor, side=side, mandate=mandate,
                  reason=reason)


@transaction.atomic(durable=True)
def offer_withdraw(*, offer, actor, reason: str = "") -> Offer:
    listing, offer = _lock_offer(offer)
    _require_live(offer, timezone.now())
    side, mandate = side_of(actor, offer)
    if side is None or side == offer.waiting_for:
        raise NotAllowed(_("Only the side that made the last proposal can withdraw it."))
    return _close(offer, Offer.State.WITHDRAWN, OfferRound.Kind.WITHDRAW, actor=actor, side=side, mandate=mandate,
                  reason=reason)


def _close(offer, state, kind, *, actor=None, side="", mandate=None, reason=""):
    before = offer.state
    offer.state, offer.closed_at, offer.close_reason = state, timezone.now(), (reason or "")[:500]
    offer.save(update_fields=["state", "closed_at", "close_reason", "updated_at"])
    acting_org = mandate.broker_org if mandate else (
        offer.buyer_org if side == Side.BUYER else offer.seller_org if side == Side.SELLER else None)
    _round(offer, kind, side=side, actor=actor, acting_org=acting_org, note=reason)
    audit_record(actor=actor, actor_label="" if actor else "deadline", action=f"offer.{kind}", obj=offer,
                 from_state=before, to_state=state, reason=reason)
    subjects = {
        Offer.State.REJECTED: gettext_lazy("Offer on “%(title)s” rejected"),
        Offer.State.WITHDRAWN: gettext_lazy("Offer on “%(title)s” withdrawn"),
        Offer.State.EXPIRED: gettext_lazy("Offer on “%(title)s” expired"),
    }
    _notify(offer, f"offer.{kind}", subjects[state], gettext_lazy("The negotiation on “%(title)s” has ended."))
    _emit(offer, kind)
    return offer


def offer_expire_due(*, now=None) -> int:
    """Expire every open offer past its validity (called by beat for each exchange). Each in its own
    transaction; an offer accepted meanwhile is left alone. Returns how many expired."""
    now = now or timezone.now()
    count = 0
    for pk in Offer.objects.filter(state=Offer.State.OPEN, expires_at__lte=now).values_list("pk", flat=True)[:1000]:
        with transaction.atomic(durable=True):
            offer = Offer.objects.select_for_update(of=("self",)).select_related("listing").get(pk=pk)
            if offer.state != Offer.State.OPEN or offer.expires_at > now:
                continue
            _close(offer, Offer.State.EXPIRED, OfferRound.Kind.EXPIRE, reason=_("The offer expired."))
            count += 1
    return count


# --- questions ---------------------------------------------------------------------------------------

@transaction.atomic(durable=True)
def question_ask(*, listing, actor, text: str) -> Question:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("Write your question."), field_errors={"text": [_("This field is required.")]})
    if len(text) > MAX_NOTE:
        raise ValidationFailed(_("Keep the question under %(n)s characters.") % {"n": MAX_NOTE},
                               field_errors={"text": [_("Too long.")]})
    org = active_organization(actor) if actor and actor.is_authenticated else None
    if org is None:
        raise NotAllowed(_("Join or register an organization in your account before asking."))
    if org.pk == listing.seller_org_id:
        raise NotAllowed(_("You cannot ask questions on your own listing."))
    if listing.state != Listing.State.PUBLISHED:
        raise InvalidTransition(_("This listing is not for sale right now."))
    question = Question.objects.create(listing=listing, asker=actor, asker_org=org, text=text)
    audit_record(actor=actor, action="question.ask", obj=question, data={"listing": listing.pk})
    notify(users=_members(listing.seller_org), kind="question.asked",
           subject=gettext_lazy("A buyer asks about “%(title)s”"), body=gettext_lazy("%(text)s"),
           params={"title": listing.title, "text": text[:300]}, url=f"/deals/listings/{listing.pk}/")
    return question


@transaction.atomic(durable=True)
def question_answer(*, question, actor, answer: str, public: bool) -> Question:
    question = Question.objects.select_for_update(of=("self",)).select_related("listing__seller_org").get(pk=question.pk)
    allowed, _mandate = seller_side_for_listing(actor, question.listing)
    if not allowed:
        raise NotAllowed(_("Only the seller (or its broker) can answer."))
    answer = (answer or "").strip()
    if not answer or len(answer) > MAX_NOTE:
        raise ValidationFailed(_("Write an answer (at most %(n)s characters).") % {"n": MAX_NOTE},
                               field_errors={"answer": [_("This field is required.")]})
    question.answer, question.answered_by, question.answered_at = answer, actor, timezone.now()
    question.visibility = Question.Visibility.PUBLIC if public else Question.Visibility.PRIVATE
    question.save(update_fields=["answer", "answered_by", "answered_at", "visibility"])
    audit_record(actor=actor, action="question.answer", obj=question, data={"public": public})
    notify(users=_members(question.asker_org), kind="question.answered",
           subject=gettext_lazy("Your question on “%(title)s” was answered"), body=gettext_lazy("%(text)s"),
           params={"title": question.listing.title, "text": answer[:300]}, url=f"/deals/listings/{question.listing_id}/")
    return question
