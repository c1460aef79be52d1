"""Below the reserve the seller proposes a price to the highest bidder, who accepts (→ the escrowed order
at that price, the deposit counting) or declines before a deadline."""

import datetime

import pytest
from django.utils import timezone

from core.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from core.models import Notification
from demand import auctions as A
from demand import counteroffers as CO
from demand.models import Auction, CounterOffer
from escrow import ledger
from escrow.models import Deposit
from escrow.services import order_seller_confirm
from escrow.services.deposits import order_credit
from tests.factories import api_headers, make_api_key, make_member, open_auction, pay_order

pytestmark = pytest.mark.django_db


def below_reserve(**kw):
    """An auction that ended below its reserve: alice bid ¥1,000.00, bob ¥1,200.00 (highest)."""
    auction, seller, (alice, bob) = open_auction(start=100_000, reserve=500_000, deposit=20_000, **kw)
    A.bid_place(auction=auction, actor=alice, amount_minor=100_000)
    A.bid_place(auction=auction, actor=bob, amount_minor=120_000)
    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    auction = A.auction_finish(auction_id=auction.pk)
    assert auction.state == Auction.State.RESERVE_NOT_MET
    return auction, seller, alice, bob


def _deposit(auction, user):
    from accounts.selectors import active_organization
    from escrow.selectors import live_deposit

    return live_deposit(auction.subject, active_organization(user))


def test_bidder_accepts_the_sellers_price_order_at_that_price_deposit_counts(tenant, django_capture_on_commit_callbacks):
    auction, seller, alice, bob = below_reserve()
    # when the seller proposes ¥4,000.00 with two days to answer
    with django_capture_on_commit_callbacks(execute=True):
        offer = CO.counter_offer_make(auction=auction, actor=seller, price_minor=400_000, hours=48)
    # then bob is told, and the seller's accept / end-unsold waits for his answer
    note = Notification.objects.get(user=bob, kind="auction.counter_offer")
    assert "¥4,000.00" in note.subject
    assert "¥1,200.00" in note.body
    with pytest.raises(InvalidTransition, match="their answer is awaited until"):
        A.seller_accept(auction=auction, actor=seller, accept=False)
    # when bob accepts
    with django_capture_on_commit_callbacks(execute=True):
        CO.counter_offer_answer(auction=auction, actor=bob, accept=True)
    # then his escrowed order is at the proposed price, his deposit counting towards it
    auction.refresh_from_db()
    offer.refresh_from_db()
    assert offer.state == CounterOffer.State.ACCEPTED
    assert offer.answered_by == bob
    assert auction.state == Auction.State.SOLD
    assert auction.agreed_price_minor == 400_000
    assert auction.current_price_minor == 120_000  # the highest bid stays what it was
    order = auction.order
    assert order.price_minor == 400_000
    assert order.buyer_org_id == offer.bidder_org_id
    assert order_credit(order) == 20_000
    assert Notification.objects.filter(user=seller, kind="auction.counter_offer_answered").exists()
    # when the seller confirms and he pays the rest, escrow holds the whole total and the ledger balances
    order_seller_confirm(order=order, actor=seller)
    payment = pay_order(order, bob)
    assert payment.amount_minor == order.total_minor - 20_000
    assert _deposit(auction, bob).state == Deposit.State.APPLIED
    assert ledger.entries_unbalanced() == []


def test_bidder_declines_then_the_seller_may_still_accept_the_highest_bid(tenant):
    auction, seller, alice, bob = below_reserve()
    CO.counter_offer_make(auction=auction, actor=seller, price_minor=300_000, hours=24)
    CO.counter_offer_answer(auction=auction, actor=bob, accept=False)
    auction.refresh_from_db()
    assert auction.state == Auction.State.RESERVE_NOT_MET
    assert _deposit(auction, bob).state == Deposit.State.HELD  # until the seller decides
    # one proposal per auction
    with pytest.raises(InvalidTransition, match="already proposed a price"):
        CO.counter_offer_make(auction=auction, actor=seller, price_minor=250_000, hours=24)
    auction = A.seller_accept(auction=auction, actor=seller, accept=True)
    assert auction.state == Auction.State.SOLD
    assert auction.order.price_minor == 120_000


def test_after_the_deadline_the_answer_is_refused_and_the_proposal_expires(tenant):
    auction, seller, alice, bob = below_reserve()
    offer = CO.counter_offer_make(auction=auction, actor=seller, price_minor=300_000, hours=1)
    CounterOffer.objects.filter(pk=offer.pk).update(deadline=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(InvalidTransition, match="The seller's proposal expired at"):
        CO.counter_offer_answer(auction=auction, actor=bob, accept=True)
    offer.refresh_from_db()
    assert offer.state == CounterOffer.State.EXPIRED  # kept although the answer was refused
    auction.refresh_from_db()
    assert auction.state == Auction.State.RESERVE_NOT_MET
    assert auction.order_id is None
    # the decision is the seller's again
    auction = A.seller_accept(auction=auction, actor=seller, accept=False)
    assert auction.state == Auction.State.UNSOLD
    assert ledger.entries_unbalanced() == []


def test_beat_expires_proposals_past_their_deadline(tenant):
    auction, seller, alice, bob = below_reserve()
    offer = CO.counter_offer_make(auction=auction, actor=seller, price_minor=300_000, hours=1)
    assert CO.counter_offers_expire() == 0
    CounterOffer.objects.filter(pk=offer.pk).update(deadline=timezone.now() - datetime.timedelta(seconds=1))
    assert CO.counter_offers_expire() == 1
    offer.refresh_from_db()
    assert offer.state == CounterOffer.State.EXPIRED


@pytest.mark.parametrize("case", ["below_bid", "zero", "hours", "not_seller", "bidder", "open_auction", "nonsense"])
def test_bad_proposals_get_clear_messages_and_change_nothing(tenant, case):
    auction, seller, alice, bob = below_reserve()
    actor, price, hours = seller, 300_000, 48
    expected = {
        "below_bid": (ValidationFailed, "Propose at least the highest bid, ¥1,200.00"),
        "zero": (ValidationFailed, "Enter an amount between"),
        "hours": (ValidationFailed, "within 1 to 168 hours"),
        "not_seller": (NotAllowed, "Only the seller's organization"),
        "bidder": (NotAllowed, "Only the seller's organization"),
        "open_auction": (InvalidTransition, "only after an auction that ended below the reserve"),
        "nonsense": (ValidationFailed, "Enter an amount between"),
    }[case]
    if case == "below_bid":
        price = 119_999
    elif case == "zero":
        price = 0
    elif case == "hours":
        hours = 169
    elif case == "not_seller":
        actor = make_member()
    elif case == "bidder":
        actor = bob
    elif case == "open_auction":
        auction, seller, _bidders = open_auction(start=100_000, reserve=500_000)
        actor = seller
    elif case == "nonsense":
        price = "lots"
    with pytest.raises(expected[0], match=expected[1]):
        CO.counter_offer_make(auction=auction, actor=actor, price_minor=price, hours=hours)
    assert not CounterOffer.objects.exists()


def test_only_the_highest_bidder_answers(tenant):
    auction, seller, alice, bob = below_reserve()
    with pytest.raises(NotFound):
        CO.counter_offer_answer(auction=auction, actor=bob, accept=True)
    CO.counter_offer_make(auction=auction, actor=seller, price_minor=300_000, hours=48)
    for intruder in (alice, seller, make_member()):
        with pytest.raises(NotAllowed, match="Only the highest bidder's organization"):
            CO.counter_offer_answer(auction=auction, actor=intruder, accept=True)
    CO.counter_offer_answer(auction=auction, actor=bob, accept=False)
    with pytest.raises(InvalidTransition, match="already been answered"):
        CO.counter_offer_answer(auction=auction, actor=bob, accept=True)


def test_the_api_proposes_and_answers(client, tenant):
    from accounts.selectors import active_organization

    auction, seller, alice, bob = below_reserve()
    _k, seller_secret = make_api_key(organization=auction.seller_org)
    _k, bob_secret = make_api_key(organization=active_organization(bob))
    _k, alice_secret = make_api_key(organization=active_organization(alice))
    url = f"/api/v1/auctions/{auction.pk}/counter-offer"
    low = client.post(url, {"price_minor": 100_000, "hours": 24}, content_type="application/json",
                      headers=api_headers(seller_secret, **{"Idempotency-Key": "co-1"}))
    assert low.status_code == 400
    assert "¥1,200.00" in low.content.decode()
    made = client.post(url, {"price_minor": 300_000, "hours": 24}, content_type="application/json",
                       headers=api_headers(seller_secret, **{"Idempotency-Key": "co-2"}))
    assert made.status_code == 201, made.content
    assert made.json()["bid_minor"] == 120_000
    # the seller and the highest bidder see it on the auction; the other bidder does not
    assert client.get(f"/api/v1/auctions/{auction.pk}", headers=api_headers(bob_secret)).json()[
        "counter_offer"]["price_minor"] == 300_000
    assert client.get(f"/api/v1/auctions/{auction.pk}", headers=api_headers(alice_secret)).json()["counter_offer"] is None
    refused = client.post(url + "/answer", {"accept": True}, content_type="application/json",
                          headers=api_headers(alice_secret, **{"Idempotency-Key": "co-3"}))
    assert refused.status_code == 403
    answered = client.post(url + "/answer", {"accept": True}, content_type="application/json",
                           headers=api_headers(bob_secret, **{"Idempotency-Key": "co-4"}))
    assert answered.status_code == 200, answered.content
    assert answered.json()["state"] == "accepted"
    auction.refresh_from_db()
    assert auction.order.price_minor == 300_000


@pytest.mark.django_db(transaction=True)
def test_accept_and_decline_at_once_exactly_one_answer(tenant):
    from accounts.selectors import active_organization
    from tests.escrow.test_concurrency import run_at_once

    # given the seller's price and two members of the highest bidder's organization
    auction, seller, alice, bob = below_reserve()
    colleague = make_member(org=active_organization(bob))
    CO.counter_offer_make(auction=auction, actor=seller, price_minor=300_000, hours=48)
    # when one accepts and the other declines at the same moment, on their own connections
    results = run_at_once(tenant, [lambda: CO.counter_offer_answer(auction=auction, actor=bob, accept=True),
                                   lambda: CO.counter_offer_answer(auction=auction, actor=colleague, accept=False)])
    # then exactly one answer counts, the other is told it was answered
    errors = [e for _r, e in results if e is not None]
    assert len(errors) == 1
    assert "already been answered" in str(errors[0])
    offer = CounterOffer.objects.get(auction=auction)
    auction.refresh_from_db()
    if offer.state == CounterOffer.State.ACCEPTED:
        assert auction.state == Auction.State.SOLD
        assert auction.order.price_minor == 300_000
    else:
        assert offer.state == CounterOffer.State.DECLINED
        assert auction.state == Auction.State.RESERVE_NOT_MET
    assert ledger.entries_unbalanced() == []
