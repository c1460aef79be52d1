"""A winning bidder who does not pay forfeits the deposit (to the seller less the exchange's share,
balanced) and the auction goes to the next highest bidder at or above the reserve, or ends unsold."""

import datetime

import pytest
from django.utils import timezone

from demand import auctions as A
from demand import tasks
from demand.models import Auction
from escrow import ledger
from escrow.models import AccountKind, Deposit, Disbursement, Order, OrderState
from escrow.selectors import deposits_for
from escrow.services import order_buyer_cancel, order_expire, order_seller_confirm, order_seller_decline
from listings.models import Listing
from tests.factories import open_auction, pay_order

pytestmark = pytest.mark.django_db


def _end_now(auction):
    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))


def _deadline_passes(order):
    Order.objects.filter(pk=order.pk).update(payment_due=timezone.now() - datetime.timedelta(minutes=1))
    return order_expire(order=Order.objects.get(pk=order.pk))


def _deposit_of(auction, user):
    return [d for d in deposits_for(auction.subject) if d.payer_org.has_member(user)][0]


def _won(auction, user_bids):
    for user, amount in user_bids:
        A.bid_place(auction=auction, actor=user, amount_minor=amount)
    _end_now(auction)
    return A.auction_finish(auction_id=auction.pk)


def test_winner_who_does_not_pay_forfeits_the_deposit_and_the_next_bidder_gets_it(tenant):
    # given alice won at 1,600.00 (bob bid 1,500.00, carol 1,200.00; the reserve is 1,500.00)
    auction, seller, (alice, bob, carol) = open_auction(3, start=100_000, reserve=150_000, deposit=20_000)
    auction = _won(auction, [(carol, 120_000), (bob, 150_000), (alice, 160_000)])
    order = auction.order
    assert order.buyer == alice
    assert order.price_minor == 160_000
    order_seller_confirm(order=order, actor=seller)
    fees_before = ledger.totals_by_kind().get((AccountKind.PLATFORM_FEES, order.currency), 0)
    # when her payment deadline passes (beat runs escrow's deadline worker)
    order = _deadline_passes(order)
    assert order.state == OrderState.CANCELLED
    # then her deposit is forfeited: the seller gets it less the exchange's share (the order's commission rate)
    deposit = _deposit_of(auction, alice)
    assert deposit.state == Deposit.State.FORFEITED
    assert ledger.deposit_balance(deposit) == 0
    share = 20_000 * order.seller_commission_minor // order.price_minor
    payout = Disbursement.objects.get(order=order, kind=Disbursement.Kind.PAYOUT)
    assert payout.amount_minor == 20_000 - share
    assert payout.recipient_org_id == auction.seller_org_id
    fees_after = ledger.totals_by_kind().get((AccountKind.PLATFORM_FEES, order.currency), 0)
    assert fees_before - fees_after == share
    assert ledger.entries_unbalanced() == []
    # and the auction goes to bob at his bid; the listing is held for him, not for sale to others
    auction.refresh_from_db()
    assert auction.state == Auction.State.WON
    assert auction.high_bid.bidder == bob
    assert auction.current_price_minor == 150_000
    assert auction.defaulted_org_ids == [order.buyer_org_id]
    assert tasks.finish_due_auctions() == 1  # beat settles it (or the queued settle task)
    auction.refresh_from_db()
    assert auction.state == Auction.State.SOLD
    second = auction.order
    assert second.buyer == bob
    assert second.price_minor == 150_000
    assert Listing.objects.get(pk=auction.listing_id).state == Listing.State.RESERVED
    # bob, the runner-up, kept his deposit held (carol's went back at the end): it counts towards his order
    assert _deposit_of(auction, carol).state == Deposit.State.RETURNED
    assert _deposit_of(auction, bob).order_id == second.pk
    order_seller_confirm(order=second, actor=seller)
    assert pay_order(second, bob).amount_minor == second.total_minor - 20_000
    assert _deposit_of(auction, bob).state == Deposit.State.APPLIED
    assert ledger.escrow_balance(second) == second.total_minor
    assert ledger.entries_unbalanced() == []


def test_when_the_next_bids_are_below_the_reserve_the_auction_ends_unsold(tenant):
    auction, seller, (alice, bob) = open_auction(2, start=100_000, reserve=150_000, deposit=20_000)
    auction = _won(auction, [(bob, 120_000), (alice, 160_000)])
    # the winner cancels the order before paying: that is a default too
    order_buyer_cancel(order=auction.order, actor=alice)
    assert _deposit_of(auction, alice).state == Deposit.State.FORFEITED
    auction.refresh_from_db()
    assert auction.state == Auction.State.UNSOLD
    assert auction.order_id is None
    assert Listing.objects.get(pk=auction.listing_id).state == Listing.State.PUBLISHED
    assert ledger.entries_unbalanced() == []


def test_when_the_seller_declines_the_winner_gets_the_deposit_back_and_the_auction_ends(tenant):
    auction, seller, (alice, bob) = open_auction(2, start=100_000, reserve=0, deposit=20_000)
    auction = _won(auction, [(bob, 120_000), (alice, 160_000)])
    order_seller_decline(order=auction.order, actor=seller, reason="Changed my mind")
    assert _deposit_of(auction, alice).state == Deposit.State.RETURNED
    auction.refresh_from_db()
    assert auction.state == Auction.State.UNSOLD
    assert not Disbursement.objects.filter(kind=Disbursement.Kind.PAYOUT).exists()
    assert ledger.entries_unbalanced() == []


def test_the_runner_ups_deposit_is_held_until_the_winner_pays_then_returned(tenant):
    # given three bidders; alice wins, bob is the runner-up
    auction, seller, (alice, bob, carol) = open_auction(3, start=100_000, reserve=0, deposit=20_000)
    auction = _won(auction, [(carol, 100_000), (bob, 120_000), (alice, 160_000)])
    # then at the end carol's deposit goes back, bob's stays held for the exchange's window (10 days)
    assert _deposit_of(auction, carol).state == Deposit.State.RETURNED
    assert _deposit_of(auction, bob).state == Deposit.State.HELD
    assert ledger.deposit_balance(_deposit_of(auction, bob)) == 20_000
    window = auction.runner_up_until - auction.closed_at
    assert window == datetime.timedelta(days=tenant.auction_runner_up_hold_days) == datetime.timedelta(days=10)
    from core.models import Notification

    assert Notification.objects.filter(user=bob, kind="auction.runner_up").exists()
    # when alice pays, bob's deposit goes back in the same transaction
    order_seller_confirm(order=auction.order, actor=seller)
    pay_order(auction.order, alice)
    assert _deposit_of(auction, bob).state == Deposit.State.RETURNED
    auction.refresh_from_db()
    assert auction.runner_up_until is None
    assert ledger.totals_by_kind().get((AccountKind.DEPOSIT_HELD, tenant.currency), 0) == 0
    assert ledger.entries_unbalanced() == []


def test_after_the_window_the_runner_up_is_repaid_and_pays_in_full_if_the_winner_defaults(tenant):
    auction, seller, (alice, bob) = open_auction(2, start=100_000, reserve=0, deposit=20_000)
    auction = _won(auction, [(bob, 120_000), (alice, 160_000)])
    assert tasks.finish_due_auctions() == 0  # the window is still open
    assert _deposit_of(auction, bob).state == Deposit.State.HELD
    Auction.objects.filter(pk=auction.pk).update(runner_up_until=timezone.now() - datetime.timedelta(seconds=1))
    assert tasks.finish_due_auctions() == 1
    assert _deposit_of(auction, bob).state == Deposit.State.RETURNED
    order_seller_confirm(order=auction.order, actor=seller)
    _deadline_passes(auction.order)
    tasks.finish_due_auctions()
    auction.refresh_from_db()
    second = auction.order
    assert second.buyer == bob
    order_seller_confirm(order=second, actor=seller)
    assert pay_order(second, bob).amount_minor == second.total_minor
    assert ledger.entries_unbalanced() == []


def test_an_exchange_that_holds_no_runner_up_returns_every_other_deposit_at_the_end(tenant):
    tenant.auction_runner_up_hold_days = 0
    tenant.save(update_fields=["auction_runner_up_hold_days"])
    auction, seller, (alice, bob) = open_auction(2, start=100_000, reserve=0, deposit=20_000)
    auction = _won(auction, [(bob, 120_000), (alice, 160_000)])
    assert _deposit_of(auction, bob).state == Deposit.State.RETURNED
    assert auction.runner_up_until is None


def test_when_the_seller_defaults_the_runner_ups_deposit_goes_back_too(tenant):
    auction, seller, (alice, bob) = open_auction(2, start=100_000, reserve=0, deposit=20_000)
    auction = _won(auction, [(bob, 120_000), (alice, 160_000)])
    order_seller_decline(order=auction.order, actor=seller, reason="Changed my mind")
    assert _deposit_of(auction, bob).state == Deposit.State.RETURNED
    assert ledger.totals_by_kind().get((AccountKind.DEPOSIT_HELD, tenant.currency), 0) == 0
    assert ledger.entries_unbalanced() == []


def test_the_exchange_sets_its_own_share_of_a_forfeited_deposit(tenant):
    tenant.deposit_forfeit_share_bps = 2_500  # 25 %, whatever the order's commission
    tenant.save(update_fields=["deposit_forfeit_share_bps"])
    auction, seller, (alice, bob) = open_auction(2, start=100_000, reserve=0, deposit=20_000)
    auction = _won(auction, [(bob, 120_000), (alice, 160_000)])
    order = auction.order
    order_seller_confirm(order=order, actor=seller)
    fees_before = ledger.totals_by_kind().get((AccountKind.PLATFORM_FEES, order.currency), 0)
    _deadline_passes(order)
    payout = Disbursement.objects.get(order=order, kind=Disbursement.Kind.PAYOUT)
    assert payout.amount_minor == 15_000
    assert fees_before - ledger.totals_by_kind().get((AccountKind.PLATFORM_FEES, order.currency), 0) == 5_000
    assert ledger.entries_unbalanced() == []
