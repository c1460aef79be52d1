"""The demand pages as people use them: post a want, answer it, bid live (htmx), staff figures."""

import datetime

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import Role
from demand.models import Answer, Auction, Want
from escrow.models import OrderState
from tests.factories import (
    PASSWORD,
    make_member,
    open_auction,
    order_in_state,
    post_want,
    published_listing,
    register_record,
)

pytestmark = pytest.mark.django_db


def _login(client, user):
    assert client.login(email=user.email, password=PASSWORD)


def test_buyer_posts_a_want_on_the_website_and_sees_its_matches(client, tenant):
    listing = published_listing(title="Lithium electrode coating",
                                records=[register_record(title="Lithium electrode coating", classes=["H01M 4/13"])])
    buyer = make_member()
    _login(client, buyer)
    response = client.post("/wants/new/", {"title": "Electrodes", "keywords": "lithium", "classes": "H01M 4/13",
                                           "deal_type": "any", "deadline": (timezone.localdate()
                                                                            + datetime.timedelta(days=20)).isoformat(),
                                           "budget_max": "80,000.00"}, follow=True)
    want = Want.objects.get()
    assert want.budget_max_minor == 8_000_000
    page = response.content.decode()
    assert "1 match found so far" in page
    assert listing.title in page
    assert "same IPC symbol H01M 4/13" in page


def test_nonsense_class_on_the_form_is_shown_at_the_field(client, tenant):
    _login(client, make_member())
    response = client.post("/wants/new/", {"title": "X", "classes": "ZZ9", "deal_type": "any",
                                           "deadline": (timezone.localdate() + datetime.timedelta(days=3)).isoformat()})
    assert response.status_code == 200
    assert "is not an IPC/CPC symbol or Nice class" in response.content.decode()
    assert not Want.objects.exists()


def test_holder_answers_a_want_from_its_page(client, tenant):
    want, buyer = post_want(classes="H04L 9/32", keywords="encryption")
    listing = published_listing(title="Encryption method",
                                records=[register_record(title="Encryption method", classes=["H04L 9/32"])])
    holder = make_member(roles=(Role.SELLER,), org=listing.seller_org)
    _login(client, holder)
    page = client.get(want.get_absolute_url()).content.decode()
    assert "Offer one of your rights" in page
    response = client.post(f"/wants/{want.pk}/answer/", {"listing": listing.pk, "price": "12,000", "note": "Ready"},
                           follow=True)
    assert "Your offer was sent to the buyer." in response.content.decode()
    assert Answer.objects.get().price_minor == 1_200_000


def test_wants_list_searches_and_hides_closed(client, tenant):
    post_want(title="Battery want", keywords="electrode", classes="H01M")
    closed, _b = post_want(title="Closed want", keywords="electrode", classes="H01M")
    Want.objects.filter(pk=closed.pk).update(state="closed")
    page = client.get("/wants/?q=electrode").content.decode()
    assert "Battery want" in page
    assert "Closed want" not in page
    assert "Battery want" not in client.get("/wants/?class=H04L").content.decode()


def test_bidding_on_the_live_page_with_htmx(client, tenant):
    auction, seller, (alice, bob) = open_auction(start=100_000, increment=10_000)
    _login(client, alice)
    page = client.get(auction.get_absolute_url()).content.decode()
    assert 'hx-trigger="every 2s"' in page
    response = client.post(f"/auctions/{auction.pk}/bid/", {"amount": "1,000"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Your bid is the highest." in html
    assert "¥1,000.00" in html
    response = client.post(f"/auctions/{auction.pk}/bid/", {"amount": "1,050"}, HTTP_HX_REQUEST="true")
    assert "Bid at least ¥1,100.00" in response.content.decode()
    assert Auction.objects.get(pk=auction.pk).current_price_minor == 100_000


def test_seller_sees_no_bid_form_and_a_stranger_is_asked_for_a_deposit(client, tenant):
    auction, seller, _bidders = open_auction(1)
    _login(client, seller)
    assert "You are the seller" in client.get(f"/auctions/{auction.pk}/live/").content.decode()
    client.logout()
    _login(client, make_member())
    html = client.get(f"/auctions/{auction.pk}/live/").content.decode()
    assert "Place the deposit" in html


def test_auction_ended_page_settles_it(client, tenant):
    auction, seller, (alice,) = open_auction(1, reserve=0)
    from demand.auctions import bid_place

    bid_place(auction=auction, actor=alice, amount_minor=100_000)
    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    _login(client, alice)
    html = client.get(auction.get_absolute_url()).content.decode()
    auction.refresh_from_db()
    assert auction.state == Auction.State.SOLD
    assert auction.order.reference in html


def test_figures_for_staff_only_with_charts_and_exports(client, tenant):
    order, _s, _b = order_in_state(OrderState.COMPLETED)
    from escrow.models import Disbursement
    from escrow.services import disbursement_execute

    payout = Disbursement.objects.get(order=order, kind="payout")
    assert disbursement_execute(disbursement_id=payout.pk) == "paid"
    post_want()
    _login(client, make_member())
    assert client.get("/exchange/figures/").status_code == 404
    client.logout()
    staff = make_member(roles=(Role.TENANT_ADMIN,), org=False)
    _login(client, staff)
    html = client.get("/exchange/figures/").content.decode()
    assert "<svg class=\"chart\"" in html
    assert "cdn" not in html.lower()
    csv_body = client.get("/exchange/figures.csv").content.decode("utf-8-sig")
    month = timezone.localdate().strftime("%Y-%m")
    row = next(line for line in csv_body.splitlines() if line.startswith(month))
    assert row.split(",")[4] == "1"  # one order this month
    assert row.split(",")[5] == "10000.00"  # its price in the volume
    wb = load_workbook(__import__("io").BytesIO(client.get("/exchange/figures.xlsx").content))
    assert wb.sheetnames == ["monthly", "by_kind", "by_office"]
    assert wb["by_office"].max_row == 2
    assert wb["by_office"]["F2"].value == 1  # paid out once


def test_below_the_reserve_the_seller_proposes_a_price_and_the_bidder_accepts_on_the_page(client, tenant):
    from demand.auctions import auction_finish, bid_place
    from demand.models import CounterOffer

    auction, seller, (alice, bob) = open_auction(2, start=100_000, reserve=500_000)
    bid_place(auction=auction, actor=alice, amount_minor=100_000)
    bid_place(auction=auction, actor=bob, amount_minor=120_000)
    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    auction_finish(auction_id=auction.pk)
    _login(client, seller)
    html = client.get(auction.get_absolute_url()).content.decode()
    assert "Or propose a price to the highest bidder" in html
    # a price below the highest bid is refused at the field, nothing stored
    low = client.post(f"/auctions/{auction.pk}/counter-offer/", {"price": "1000", "hours": "48"})
    assert low.status_code == 400
    assert "Propose at least the highest bid, ¥1,200.00" in low.content.decode()
    assert not CounterOffer.objects.exists()
    ok = client.post(f"/auctions/{auction.pk}/counter-offer/", {"price": "3000", "hours": "48"})
    assert ok.status_code == 302
    assert "You proposed ¥3,000.00 to the highest bidder" in client.get(auction.get_absolute_url()).content.decode()
    client.logout()
    # the other bidder sees nothing of it; the highest bidder sees the price and answers
    _login(client, alice)
    assert "The seller proposes a price" not in client.get(auction.get_absolute_url()).content.decode()
    client.logout()
    _login(client, bob)
    html = client.get(auction.get_absolute_url()).content.decode()
    assert "The seller offers it to you for ¥3,000.00 (your bid: ¥1,200.00)" in html
    client.post(f"/auctions/{auction.pk}/counter-offer/answer/", {"accept": "yes"})
    auction.refresh_from_db()
    assert auction.state == Auction.State.SOLD
    assert auction.order.price_minor == 300_000
    assert auction.order.reference in client.get(auction.get_absolute_url()).content.decode()


def test_bidders_are_told_the_forfeit_share_before_paying_a_deposit(client, tenant):
    auction, seller, _bidders = open_auction(1)
    _login(client, make_member())
    html = client.get(f"/auctions/{auction.pk}/live/").content.decode()
    assert "Place the deposit" in html
    assert "less the exchange&#x27;s commission rate" in html
    tenant.deposit_forfeit_share_bps = 2_500
    tenant.save(update_fields=["deposit_forfeit_share_bps"])
    html = client.get(f"/auctions/{auction.pk}/live/").content.decode()
    assert "the deposit is forfeited: 25% to the exchange, the rest to the seller" in html
