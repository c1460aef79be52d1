"""Property-based test of auctions with deposits: a Hypothesis state machine runs auctions where
bidders pay deposits (sometimes twice, sometimes declined), bid (too low, too late, from the seller's
own organization, without a deposit), the end passes, sellers accept or refuse below the reserve,
winners pay the rest or the order is refunded. After every step:

- the ledger balances and no money is created or lost (provider clearing = received − paid out);
- each deposit's ledger account holds exactly its amount while held, nothing once returned or applied;
- every auction's price is its highest bid, each accepted bid beat the one before by the increment,
  none from the seller's organization; a bid right after the end is refused;
- a closed auction keeps at most the winner's (or the highest bidder's) deposit;
- a funded auction order's escrow holds its whole total, the deposit counted in;
- a winner who does not pay (deadline passes, or cancels) forfeits the deposit (only defaulters do) and
  the auction passes to the highest bid of another organization at or above the reserve, or ends.

Size: DEMAND_STATEFUL_EXAMPLES (default 10) runs × DEMAND_STATEFUL_STEPS (30) steps; derandomized unless
DEMAND_STATEFUL_RANDOM=1."""

import os
import uuid
from collections import defaultdict
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import Role
from accounts.selectors import active_organization
from core.errors import DomainError
from demand import auctions as A
from demand.models import Auction, Bid
from escrow import ledger
from escrow import services as s
from escrow.models import AccountKind, Deposit, Disbursement, JournalLine, Order, OrderState, Payment
from escrow.selectors import deposits_for, live_deposit
from tests.factories import OrganizationFactory, escrow_listing, escrow_staff, make_member

K = AccountKind
EXAMPLES = int(os.environ.get("DEMAND_STATEFUL_EXAMPLES", "10"))
STEPS = int(os.environ.get("DEMAND_STATEFUL_STEPS", "30"))
STATS = defaultdict(int)


def attempt(name, fn, *args, **kwargs):
    STATS["steps"] += 1
    try:
        result = fn(*args, **kwargs)
    except DomainError:
        STATS["refused"] += 1
        return None
    STATS[name] += 1
    return result


class AuctionMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic._from_testcase = True
        self._atomic.__enter__()
        org = OrganizationFactory()
        self.seller = make_member(roles=(Role.SELLER,), org=org)
        self.seller_colleague = make_member(roles=(Role.BUYER,), org=org)
        self.bidders = [make_member(roles=(Role.BUYER,)) for _ in range(4)]
        self.staff = escrow_staff()
        self.auctions: list[int] = []

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _auction(self, i, states=None):
        qs = Auction.objects.filter(pk__in=self.auctions)
        if states:
            qs = qs.filter(state__in=states)
        ids = list(qs.order_by("pk").values_list("pk", flat=True))
        return Auction.objects.get(pk=ids[i % len(ids)]) if ids else None

    # --- rules ---------------------------------------------------------------------------------
    @initialize(reserve=st.sampled_from([0, 150_000]))
    def an_auction_with_two_bidders(self, reserve):
        """Every run starts with an open auction and two bidders whose deposits are held and who bid."""
        self.open_auction(reserve=reserve, extension=60)
        auction = Auction.objects.get(pk=self.auctions[0])
        for bidder in self.bidders[:2]:
            payment = A.deposit_start(auction=auction, actor=bidder)
            s.payment_event_apply(provider=payment.provider, event_id=f"evt_{uuid.uuid4().hex}",
                                  kind="payment.succeeded", payment_id=payment.pk, amount_minor=payment.amount_minor,
                                  currency=payment.currency)
        # and both bid once, so runs reach the end with bids (sold, below the reserve, defaults) more often
        A.bid_place(auction=auction, actor=self.bidders[0], amount_minor=100_000)
        A.bid_place(auction=auction, actor=self.bidders[1], amount_minor=160_000)

    @precondition(lambda self: len(self.auctions) < 2)
    @rule(reserve=st.sampled_from([0, 120_000, 500_000]), extension=st.sampled_from([0, 60]))
    def open_auction(self, reserve, extension):
        listing = escrow_listing(seller_org=self.seller.memberships.first().organization, created_by=self.seller,
                                 price_minor=300_000)
        now = timezone.now()
        auction = attempt("open", A.auction_create, listing=listing, actor=self.seller, start_price_minor=100_000,
                          reserve_minor=reserve, increment_minor=10_000, deposit_minor=20_000,
                          starts_at=now - timedelta(seconds=1), ends_at=now + timedelta(hours=1),
                          extension_seconds=extension)
        if auction:
            self.auctions.append(auction.pk)

    @precondition(lambda self: self.auctions)
    @rule(i=st.integers(0, 9), b=st.integers(0, 3), approve=st.booleans())
    def pay_deposit(self, i, b, approve):
        auction = self._auction(i, [Auction.State.OPEN]) if i % 5 else self._auction(i)  # mostly open ones
        if auction is None:
            return
        payment = attempt("deposit_started", A.deposit_start, auction=auction, actor=self.bidders[b])
        if payment is None:
            return
        outcome = s.payment_event_apply(provider=payment.provider, event_id=f"evt_{uuid.uuid4().hex}",
                                        kind="payment.succeeded" if approve else "payment.failed",
                                        payment_id=payment.pk, amount_minor=payment.amount_minor,
                                        currency=payment.currency)
        STATS[f"deposit_{outcome}"] += 1

    @precondition(lambda self: self.auctions)
    @rule(i=st.integers(0, 9), b=st.integers(0, 3), over=st.sampled_from([0, 0, 10_000, 25_000, -5_000]))
    def bid(self, i, b, over):
        auction = self._auction(i, [Auction.State.OPEN])
        if auction is None:
            return
        with_deposit = [u for u in self.bidders if (d := live_deposit(auction.subject, active_organization(u)))
                        and d.state == Deposit.State.HELD]
        if not with_deposit:
            return
        attempt("bid", A.bid_place, auction=auction, actor=with_deposit[b % len(with_deposit)],
                amount_minor=auction.minimum_bid_minor + over)

    @precondition(lambda self: self.auctions)
    @rule(i=st.integers(0, 9), who=st.sampled_from(["seller", "no_deposit"]))
    def refused_bid(self, i, who):
        auction = self._auction(i, [Auction.State.OPEN])
        if auction is None:
            return
        actor = self.seller_colleague if who == "seller" else make_member(roles=(Role.BUYER,))
        before = auction.bid_count
        assert attempt("bid", A.bid_place, auction=auction, actor=actor, amount_minor=10**9) is None
        assert Auction.objects.get(pk=auction.pk).bid_count == before
        STATS["refused_on_purpose"] += 1

    @precondition(lambda self: self.auctions)
    @rule(i=st.integers(0, 9), late=st.booleans())
    def time_passes(self, i, late):
        """The end passes (or comes within the anti-sniping window); auctions with bids first."""
        with_bids = Auction.objects.filter(pk__in=self.auctions, state=Auction.State.OPEN, bid_count__gt=0)
        auction = with_bids.order_by("pk").first() or self._auction(i, [Auction.State.OPEN])
        if auction is None:
            return
        delta = timedelta(seconds=-1) if late else timedelta(seconds=30)
        Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() + delta)
        if late:
            after = attempt("finish", A.auction_finish, auction_id=auction.pk)
            STATS[f"ended_{after.state}"] += 1
            # and a bid a moment later is refused
            assert attempt("bid", A.bid_place, auction=auction, actor=self.bidders[0], amount_minor=10**9) is None

    @precondition(lambda self: self.auctions)
    @rule(i=st.integers(0, 9), accept=st.booleans())
    def seller_decides(self, i, accept):
        auction = self._auction(i, [Auction.State.RESERVE_NOT_MET])
        if auction is None:
            return
        attempt("decide", A.seller_accept, auction=auction, actor=self.seller, accept=accept)

    @precondition(lambda self: self.auctions)
    @rule(i=st.integers(0, 9), accept=st.booleans())
    def seller_proposes_a_price(self, i, accept):
        """Below the reserve the seller proposes a price; the highest bidder accepts (→ order at it) or not."""
        from demand import counteroffers as CO

        auction = self._auction(i, [Auction.State.RESERVE_NOT_MET])
        if auction is None:
            return
        offer = attempt("counter_offer", CO.counter_offer_make, auction=auction, actor=self.seller,
                        price_minor=auction.current_price_minor + 10_000, hours=24)
        if offer is not None:
            attempt("counter_answer", CO.counter_offer_answer, auction=auction, actor=auction.high_bid.bidder,
                    accept=accept)

    @precondition(lambda self: self.auctions)
    @rule(i=st.integers(0, 9), refund=st.booleans())
    def winner_pays(self, i, refund):
        auction = self._auction(i, [Auction.State.SOLD])
        if auction is None or auction.order.state != OrderState.PLACED:
            return
        order = auction.order
        attempt("seller_confirm", s.order_seller_confirm, order=order, actor=self.seller)
        payment = attempt("pay_start", s.payment_start, order=order, actor=order.buyer, provider="simulated")
        if payment is None:
            return
        s.payment_event_apply(provider="simulated", event_id=f"evt_{uuid.uuid4().hex}", kind="payment.succeeded",
                              payment_id=payment.pk, amount_minor=payment.amount_minor, currency=payment.currency)
        if refund:
            attempt("refund", s.order_refund, order=order, actor=self.staff, reason="Seller withdrew")

    @precondition(lambda self: self.auctions)
    @rule(i=st.integers(0, 9))
    def winner_walks_away(self, i):
        auction = self._auction(i, [Auction.State.SOLD])
        if auction is None or auction.order.state != OrderState.PLACED:
            return
        attempt("buyer_cancel", s.order_buyer_cancel, order=auction.order, actor=auction.order.buyer)

    @precondition(lambda self: self.auctions)
    @rule(i=st.integers(0, 9))
    def winner_lets_the_payment_deadline_pass(self, i):
        """The seller confirms, the winner never pays: escrow's deadline worker cancels the order, the
        deposit is forfeited and the auction passes to the next bidder at or above the reserve."""
        auction = self._auction(i, [Auction.State.SOLD])
        if auction is None or auction.order.state not in (OrderState.PLACED, OrderState.SELLER_CONFIRMED):
            return
        order = auction.order
        if order.state == OrderState.PLACED:
            attempt("seller_confirm", s.order_seller_confirm, order=order, actor=self.seller)
        Order.objects.filter(pk=order.pk).update(payment_due=timezone.now() - timedelta(minutes=1))
        after = attempt("payment_deadline", s.order_expire, order=Order.objects.get(pk=order.pk))
        if after is not None and after.state == OrderState.CANCELLED:
            STATS[f"after_default_{Auction.objects.get(pk=auction.pk).state}"] += 1

    @precondition(lambda self: self.auctions)
    @rule(i=st.integers(0, 9))
    def runner_up_window_passes(self, i):
        """The exchange's hold on the runner-up's deposit ends before the winner paid; beat returns it."""
        held = Auction.objects.filter(pk__in=self.auctions, runner_up_until__isnull=False).order_by("pk")
        auction = held[i % held.count()] if held.exists() else None
        if auction is None:
            return
        Auction.objects.filter(pk=auction.pk).update(runner_up_until=timezone.now() - timedelta(seconds=1))
        STATS["runner_up_released"] += attempt("runner_up_release", A.runner_up_release_due, auction_id=auction.pk) or 0

    @precondition(lambda self: self.auctions)
    @rule()
    def beat_settles(self):
        from demand.tasks import finish_due_auctions

        STATS["beat_settled"] += finish_due_auctions()

    @rule()
    def providers_pay_out(self):
        for disb in Disbursement.objects.filter(state=Disbursement.State.PENDING)[:5]:
            s.disbursement_execute(disbursement_id=disb.pk)

    # --- invariants ----------------------------------------------------------------------------
    @invariant()
    def money_adds_up(self):
        assert ledger.entries_unbalanced() == []
        clearing = defaultdict(int)
        for row in JournalLine.objects.filter(account__kind=K.PROVIDER_CLEARING).values(
                "account__provider").annotate(t=Sum("amount_minor")):
            clearing[row["account__provider"]] = row["t"]
        expected = defaultdict(int)
        for row in Payment.objects.filter(state=Payment.State.SUCCEEDED).values("provider").annotate(
                t=Sum("received_minor")):
            expected[row["provider"]] += row["t"]
        for row in Disbursement.objects.filter(state=Disbursement.State.PAID).values("provider").annotate(
                t=Sum("amount_minor")):
            expected[row["provider"]] -= row["t"]
        assert {k: clearing[k] for k in set(clearing) | set(expected)} == \
            {k: expected[k] for k in set(clearing) | set(expected)}

    @invariant()
    def deposits_and_bids_hold(self):
        for auction in Auction.objects.filter(pk__in=self.auctions):
            bids = list(Bid.objects.filter(auction=auction).order_by("placed_at", "pk"))
            defaulted = set(auction.defaulted_org_ids)
            if bids and not defaulted:
                assert auction.high_bid_id == bids[-1].pk
                assert auction.current_price_minor == max(b.amount_minor for b in bids)
            elif bids and auction.state in (Auction.State.WON, Auction.State.SOLD):
                # passed on after a default: the highest bid of an organization that did not default,
                # at or above the reserve
                eligible = [b for b in bids if b.bidder_org_id not in defaulted
                            and b.amount_minor >= auction.reserve_minor]
                best = max(eligible, key=lambda b: b.amount_minor)
                assert auction.high_bid_id == best.pk
                assert auction.current_price_minor == best.amount_minor
            if bids:
                assert all(b.amount_minor >= a.amount_minor + auction.increment_minor for a, b in zip(bids, bids[1:],
                                                                                                          strict=False))
                # (no bid after the end: asserted where the end passes; this machine moves the end by hand)
                assert all(b.bidder_org_id != auction.seller_org_id for b in bids)
            deposits = list(deposits_for(auction.subject))
            # a defaulting winner's deposit is forfeited, never returned, and only a defaulter's is
            for d in deposits:
                if d.state == Deposit.State.FORFEITED:
                    assert d.payer_org_id in defaulted
                    STATS["forfeited_seen"] += 1
            assert auction.high_bid_id is None or auction.high_bid.bidder_org_id not in defaulted \
                or auction.state == Auction.State.UNSOLD
            for d in deposits:
                balance = ledger.deposit_balance(d)
                assert balance == (d.amount_minor if d.state == Deposit.State.HELD else 0), (d.state, balance)
            kept = [d for d in deposits if d.state in (Deposit.State.HELD, Deposit.State.APPLIED)]
            if auction.state in (Auction.State.NO_BIDS, Auction.State.UNSOLD):
                assert kept == []
            elif auction.state != Auction.State.OPEN:
                # the winner's, and the runner-up's while its window is open and the winner has not paid
                allowed = {auction.high_bid.bidder_org_id}
                if auction.runner_up_until is not None:
                    runner_up = A.runner_up_bid(auction)
                    assert runner_up is not None
                    allowed.add(runner_up.bidder_org_id)
                    STATS["runner_up_held_seen"] += 1
                assert {d.payer_org_id for d in kept} <= allowed
            if auction.order_id:
                order = Order.objects.get(pk=auction.order_id)
                assert order.price_minor == auction.sale_price_minor
                if order.state not in (OrderState.PLACED, OrderState.SELLER_CONFIRMED):
                    # the winner paid (or the order ended): no runner-up deposit is held any more
                    assert auction.runner_up_until is None
                    assert all(d.order_id == order.pk for d in deposits if d.state == Deposit.State.HELD)
                if order.state == OrderState.FUNDED:
                    assert ledger.escrow_balance(order) == order.total_minor
                    # a passed-on order: the runner-up's deposit, if still held at the default, counted
                    STATS["funded_seen"] += 1


@pytest.mark.django_db
def test_auction_deposit_state_machine(tenant, capsys):
    STATS.clear()
    run_state_machine_as_test(AuctionMachine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
        # Derandomized by default so the coverage checks below (a bid, a held deposit, an end) do not depend on
        # how short Hypothesis happens to keep the runs; DEMAND_STATEFUL_RANDOM=1 explores new sequences.
        derandomize=os.environ.get("DEMAND_STATEFUL_RANDOM") != "1",
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    ))
    with capsys.disabled():
        print(f"\n[auction stateful] {STATS['steps']} steps; " + ", ".join(f"{k}={v}" for k, v in sorted(STATS.items())))
    assert STATS["bid"] > 0
    assert STATS["deposit_deposit_held"] > 0
    assert STATS["finish"] > 0
    assert sum(v for k, v in STATS.items() if k in ("ended_sold", "ended_reserve_not_met", "ended_unsold")) > 0
