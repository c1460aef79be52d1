"""Offers: offer → counter → accept → the escrowed order at the agreed price and terms; bad input and
the seller's price changes."""

import datetime

import pytest
from django.utils import timezone

from core.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from escrow import fees
from escrow import services as escrow
from escrow.models import Order, OrderState
from listings.models import Listing, PriceChange
from listings.services.pricing import listing_change_price
from negotiation import services as s
from negotiation.models import Offer, OfferRound
from negotiation.tasks import expire_offers
from tests.factories import make_member, offer_listing

pytestmark = pytest.mark.django_db


def test_offer_counter_accept_places_the_escrowed_order_at_the_agreed_price(tenant):
    # given a listing at 10,000.00 that takes offers, and a buyer
    listing, seller = offer_listing(price_minor=1_000_000)
    buyer = make_member()
    # when the buyer offers 8,000, the seller counters 9,000 and the buyer accepts
    offer = s.offer_make(listing=listing, actor=buyer, price_minor=800_000, currency="CNY", note="Can you do 8k?")
    assert offer.waiting_for == "seller"
    offer = s.offer_counter(offer=offer, actor=seller, price_minor=900_000, note="9k and it is yours")
    assert offer.waiting_for == "buyer"
    offer = s.offer_accept(offer=offer, actor=buyer)
    # then an escrowed order exists at 9,000 with fees on 9,000, the listing is reserved
    order = offer.order
    assert offer.state == Offer.State.ACCEPTED
    assert (order.price_minor, order.currency, order.state) == (900_000, "CNY", OrderState.PLACED)
    assert order.buyer_org == offer.buyer_org
    assert order.seller_org == listing.seller_org
    assert order.terms["offer"] == offer.pk
    quote = fees.quote(tenant=tenant, price_minor=900_000, currency="CNY")
    assert (order.buyer_fee_minor, order.seller_commission_minor) == (quote.buyer_fee_minor, quote.seller_commission_minor)
    listing.refresh_from_db()
    assert listing.state == Listing.State.RESERVED
    assert [r.kind for r in offer.rounds.all()] == ["offer", "counter", "accept"]
    # and the trade goes on as usual: the seller confirms the order
    escrow.order_seller_confirm(order=order, actor=seller)


def test_the_side_that_made_the_last_proposal_cannot_accept_it(tenant):
    listing, seller = offer_listing()
    buyer = make_member()
    offer = s.offer_make(listing=listing, actor=buyer, price_minor=900_000, currency="CNY")
    with pytest.raises(InvalidTransition, match="other side"):
        s.offer_accept(offer=offer, actor=buyer)
    stranger = make_member()
    with pytest.raises(NotAllowed):
        s.offer_accept(offer=offer, actor=stranger)
    assert not Order.objects.exists()


@pytest.mark.parametrize(("price", "currency", "message"), [
    (400_000, "CNY", "below the lowest price"),
    (900_000, "USD", "priced in CNY"),
    (0, "CNY", "above zero"),
])
def test_bad_offers_are_refused_with_a_clear_message_and_nothing_stored(tenant, price, currency, message):
    listing, _seller = offer_listing(floor=500_000)
    buyer = make_member()
    with pytest.raises(ValidationFailed, match=message):
        s.offer_make(listing=listing, actor=buyer, price_minor=price, currency=currency)
    assert not Offer.objects.exists()


def test_fixed_price_listings_take_no_offers_and_on_request_ones_cannot_be_bought_outright(tenant):
    fixed, _ = offer_listing(pricing=Listing.Pricing.FIXED)
    buyer = make_member()
    with pytest.raises(InvalidTransition, match="fixed price"):
        s.offer_make(listing=fixed, actor=buyer, price_minor=900_000, currency="CNY")
    on_request, _ = offer_listing(pricing=Listing.Pricing.ON_REQUEST)
    with pytest.raises(InvalidTransition, match="on request"):
        escrow.order_place(listing=on_request, buyer=buyer, terms_accepted=True)
    offer = s.offer_make(listing=on_request, actor=buyer, price_minor=900_000, currency="CNY")
    assert offer.is_open


def test_an_expired_offer_cannot_be_countered_or_accepted_and_beat_expires_it(tenant):
    listing, seller = offer_listing()
    buyer = make_member()
    offer = s.offer_make(listing=listing, actor=buyer, price_minor=900_000, currency="CNY")
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    with pytest.raises(InvalidTransition, match="expired"):
        s.offer_counter(offer=offer, actor=seller, price_minor=950_000)
    with pytest.raises(InvalidTransition, match="expired"):
        s.offer_accept(offer=offer, actor=seller)
    assert expire_offers()[tenant.pk] == 1
    offer.refresh_from_db()
    assert offer.state == Offer.State.EXPIRED
    assert offer.rounds.last().kind == OfferRound.Kind.EXPIRE
    assert expire_offers()[tenant.pk] == 0  # once
    assert not Order.objects.exists()


def test_an_offer_on_a_reserved_listing_is_refused_and_an_accept_after_a_direct_order_loses(tenant):
    listing, seller = offer_listing()
    buyer, other = make_member(), make_member()
    offer = s.offer_make(listing=listing, actor=buyer, price_minor=900_000, currency="CNY")
    escrow.order_place(listing=listing, buyer=other, terms_accepted=True)  # bought at the asking price
    with pytest.raises(Conflict, match="moment ago"):
        s.offer_accept(offer=offer, actor=seller)
    with pytest.raises(Conflict, match="moment ago"):
        s.offer_make(listing=listing, actor=make_member(), price_minor=900_000, currency="CNY")
    offer.refresh_from_db()
    assert offer.is_open
    assert offer.order is None
    assert Order.objects.count() == 1


def test_one_open_offer_per_buyer_and_accepting_twice_has_one_effect(tenant):
    listing, seller = offer_listing()
    buyer = make_member()
    offer = s.offer_make(listing=listing, actor=buyer, price_minor=900_000, currency="CNY")
    with pytest.raises(Conflict, match="already has an open offer"):
        s.offer_make(listing=listing, actor=buyer, price_minor=910_000, currency="CNY")
    s.offer_accept(offer=offer, actor=seller)
    with pytest.raises(InvalidTransition, match="Accepted"):
        s.offer_accept(offer=offer, actor=seller)
    assert Order.objects.count() == 1


def test_reject_and_withdraw_end_the_negotiation(tenant):
    listing, seller = offer_listing()
    buyer = make_member()
    offer = s.offer_make(listing=listing, actor=buyer, price_minor=900_000, currency="CNY")
    with pytest.raises(NotAllowed):
        s.offer_withdraw(offer=offer, actor=seller)  # not the seller's proposal
    s.offer_reject(offer=offer, actor=seller, reason="Too low")
    offer.refresh_from_db()
    assert offer.state == Offer.State.REJECTED
    again = s.offer_make(listing=listing, actor=buyer, price_minor=950_000, currency="CNY")
    s.offer_withdraw(offer=again, actor=buyer)
    again.refresh_from_db()
    assert again.state == Offer.State.WITHDRAWN


def test_the_seller_changes_the_asking_price_of_a_live_listing_audited_without_reverification(tenant):
    from core.models import AuditEvent

    listing, seller = offer_listing(price_minor=1_000_000, pricing=Listing.Pricing.FIXED)
    listing_change_price(listing=listing, actor=seller, price_minor=850_000, reason="Market moved")
    listing_change_price(listing=listing, actor=seller, price_minor=850_000, pricing=Listing.Pricing.OFFERS,
                         offer_floor_minor=700_000)
    listing.refresh_from_db()
    assert (listing.state, listing.price_minor, listing.pricing, listing.offer_floor_minor) == (
        Listing.State.PUBLISHED, 850_000, "offers", 700_000)
    history = list(PriceChange.objects.filter(listing=listing).order_by("changed_at", "id"))
    assert [(c.old_price_minor, c.new_price_minor) for c in history] == [(1_000_000, 850_000), (850_000, 850_000)]
    assert AuditEvent.objects.filter(action="listing.price_changed", object_id=str(listing.pk)).count() == 2
    # a buy-now order takes the new price
    order = escrow.order_place(listing=listing, buyer=make_member(), terms_accepted=True)
    assert order.price_minor == 850_000
    # a held listing's price cannot change; a stranger cannot change it
    with pytest.raises(InvalidTransition):
        listing_change_price(listing=listing, actor=seller, price_minor=900_000)
    with pytest.raises(NotAllowed):
        listing_change_price(listing=listing, actor=make_member(), price_minor=900_000)


def test_price_change_bad_input(tenant):
    listing, seller = offer_listing(price_minor=1_000_000)
    with pytest.raises(ValidationFailed, match="cannot be above"):
        listing_change_price(listing=listing, actor=seller, price_minor=1_000_000, offer_floor_minor=2_000_000)
    with pytest.raises(ValidationFailed):
        listing_change_price(listing=listing, actor=seller, price_minor=-5)
    assert not PriceChange.objects.exists()
