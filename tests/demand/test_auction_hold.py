"""A listing under a live auction is bought only by bidding: escrow's order and negotiation's offers
refuse it with a clear message, the listing page shows the auction instead of Buy, and an order and
an auction racing for one listing cannot both get it."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Role
from core.errors import Conflict
from demand import auctions as A
from demand.models import Auction
from escrow.models import Order
from escrow.services import order_place
from listings.models import Listing
from negotiation import services as N
from tests.escrow.test_concurrency import run_at_once
from tests.factories import PASSWORD, auction_for, make_member, offer_listing, open_auction

pytestmark = pytest.mark.django_db


def test_order_at_list_price_is_refused_while_the_auction_runs(tenant):
    auction, seller = auction_for(start=100_000)
    buyer = make_member(roles=(Role.BUYER,))
    with pytest.raises(Conflict, match="being auctioned .*only be bought by bidding"):
        order_place(listing=auction.listing, buyer=buyer, terms_accepted=True)
    assert not Order.objects.exists()
    assert Listing.objects.get(pk=auction.listing_id).state == Listing.State.PUBLISHED


def test_order_is_refused_before_a_scheduled_auction_starts(tenant):
    auction, seller = auction_for(starts_at=timezone.now() + datetime.timedelta(hours=2), minutes=300)
    with pytest.raises(Conflict, match="going to auction on"):
        order_place(listing=auction.listing, buyer=make_member(), terms_accepted=True)


def test_offers_are_refused_while_the_auction_runs_and_an_earlier_offer_cannot_be_accepted(tenant):
    listing, seller = offer_listing(price_minor=1_000_000)
    buyer = make_member()
    earlier = N.offer_make(listing=listing, actor=buyer, price_minor=900_000, currency="CNY")
    auction_for(listing=listing, seller=seller, start=500_000, reserve=0)
    with pytest.raises(Conflict, match="being auctioned"):
        N.offer_make(listing=listing, actor=make_member(), price_minor=950_000, currency="CNY")
    with pytest.raises(Conflict, match="being auctioned"):
        N.offer_accept(offer=earlier, actor=seller)
    assert not Order.objects.exists()


def test_order_is_possible_again_once_the_auction_ends_unsold(tenant):
    auction, seller, (alice,) = open_auction(1, start=100_000, reserve=500_000)
    A.bid_place(auction=auction, actor=alice, amount_minor=100_000)
    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    auction = A.auction_finish(auction_id=auction.pk)
    assert auction.state == Auction.State.RESERVE_NOT_MET
    with pytest.raises(Conflict, match="result is being settled"):
        order_place(listing=auction.listing, buyer=make_member(), terms_accepted=True)
    A.seller_accept(auction=auction, actor=seller, accept=False)
    order = order_place(listing=auction.listing, buyer=make_member(), terms_accepted=True)
    assert order.price_minor == auction.listing.price_minor


def test_listing_page_shows_the_auction_instead_of_buy(client, tenant):
    # given a listing that takes offers: its page offers to order and to make an offer (the exchange's
    # language here is Chinese)
    listing, seller = offer_listing(price_minor=1_000_000)
    page = client.get(f"/listings/{listing.pk}/").content.decode()
    assert f"/orders/new/{listing.pk}/" in page
    assert "报价或咨询" in page
    # when it goes to auction, the page shows the auction instead of Buy and of the offer
    auction, _seller = auction_for(listing=listing, seller=seller, start=100_000)
    page = client.get(f"/listings/{auction.listing_id}/").content.decode()
    assert 'data-testid="on-auction"' in page
    assert "拍卖中" in page
    assert "拍卖期间以竞价决定成交价" in page
    assert f'href="/auctions/{auction.pk}/"' in page
    assert f"/orders/new/{auction.listing_id}/" not in page
    assert "报价或咨询" not in page
    assert "向卖方咨询" in page
    # the buyer who goes to the order form anyway is told why
    buyer = make_member()
    assert client.login(email=buyer.email, password=PASSWORD)
    response = client.post(f"/orders/new/{auction.listing_id}/", {"terms": "on"}, follow=True)
    assert response.status_code in (200, 400, 409)
    assert "only be bought by bidding" in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_order_and_an_auction_racing_for_one_listing_only_one_gets_it(tenant):
    for _round in range(3):
        listing, seller = offer_listing(price_minor=1_000_000, pricing=Listing.Pricing.FIXED)
        buyer = make_member()
        now = timezone.now()
        results = run_at_once(tenant, [
            lambda listing=listing, buyer=buyer: order_place(listing=listing, buyer=buyer, terms_accepted=True),
            lambda listing=listing, seller=seller, now=now: A.auction_create(
                listing=listing, actor=seller, start_price_minor=100_000, reserve_minor=0, increment_minor=10_000,
                deposit_minor=10_000, starts_at=now, ends_at=now + datetime.timedelta(hours=1)),
        ])
        won = [r for r, e in results if r is not None]
        errors = [e for r, e in results if e is not None]
        assert len(won) == 1, results
        assert len(errors) == 1, errors
        assert errors[0].__class__.__name__ in ("Conflict", "InvalidTransition"), errors
        orders = Order.objects.filter(listing=listing).count()
        auctions = Auction.objects.filter(listing=listing).count()
        assert orders + auctions == 1


def test_the_cached_page_of_an_anonymous_visitor_shows_the_auction_once_it_starts(client, tenant, settings):
    # given the anonymous body of a listing's page cached before the auction
    settings.LISTINGS_CACHE_SECONDS = 60
    listing, seller = offer_listing(price_minor=1_000_000)
    page = client.get(f"/listings/{listing.pk}/").content.decode()
    assert f"/orders/new/{listing.pk}/" in page
    # when the seller puts it up for auction, the next anonymous visitor sees the auction, not Buy
    auction, _seller = auction_for(listing=listing, seller=seller, start=100_000)
    page = client.get(f"/listings/{listing.pk}/").content.decode()
    assert 'data-testid="on-auction"' in page
    assert f"/orders/new/{listing.pk}/" not in page
