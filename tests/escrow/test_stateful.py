"""Property-based test of the whole escrow: a Hypothesis state machine drives many orders at once —
places, races, confirmations, payments, duplicated and reordered webhooks, bank receipts, the
transfer steps, disputes, refunds, releases, deadlines, margins and payouts — and after every step
checks that the ledger balances per currency, no money is created or lost (each provider's clearing
account equals what that provider received minus what it paid out), and every finished order's
escrow is zero while every paid live order's escrow holds exactly what the buyer paid.

Size: ESCROW_STATEFUL_EXAMPLES (default 100) runs × up to ESCROW_STATEFUL_STEPS (60) steps; the step count is printed."""

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
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import Role
from escrow import ledger
from escrow import services as s
from escrow.models import (
    DISPUTABLE_STATES,
    FINAL_STATES,
    LIVE_STATES,
    AccountKind,
    Disbursement,
    JournalLine,
    Order,
    OrderState,
    Payment,
)
from listings.models import Listing
from marketplace.errors import DomainError
from tests.factories import OrganizationFactory, escrow_listing, escrow_staff, make_member

S = OrderState
K = AccountKind
EXAMPLES = int(os.environ.get("ESCROW_STATEFUL_EXAMPLES", "100"))
STEPS = int(os.environ.get("ESCROW_STATEFUL_STEPS", "60"))
STATS = defaultdict(int)
HELD_STATES = (S.FUNDED, S.TRANSFER_FILED, S.TRANSFER_APPROVED, S.TRANSFER_REJECTED, S.DISPUTED)


def attempt(name, fn, *args, **kwargs):
    """Run one action; a refusal with a domain error is a valid outcome, anything else is a bug."""
    STATS["steps"] += 1
    try:
        result = fn(*args, **kwargs)
    except DomainError:
        STATS["refused"] += 1
        return None
    STATS[name] += 1
    return result


class EscrowMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # each run in its own savepoint, rolled back at teardown (marked like the test case's own
        # block, so the services' durable transactions may nest in it as they do in every test)
        self._atomic = transaction.atomic()
        self._atomic._from_testcase = True
        self._atomic.__enter__()
        self.sellers = []
        for _ in range(2):
            org = OrganizationFactory()
            self.sellers.append(make_member(roles=(Role.SELLER,), org=org))
        self.buyers = [make_member(roles=(Role.BUYER,)) for _ in range(3)]
        self.staff = escrow_staff()
        self.listings: list[int] = []
        self.orders: list[int] = []
        self.payments: list[int] = []
        self.events: list[tuple[int, str, str]] = []  # (payment id, event id, kind) delivered

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers ---------------------------------------------------------------------------------
    def _order(self, i, states=None):
        """The i-th order, preferring (when `states` is given) orders in those states."""
        ids = self.orders
        if states:
            fitting = list(Order.objects.filter(pk__in=self.orders, state__in=states).order_by("pk")
                           .values_list("pk", flat=True))
            ids = fitting or ids
        return Order.objects.select_related("listing").get(pk=ids[i % len(ids)])

    def _party(self, order, who):
        if who == "seller":
            return next(u for u in self.sellers if u.memberships.filter(organization=order.seller_org_id).exists())
        if who == "buyer":
            return order.buyer
        return self.staff

    # --- listings --------------------------------------------------------------------------------
    @precondition(lambda self: len(self.listings) < 8)
    @rule(seller=st.integers(0, 1), price=st.integers(1, 5_000_000_00), with_margin=st.booleans())
    def new_listing(self, seller, price, with_margin):
        user = self.sellers[seller]
        org = user.memberships.first().organization
        state = Listing.State.AWAITING_MARGIN if with_margin else Listing.State.PUBLISHED
        listing = escrow_listing(seller_org=org, price_minor=price, created_by=user, state=state,
                                 margin_minor=max(1, price // 100) if with_margin else 0)
        self.listings.append(listing.pk)
        STATS["steps"] += 1

    @precondition(lambda self: self.listings)
    @rule(i=st.integers(0, 99), provider=st.sampled_from(["simulated", "bank_transfer"]))
    def start_margin_payment(self, i, provider):
        listing = Listing.objects.get(pk=self.listings[i % len(self.listings)])
        user = next(u for u in self.sellers if u.memberships.filter(organization=listing.seller_org_id).exists())
        payment = attempt("margin_start", s.margin_pay_start, listing=listing, actor=user, provider=provider)
        if payment:
            self.payments.append(payment.pk)

    @precondition(lambda self: self.listings)
    @rule(i=st.integers(0, 99))
    def withdraw_listing(self, i):
        from listings.services import listing_withdraw

        listing = Listing.objects.get(pk=self.listings[i % len(self.listings)])
        user = next(u for u in self.sellers if u.memberships.filter(organization=listing.seller_org_id).exists())
        attempt("withdraw", listing_withdraw, listing=listing, actor=user, reason="changed my mind")

    # --- ordering --------------------------------------------------------------------------------
    @precondition(lambda self: self.listings)
    @rule(i=st.integers(0, 99), buyer=st.integers(0, 2))
    def place(self, i, buyer):
        listing = Listing.objects.get(pk=self.listings[i % len(self.listings)])
        order = attempt("place", s.order_place, listing=listing, buyer=self.buyers[buyer], terms_accepted=True)
        if order:
            self.orders.append(order.pk)

    @precondition(lambda self: self.listings)
    @rule(i=st.integers(0, 99))
    def race(self, i):
        """Two buyers one after the other on the same listing: at most one wins."""
        listing = Listing.objects.get(pk=self.listings[i % len(self.listings)])
        won = [attempt("place", s.order_place, listing=listing, buyer=b, terms_accepted=True) for b in self.buyers[:2]]
        won = [o for o in won if o]
        assert len(won) <= 1
        self.orders += [o.pk for o in won]

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 99), who=st.sampled_from(["seller", "buyer", "staff"]))
    def confirm(self, i, who):
        order = self._order(i, [S.PLACED])
        attempt("confirm", s.order_seller_confirm, order=order, actor=self._party(order, who))

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 99), action=st.sampled_from(["decline", "cancel"]))
    def decline_or_cancel(self, i, action):
        order = self._order(i, [S.PLACED, S.SELLER_CONFIRMED])
        if action == "decline":
            attempt("decline", s.order_seller_decline, order=order, actor=self._party(order, "seller"))
        else:
            attempt("cancel", s.order_buyer_cancel, order=order, actor=order.buyer)

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 99), which=st.sampled_from(["seller_confirm_due", "payment_due", "inspection_due"]))
    def deadline_passes(self, i, which):
        order = self._order(i)
        Order.objects.filter(pk=order.pk).update(**{which: timezone.now() - timedelta(seconds=1)})
        if which == "inspection_due":
            attempt("auto_confirm", s.order_auto_confirm, order=order)
        else:
            attempt("expire", s.order_expire, order=order)

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 99), provider=st.sampled_from(["simulated", "simulated", "bank_transfer"]),
          n=st.integers(1, 6))
    def advance(self, i, provider, n):
        """Move one order up to n steps along the happy path, as the right party would."""
        for _ in range(n):
            self._advance_once(i, provider)

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 99), n=st.integers(2, 8))
    def advance_far(self, i, n):
        """The same, more often and further: most trades in real life do move forward."""
        for _ in range(n):
            self._advance_once(i, "simulated")

    def _advance_once(self, i, provider):
        order = self._order(i, list(LIVE_STATES))
        if order.state == S.PLACED:
            attempt("confirm", s.order_seller_confirm, order=order, actor=self._party(order, "seller"))
        elif order.state == S.SELLER_CONFIRMED:
            payment = attempt("pay_start", s.payment_start, order=order, actor=order.buyer, provider=provider)
            if payment is None:
                return
            self.payments.append(payment.pk)
            if provider == "bank_transfer":
                attempt("bank_receipt", s.bank_transfer_record_receipt, payment=payment, actor=self.staff,
                        amount_minor=payment.amount_minor, bank_reference="BANK-2")
            else:
                event_id = f"evt_{uuid.uuid4().hex}"
                attempt("event", s.payment_event_apply, provider=provider, event_id=event_id,
                        kind="payment.succeeded", payment_id=payment.pk, amount_minor=payment.amount_minor)
                self.events.append((payment.pk, event_id, "payment.succeeded"))
        elif order.state in (S.FUNDED, S.TRANSFER_REJECTED, S.TRANSFER_FILED):
            step = "approve_transfer" if order.state == S.TRANSFER_FILED else "file_transfer"
            self._transfer(order, step)
        elif order.state == S.TRANSFER_APPROVED:
            attempt("release", s.order_confirm_certificate, order=order, actor=order.buyer)

    # --- payments and provider events -------------------------------------------------------------
    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 99), provider=st.sampled_from(["simulated", "simulated", "bank_transfer"]))
    def start_payment(self, i, provider):
        order = self._order(i, [S.SELLER_CONFIRMED])
        payment = attempt("pay_start", s.payment_start, order=order, actor=order.buyer, provider=provider)
        if payment:
            self.payments.append(payment.pk)

    @precondition(lambda self: self.payments)
    @rule(i=st.integers(0, 99), approved=st.booleans())
    def provider_event(self, i, approved):
        payment = Payment.objects.get(pk=self.payments[i % len(self.payments)])
        if payment.provider == "bank_transfer":
            return
        kind = "payment.succeeded" if approved else "payment.failed"
        event_id = f"evt_{uuid.uuid4().hex}"
        attempt("event", s.payment_event_apply, provider=payment.provider, event_id=event_id, kind=kind,
                payment_id=payment.pk, amount_minor=payment.amount_minor, currency=payment.currency)
        self.events.append((payment.pk, event_id, kind))

    @precondition(lambda self: self.events)
    @rule(i=st.integers(0, 99))
    def duplicate_event(self, i):
        """The provider delivers an event again (same id), possibly after later ones."""
        payment_id, event_id, kind = self.events[i % len(self.events)]
        outcome = attempt("duplicate", s.payment_event_apply, provider="simulated", event_id=event_id, kind=kind,
                          payment_id=payment_id)
        assert outcome == "duplicate"

    @precondition(lambda self: self.payments)
    @rule(i=st.integers(0, 99), exact=st.booleans())
    def bank_receipt(self, i, exact):
        payment = Payment.objects.get(pk=self.payments[i % len(self.payments)])
        if payment.provider != "bank_transfer":
            return
        amount = payment.amount_minor if exact else payment.amount_minor + 1
        attempt("bank_receipt", s.bank_transfer_record_receipt, payment=payment, actor=self.staff,
                amount_minor=amount, bank_reference="BANK-1")

    # --- the transfer and its end -----------------------------------------------------------------
    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 99), step=st.sampled_from(["file_transfer", "approve_transfer", "reject_transfer"]))
    def transfer_step(self, i, step):
        self._transfer(self._order(i, [S.FUNDED, S.TRANSFER_FILED, S.TRANSFER_REJECTED]), step)

    def _transfer(self, order, step):
        def run():
            with transaction.atomic():
                s.order_step(s.lock_order(order.pk), step, actor_label="office")

        attempt(step, run)

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 99))
    def confirm_certificate(self, i):
        order = self._order(i, [S.TRANSFER_APPROVED])
        attempt("release", s.order_confirm_certificate, order=order, actor=order.buyer)

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 99), who=st.sampled_from(["buyer", "seller"]))
    def dispute(self, i, who):
        order = self._order(i, list(DISPUTABLE_STATES))
        attempt("dispute", s.order_dispute_open, order=order, actor=self._party(order, who), reason="problem")

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 99), outcome=st.sampled_from(["refund", "continue"]))
    def resolve(self, i, outcome):
        attempt("resolve", s.order_dispute_resolve, order=self._order(i, [S.DISPUTED]), actor=self.staff, outcome=outcome,
                note="decided")

    @precondition(lambda self: self.orders)
    @rule(i=st.integers(0, 99), how=st.sampled_from(["refund", "staff_cancel", "seller_default"]))
    def refund(self, i, how):
        order = self._order(i, list(HELD_STATES))
        if how == "refund":
            attempt("refund", s.order_refund, order=order, actor=self.staff, reason="staff decision")
        elif how == "staff_cancel":
            attempt("staff_cancel", s.order_staff_cancel, order=order, actor=self.staff, reason="staff decision")
        else:
            attempt("seller_default", s.order_seller_default, order=order, reason="missed filing")

    @rule(fail=st.booleans())
    def run_disbursements(self, fail):
        from django.conf import settings as dj

        dj.ESCROW_SIMULATED_FAIL_DISBURSEMENTS = fail
        try:
            for pk in Disbursement.objects.exclude(state=Disbursement.State.PAID).values_list("pk", flat=True)[:5]:
                attempt("disburse", s.disbursement_execute, disbursement_id=pk)
        finally:
            dj.ESCROW_SIMULATED_FAIL_DISBURSEMENTS = False

    @precondition(lambda self: Disbursement.objects.filter(provider="bank_transfer").exclude(state="paid").exists())
    @rule()
    def finance_pays_bank_disbursement(self):
        disb = Disbursement.objects.filter(provider="bank_transfer").exclude(state="paid").first()
        attempt("mark_paid", s.disbursement_mark_paid, disbursement=disb, actor=self.staff, bank_reference="OUT-1")

    # --- invariants (checked after every step) ---------------------------------------------------
    @invariant()
    def money_is_consistent(self):
        # every entry balances per currency
        assert ledger.entries_unbalanced() == []
        accounts = list(JournalLine.objects.values("account_id", "account__kind", "account__provider",
                                                    "account__order", "currency").annotate(t=Sum("amount_minor")))
        # no money created or lost: each provider's clearing account == received − paid out there
        expected = defaultdict(int)
        for row in Payment.objects.filter(state=Payment.State.SUCCEEDED).values("provider", "currency").annotate(
                t=Sum("received_minor")):
            expected[(row["provider"], row["currency"])] += row["t"]
        for row in Disbursement.objects.filter(state=Disbursement.State.PAID).values("provider", "currency").annotate(
                t=Sum("amount_minor")):
            expected[(row["provider"], row["currency"])] -= row["t"]
        clearing = defaultdict(int)
        for row in accounts:
            if row["account__kind"] == K.PROVIDER_CLEARING:
                clearing[(row["account__provider"], row["currency"])] += row["t"]
        keys = set(expected) | set(clearing)
        assert {k: expected[k] for k in keys} == {k: clearing[k] for k in keys}
        # what the platform owes is never negative: liabilities carry credit balances only
        assert [r for r in accounts if r["account__kind"] not in (K.PROVIDER_CLEARING, K.PLATFORM_FEES)
                and r["t"] > 0] == []
        # escrow: zero for finished or unpaid orders, exactly the total for paid live ones
        held = {r["account__order"]: -r["t"] for r in accounts if r["account__kind"] == K.ESCROW_HELD}
        orders = list(Order.objects.filter(pk__in=self.orders).only(
            "pk", "state", "price_minor", "buyer_fee_minor", "seller_commission_minor", "listing_id"))
        for order in orders:
            amount = held.get(order.pk, 0)
            if order.state in HELD_STATES:
                assert amount == order.total_minor, (order.reference, order.state, amount)
            else:
                assert amount == 0, (order.reference, order.state, amount)
        # the platform's fees come from completed orders only
        fees = -sum(r["t"] for r in accounts if r["account__kind"] == K.PLATFORM_FEES)
        assert fees == sum(o.buyer_fee_minor + o.seller_commission_minor for o in orders if o.state == S.COMPLETED)
        # one live order per listing, and that listing is reserved
        live = [o.listing_id for o in orders if o.state in LIVE_STATES]
        assert len(live) == len(set(live))
        if live:
            assert set(Listing.objects.filter(pk__in=live).values_list("state", flat=True)) == {Listing.State.RESERVED}
        assert all(o.state in FINAL_STATES or o.state in LIVE_STATES for o in orders)


@pytest.mark.django_db
def test_escrow_state_machine(tenant, capsys):
    STATS.clear()
    run_state_machine_as_test(EscrowMachine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    ))
    summary = ", ".join(f"{k}={v}" for k, v in sorted(STATS.items()) if k != "steps")
    with capsys.disabled():
        print(f"\n[escrow stateful] {STATS['steps']} steps over {EXAMPLES} runs; {summary}")
    assert STATS["steps"] >= EXAMPLES  # it really ran
    assert STATS["release"] > 0
    assert STATS["refund"] + STATS["resolve"] + STATS["seller_default"] + STATS["staff_cancel"] > 0
