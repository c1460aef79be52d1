"""The bid path's cost and its one locked statement: a fixed small number of queries, the cached
standing never lets through what the database refuses, the audit row and the outbid notice."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Organization
from core.errors import InvalidTransition, NotAllowed, ValidationFailed
from core.models import AuditEvent, Notification
from demand import auctions as A
from demand.models import Auction, Bid
from escrow.models import Deposit
from tests.factories import open_auction

pytestmark = pytest.mark.django_db


def _locked_statements(queries):
    return [q["sql"] for q in queries if "FOR UPDATE" in q["sql"]]


def test_a_bid_costs_a_fixed_small_number_of_queries(tenant, django_capture_on_commit_callbacks):
    auction, seller, (alice, bob) = open_auction(start=100_000, increment=10_000)
    # when alice bids the first time (her standing is not cached yet)
    with CaptureQueriesContext(connection) as first:
        A.bid_place(auction=auction, actor=alice, amount_minor=100_000)
    # then: the auction read, her organization and her deposit, and the one locked statement
    assert len(first.captured_queries) == 4, [q["sql"][:80] for q in first.captured_queries]
    assert len(_locked_statements(first.captured_queries)) == 1
    # when bob bids twice (the second time his standing is cached)
    A.bid_place(auction=auction, actor=bob, amount_minor=110_000)
    A.bid_place(auction=auction, actor=alice, amount_minor=120_000)
    with CaptureQueriesContext(connection) as warm, django_capture_on_commit_callbacks(execute=False) as callbacks:
        bid = A.bid_place(auction=auction, actor=bob, amount_minor=130_000)
    # then two queries: the auction read and the locked statement (auction, bid, audit in one)
    assert len(warm.captured_queries) == 2, [q["sql"][:80] for q in warm.captured_queries]
    assert len(_locked_statements(warm.captured_queries)) == 1
    # and telling alice she was outbid comes after the commit, in three more (the bid before, her
    # organization's members, the notification)
    assert len(callbacks) == 1
    with CaptureQueriesContext(connection) as after:
        callbacks[0]()
    assert len(after.captured_queries) == 3
    assert Notification.objects.filter(user=alice, kind="auction.outbid").count() == 1
    # and what the statement wrote is what the ORM reads back
    auction.refresh_from_db()
    assert (auction.high_bid_id, auction.current_price_minor, auction.bid_count) == (bid.pk, 130_000, 4)
    stored = Bid.objects.get(pk=bid.pk)
    assert (stored.bidder_id, stored.amount_minor, stored.placed_at) == (bob.pk, 130_000, bid.placed_at)
    audit = AuditEvent.objects.filter(action="auction.bid", object_id=str(auction.pk)).order_by("-id").first()
    assert audit.actor_id == bob.pk
    assert audit.actor_label == bob.email
    assert audit.data["bid"] == bid.pk
    assert audit.data["amount_minor"] == 130_000
    assert audit.data["org"] == stored.bidder_org_id
    assert audit.data["ends_at"]


def test_a_cached_standing_does_not_outlive_the_verification(tenant):
    auction, seller, (alice, bob) = open_auction(start=100_000, increment=10_000)
    A.bid_place(auction=auction, actor=alice, amount_minor=100_000)  # her standing is now cached
    # when her organization's verification is withdrawn during the auction
    org = Bid.objects.get(bidder=alice).bidder_org
    Organization.objects.filter(pk=org.pk).update(verification_status=Organization.Verification.PENDING)
    # then her next bid is refused by the locked statement, with the reason, and nothing is written
    with pytest.raises(NotAllowed, match="Only verified organizations can bid"):
        A.bid_place(auction=auction, actor=alice, amount_minor=120_000)
    auction.refresh_from_db()
    assert (auction.current_price_minor, auction.bid_count) == (100_000, 1)
    assert Bid.objects.filter(auction=auction).count() == 1


def test_a_cached_standing_does_not_outlive_the_deposit(tenant):
    auction, seller, (alice, bob) = open_auction(start=100_000, increment=10_000)
    A.bid_place(auction=auction, actor=alice, amount_minor=100_000)
    Deposit.objects.filter(subject=auction.subject, payer_org=Bid.objects.get(bidder=alice).bidder_org).update(
        state=Deposit.State.PENDING)
    with pytest.raises(NotAllowed, match="Place the deposit"):
        A.bid_place(auction=auction, actor=alice, amount_minor=120_000)
    assert Bid.objects.filter(auction=auction).count() == 1


def test_the_locked_statement_refuses_what_the_read_before_it_let_through(tenant, monkeypatch):
    # given bob read the auction before alice's bid and the end moved past meanwhile
    auction, seller, (alice, bob) = open_auction(start=100_000, increment=10_000, extension_seconds=0)
    stale = Auction.objects.get(pk=auction.pk)
    A.bid_place(auction=auction, actor=alice, amount_minor=100_000)
    real_filter = Auction.objects.filter

    def stale_read(*args, **kwargs):
        qs = real_filter(*args, **kwargs)
        qs.first = lambda: stale
        return qs

    monkeypatch.setattr(Auction.objects, "filter", stale_read)
    # when bob bids the minimum he saw: the statement sees alice's bid and says the new minimum
    with pytest.raises(ValidationFailed, match="Bid at least ¥1,100.00"):
        A.bid_place(auction=auction, actor=bob, amount_minor=100_000)
    # when the end has passed while his read still said open
    real_filter(pk=auction.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(InvalidTransition, match="no more bids are accepted"):
        A.bid_place(auction=auction, actor=bob, amount_minor=200_000)
    monkeypatch.undo()
    assert Bid.objects.filter(auction=auction).count() == 1
