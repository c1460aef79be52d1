"""Races on separate database connections: twenty accepts on offers for one listing → one order."""

import pytest

from escrow.models import Order
from listings.models import Listing
from negotiation import services as s
from negotiation.models import Offer
from tests.escrow.test_concurrency import run_at_once
from tests.factories import licence_listing, make_member, offer_listing

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_accepts_on_offers_for_one_listing_place_exactly_one_order(tenant):
    # given twenty buyers' offers on one listing, each countered by the seller (the buyers' turn)
    listing, seller = offer_listing(price_minor=1_000_000)
    offers = []
    for i in range(20):
        buyer = make_member()
        offer = s.offer_make(listing=listing, actor=buyer, price_minor=800_000 + i, currency="CNY")
        offers.append((s.offer_counter(offer=offer, actor=seller, price_minor=900_000 + i), buyer))
    # when all twenty buyers accept at the same moment
    results = run_at_once(tenant, [lambda o=o, b=b: s.offer_accept(offer=o, actor=b) for o, b in offers])
    # then exactly one order; the others are told someone else was first; nothing half-written
    winners = [r for r, e in results if r is not None]
    errors = [e for r, e in results if e is not None]
    assert len(winners) == 1, errors
    assert all("moment ago" in str(e) for e in errors), {type(e).__name__: str(e) for e in errors}
    assert Order.objects.filter(listing=listing).count() == 1
    assert Offer.objects.filter(state=Offer.State.ACCEPTED).count() == 1
    assert Offer.objects.filter(state=Offer.State.OPEN).count() == 19
    listing.refresh_from_db()
    assert listing.state == Listing.State.RESERVED
    assert Order.objects.get().price_minor == winners[0].price_minor


def test_twenty_licensees_at_once_respect_the_cap(tenant):
    listing, seller = licence_listing(exclusive=False, cap=5)
    offers = [s.offer_make(listing=listing, actor=make_member(), price_minor=400_000, currency="CNY")
              for _ in range(20)]
    results = run_at_once(tenant, [lambda o=o: s.offer_accept(offer=o, actor=seller) for o in offers])
    assert len([r for r, e in results if r is not None]) == 5
    assert all("All 5 licences" in str(e) for r, e in results if e is not None)
    assert Order.objects.filter(listing=listing).count() == 5
