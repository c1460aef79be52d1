"""50 bidders at once, each on its own thread and database connection: exactly one highest bid,
every accepted bid at least the increment above the one before, none after the end, deposits balance."""

import datetime

import pytest
from django.utils import timezone

from core.errors import DomainError
from demand import auctions as A
from demand.models import Auction, Bid
from escrow import ledger
from escrow.models import AccountKind, Deposit
from tests.escrow.test_concurrency import run_at_once
from tests.factories import open_auction

pytestmark = pytest.mark.django_db(transaction=True)


def test_fifty_bidders_at_once_exactly_one_highest_and_deposits_balance(tenant):
    # given 50 verified bidders of 50 organizations, each with a deposit held
    auction, seller, bidders = open_auction(50, start=100_000, increment=10_000, deposit=20_000, reserve=0)
    # when all bid the same minimum amount at the same moment
    results = run_at_once(tenant, [lambda b=b: A.bid_place(auction=auction, actor=b, amount_minor=100_000)
                                   for b in bidders])
    # then exactly one is accepted, the others are told the new minimum
    accepted = [r for r, e in results if r is not None]
    errors = [e for r, e in results if e is not None]
    assert len(accepted) == 1
    assert all(isinstance(e, DomainError) and "at least ¥1,100.00" in str(e) for e in errors), {str(e) for e in errors}
    auction.refresh_from_db()
    assert auction.bid_count == 1
    assert auction.high_bid_id == accepted[0].pk


def test_fifty_bidders_racing_upwards_one_highest_increments_hold(tenant):
    auction, seller, bidders = open_auction(50, start=100_000, increment=10_000, deposit=20_000, reserve=0)
    # when each bids a different amount at once (some too close to another to both be accepted)
    amounts = [100_000 + 5_000 * i for i in range(50)]
    results = run_at_once(tenant, [lambda b=b, a=a: A.bid_place(auction=auction, actor=b, amount_minor=a)
                                   for b, a in zip(bidders, amounts, strict=True)])
    assert all(e is None or isinstance(e, DomainError) for _r, e in results), [e for _r, e in results if e]
    auction.refresh_from_db()
    bids = list(Bid.objects.filter(auction=auction).order_by("placed_at", "pk"))
    # then accepted bids rise by at least the increment in the order they were accepted
    for before, after in zip(bids, bids[1:], strict=False):
        assert after.amount_minor >= before.amount_minor + 10_000
    assert auction.high_bid_id == bids[-1].pk
    assert auction.current_price_minor == max(b.amount_minor for b in bids)
    assert auction.bid_count == len(bids)
    # when it ends and settles, the winner's deposit counts, the runner-up's stays held until the winner
    # pays, the others are returned, the ledger balances
    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    auction = A.auction_finish(auction_id=auction.pk)
    assert auction.state == Auction.State.SOLD
    from escrow.selectors import deposits_for

    deposits = list(deposits_for(auction.subject))
    states = [d.state for d in deposits]
    # (when the highest amount happened to be accepted first, it is the only bid: no runner-up)
    runner_up = A.runner_up_bid(auction)
    kept = {auction.high_bid.bidder_org_id} | ({runner_up.bidder_org_id} if runner_up else set())
    assert runner_up is not None or len(bids) == 1
    assert states.count(Deposit.State.RETURNED) == 50 - len(kept)
    assert states.count(Deposit.State.HELD) == len(kept)
    assert {d.payer_org_id for d in deposits if d.state == Deposit.State.HELD} == kept
    held = ledger.totals_by_kind().get((AccountKind.DEPOSIT_HELD, tenant.currency), 0)
    assert held == -20_000 * len(kept)
    assert ledger.entries_unbalanced() == []


def test_bids_racing_the_end_none_accepted_after_it(tenant):
    # given an auction ending in a moment, no anti-sniping window
    auction, seller, bidders = open_auction(20, start=100_000, increment=1_000, reserve=0, extension_seconds=0)
    end = timezone.now() + datetime.timedelta(seconds=1)
    Auction.objects.filter(pk=auction.pk).update(ends_at=end)
    import time

    time.sleep(max(0.0, (end - timezone.now()).total_seconds() - 0.05))
    # when 20 bids and the close race the end
    calls = [lambda b=b, i=i: A.bid_place(auction=auction, actor=b, amount_minor=100_000 + 1_000 * i)
             for i, b in enumerate(bidders)]
    calls.append(lambda: A.auction_finish(auction_id=auction.pk))
    run_at_once(tenant, calls)
    A.auction_finish(auction_id=auction.pk)
    auction.refresh_from_db()
    # then every accepted bid was placed before the end
    assert all(b.placed_at < auction.ends_at for b in Bid.objects.filter(auction=auction))
    assert auction.state != Auction.State.OPEN
    assert ledger.entries_unbalanced() == []
