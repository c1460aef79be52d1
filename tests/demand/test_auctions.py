"""English auctions: deposits held by escrow, bids, anti-sniping, the end, reserve, settlement."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Organization, Role
from core.errors import InvalidTransition, NotAllowed, ValidationFailed
from demand import auctions as A
from demand.models import Auction
from escrow import ledger
from escrow.models import AccountKind, Deposit, Disbursement, OrderState, Payment
from escrow.services import order_seller_confirm
from tests.factories import (
    OrganizationFactory,
    auction_for,
    bidder_with_deposit,
    deliver_payment,
    make_member,
    open_auction,
    pay_order,
)

pytestmark = pytest.mark.django_db


def _end_now(auction):
    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))


def _deposit(auction, user):
    from accounts.selectors import active_organization
    from escrow.selectors import live_deposit

    return live_deposit(auction.subject, active_organization(user))


def test_deposit_is_held_in_the_ledger_and_enables_bidding(tenant):
    # given an auction and a buyer who has not paid a deposit
    auction, seller = auction_for(deposit=20_000)
    buyer = make_member(roles=(Role.BUYER,))
    # when they bid, they are told to pay the deposit
    with pytest.raises(NotAllowed, match="deposit of ¥200.00"):
        A.bid_place(auction=auction, actor=buyer, amount_minor=100_000)
    # when they pay it and the provider confirms
    payment = A.deposit_start(auction=auction, actor=buyer)
    assert payment.purpose == Payment.Purpose.DEPOSIT
    assert payment.amount_minor == 20_000
    assert deliver_payment(payment) == "deposit_held"
    deposit = _deposit(auction, buyer)
    # then escrow holds it on its own account, balanced, and the bid is accepted
    assert deposit.state == Deposit.State.HELD
    assert ledger.deposit_balance(deposit) == 20_000
    assert ledger.entries_unbalanced() == []
    bid = A.bid_place(auction=auction, actor=buyer, amount_minor=100_000)
    auction.refresh_from_db()
    assert auction.high_bid_id == bid.pk
    assert auction.current_price_minor == 100_000


@pytest.mark.parametrize("case", ["below_start", "below_increment", "seller_org", "unverified", "after_end",
                                  "before_start", "nonsense"])
def test_bad_bids_get_clear_messages_and_change_nothing(tenant, case):
    auction, seller, (alice, bob) = open_auction(start=100_000, increment=10_000)
    A.bid_place(auction=auction, actor=alice, amount_minor=100_000)
    expected = {
        "below_start": (ValidationFailed, "at least ¥1,100.00"),
        "below_increment": (ValidationFailed, r"Bid at least ¥1,100.00 \(the current price ¥1,000.00 plus the increment ¥100.00\)"),
        "seller_org": (NotAllowed, "cannot bid in its own auction"),
        "unverified": (NotAllowed, "Only verified organizations can bid"),
        "after_end": (InvalidTransition, "no more bids are accepted"),
        "before_start": (InvalidTransition, "The auction starts at"),
        "nonsense": (ValidationFailed, "Enter the amount you bid"),
    }[case]
    actor, amount = bob, 105_000
    if case == "below_start":
        amount = 50_000
    elif case == "seller_org":
        actor = make_member(roles=(Role.BUYER,), org=auction.seller_org)
    elif case == "unverified":
        Organization.objects.filter(pk__in=bob.memberships.values("organization")).update(
            verification_status=Organization.Verification.PENDING)
    elif case == "after_end":
        _end_now(auction)
        amount = 200_000
    elif case == "before_start":
        Auction.objects.filter(pk=auction.pk).update(starts_at=timezone.now() + datetime.timedelta(hours=1))
        amount = 200_000
    elif case == "nonsense":
        amount = "lots"
    with pytest.raises(expected[0], match=expected[1]):
        A.bid_place(auction=auction, actor=actor, amount_minor=amount)
    auction.refresh_from_db()
    assert auction.current_price_minor == 100_000
    assert auction.bid_count == 1


def test_a_bid_in_the_last_minutes_extends_the_end(tenant):
    # given an auction ending in 30 seconds with a 120-second anti-sniping window
    auction, seller, (alice, bob) = open_auction(extension_seconds=120)
    soon = timezone.now() + datetime.timedelta(seconds=30)
    Auction.objects.filter(pk=auction.pk).update(ends_at=soon)
    # when a bid comes in
    A.bid_place(auction=auction, actor=alice, amount_minor=100_000)
    auction.refresh_from_db()
    # then the end moves to about two minutes from now
    assert auction.ends_at > soon + datetime.timedelta(seconds=80)
    # and a bid well before the end does not extend it
    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() + datetime.timedelta(hours=1))
    auction.refresh_from_db()
    before = auction.ends_at
    A.bid_place(auction=auction, actor=bob, amount_minor=110_000)
    auction.refresh_from_db()
    assert auction.ends_at == before


def test_winner_gets_an_escrowed_order_at_the_winning_price_deposit_counts_others_returned(tenant):
    # given three bidders with deposits of 200.00, the reserve 1,500.00
    auction, seller, (alice, bob, carol) = open_auction(3, start=100_000, reserve=150_000, deposit=20_000)
    for user, amount in ((alice, 100_000), (bob, 120_000), (alice, 140_000), (carol, 160_000)):
        A.bid_place(auction=auction, actor=user, amount_minor=amount)
    # when the auction ends and is settled
    _end_now(auction)
    auction = A.auction_finish(auction_id=auction.pk)
    # then carol has an order at 1,600.00, and her deposit counts towards it
    assert auction.state == Auction.State.SOLD
    order = auction.order
    assert order.price_minor == 160_000
    assert order.state == OrderState.PLACED
    assert order.buyer == carol
    assert _deposit(auction, carol).order_id == order.pk
    # the others' deposits are on their way back through the provider
    for loser in (alice, bob):
        from escrow.selectors import deposits_for

        dep = [d for d in deposits_for(auction.subject) if d.payer_org.has_member(loser)][0]
        assert dep.state == Deposit.State.RETURNED
        assert ledger.deposit_balance(dep) == 0
    refunds = Disbursement.objects.filter(kind=Disbursement.Kind.REFUND, amount_minor=20_000)
    assert refunds.count() == 2
    # when the seller confirms and carol pays the rest
    order_seller_confirm(order=order, actor=seller)
    payment = pay_order(order, carol)
    assert payment.amount_minor == order.total_minor - 20_000
    # then the order is funded with the whole total in escrow, the deposit applied, the ledger balanced
    assert order.state == OrderState.FUNDED
    assert ledger.escrow_balance(order) == order.total_minor
    assert _deposit(auction, carol).state == Deposit.State.APPLIED
    assert ledger.entries_unbalanced() == []
    # settling again changes nothing
    assert A.auction_finish(auction_id=auction.pk).order_id == order.pk


def test_refund_after_an_auction_goes_back_through_both_payments(tenant):
    from escrow.services import order_refund
    from tests.factories import escrow_staff

    auction, seller, (alice,) = open_auction(1, start=100_000, reserve=0, deposit=20_000)
    A.bid_place(auction=auction, actor=alice, amount_minor=100_000)
    _end_now(auction)
    order = A.auction_finish(auction_id=auction.pk).order
    order_seller_confirm(order=order, actor=seller)
    pay_order(order, alice)
    order_refund(order=order, actor=escrow_staff(), reason="Seller could not sign")
    refunds = sorted(Disbursement.objects.filter(order=order, kind="refund").values_list("amount_minor", flat=True))
    assert refunds == sorted([20_000, order.total_minor - 20_000])
    assert ledger.escrow_balance(order) == 0
    assert ledger.entries_unbalanced() == []


def test_reserve_not_met_seller_may_accept_the_highest_bid(tenant):
    # given bids below the hidden reserve
    auction, seller, (alice, bob) = open_auction(start=100_000, reserve=500_000)
    A.bid_place(auction=auction, actor=alice, amount_minor=100_000)
    A.bid_place(auction=auction, actor=bob, amount_minor=120_000)
    _end_now(auction)
    # when it ends
    auction = A.auction_finish(auction_id=auction.pk)
    # then no order; bob's deposit stays held (he may still be accepted), alice's goes back
    assert auction.state == Auction.State.RESERVE_NOT_MET
    assert auction.order_id is None
    assert _deposit(auction, bob).state == Deposit.State.HELD
    assert _deposit(auction, alice) is None
    # when the seller accepts the highest bid
    auction = A.seller_accept(auction=auction, actor=seller, accept=True)
    # then bob has an order at his bid
    assert auction.state == Auction.State.SOLD
    assert auction.order.price_minor == 120_000


def test_reserve_not_met_seller_declines_every_deposit_returned(tenant):
    auction, seller, (alice, bob) = open_auction(start=100_000, reserve=500_000)
    A.bid_place(auction=auction, actor=alice, amount_minor=100_000)
    _end_now(auction)
    A.auction_finish(auction_id=auction.pk)
    with pytest.raises(NotAllowed):
        A.seller_accept(auction=auction, actor=alice, accept=True)
    auction = A.seller_accept(auction=auction, actor=seller, accept=False)
    assert auction.state == Auction.State.UNSOLD
    totals = ledger.totals_by_kind()
    assert totals.get((AccountKind.DEPOSIT_HELD, tenant.currency), 0) == 0
    assert ledger.entries_unbalanced() == []


def test_no_bids_returns_deposits_and_ends(tenant):
    auction, seller, (alice,) = open_auction(1)
    _end_now(auction)
    auction = A.auction_finish(auction_id=auction.pk)
    assert auction.state == Auction.State.NO_BIDS
    assert ledger.totals_by_kind().get((AccountKind.DEPOSIT_HELD, tenant.currency), 0) == 0


def test_auction_creation_refuses_nonsense(tenant):
    auction, seller = auction_for()
    listing = auction.listing
    now = timezone.now()
    with pytest.raises(ValidationFailed, match="end must be after the start"):
        A.auction_create(listing=listing, actor=seller, start_price_minor=1, reserve_minor=0, increment_minor=1,
                         deposit_minor=1, starts_at=now, ends_at=now - datetime.timedelta(hours=1))
    with pytest.raises(ValidationFailed, match="deposit cannot be more than the start price"):
        A.auction_create(listing=listing, actor=seller, start_price_minor=100, reserve_minor=0, increment_minor=1,
                         deposit_minor=1000, starts_at=now, ends_at=now + datetime.timedelta(hours=1))
    stranger = make_member(roles=(Role.SELLER,), org=OrganizationFactory())
    with pytest.raises(NotAllowed):
        A.auction_create(listing=listing, actor=stranger, start_price_minor=100, reserve_minor=0, increment_minor=1,
                         deposit_minor=10, starts_at=now, ends_at=now + datetime.timedelta(hours=1))
    assert Auction.objects.count() == 1


def test_deposit_for_the_sellers_own_auction_is_refused(tenant):
    auction, seller = auction_for()
    with pytest.raises(NotAllowed, match="own auction"):
        A.deposit_start(auction=auction, actor=seller)
    assert not Payment.objects.filter(purpose=Payment.Purpose.DEPOSIT).exists()
    assert bidder_with_deposit(auction)  # another organization can


def test_the_outbid_organization_is_told_after_the_bid_commits(tenant, django_capture_on_commit_callbacks):
    from core.models import Notification

    auction, seller, (alice, bob) = open_auction(start=100_000, increment=10_000)
    A.bid_place(auction=auction, actor=alice, amount_minor=100_000)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        A.bid_place(auction=auction, actor=bob, amount_minor=110_000)
    # nothing is written for alice while the bid's transaction (and the auction row lock) is open
    assert not Notification.objects.filter(user=alice, kind="auction.outbid").exists()
    for callback in callbacks:
        callback()
    note = Notification.objects.get(user=alice, kind="auction.outbid")
    assert "¥1,100.00" in note.body
    assert not Notification.objects.filter(user=bob, kind="auction.outbid").exists()
