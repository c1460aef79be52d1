"""Races with real separate database connections (threads, committed transactions)."""

import threading

import pytest
from django.db import connection

from core.errors import DomainError
from core.tenancy import tenant_context
from escrow import ledger
from escrow import services as s
from escrow.models import Disbursement, Order, OrderState
from listings.models import Listing
from tests.factories import escrow_parties, escrow_staff, make_member, order_in_state

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(tenant, calls):
    """Start every call at the same moment, each on its own thread and database connection.
    Returns [(result or None, error or None)] in the order of `calls`."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, fn):
        try:
            with tenant_context(tenant):
                barrier.wait(timeout=30)
                results[index] = (fn(), None)
        except DomainError as exc:
            results[index] = (None, exc)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[index] = (None, exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_twenty_buyers_at_once_one_order(tenant):
    # given one published listing and twenty buyers of twenty organizations
    listing, seller, _buyer = escrow_parties()
    buyers = [make_member() for _ in range(20)]
    # when they all place an order at the same moment
    results = run_at_once(tenant, [lambda b=b: s.order_place(listing=listing, buyer=b, terms_accepted=True)
                                   for b in buyers])
    # then exactly one wins; the others are told clearly
    winners = [r for r, e in results if r is not None]
    errors = [e for r, e in results if e is not None]
    assert len(winners) == 1
    assert len(errors) == 19
    assert all("moment ago" in str(e) for e in errors), {type(e).__name__: str(e) for e in errors}
    assert Order.objects.filter(listing=listing).count() == 1
    listing.refresh_from_db()
    assert listing.state == Listing.State.RESERVED


def test_release_and_refund_at_once_exactly_one_wins(tenant):
    # given an order whose transfer the office approved
    order, seller, buyer = order_in_state(OrderState.TRANSFER_APPROVED)
    staff = escrow_staff()
    # when the buyer confirms (release) while staff refund it
    results = run_at_once(tenant, [
        lambda: s.order_confirm_certificate(order=order, actor=buyer),
        lambda: s.order_refund(order=order, actor=staff, reason="Refund requested by phone"),
    ])
    # then exactly one of them happened, the other was refused, and the money adds up
    ok = [r for r, e in results if r is not None]
    errors = [e for r, e in results if e is not None]
    assert len(ok) == 1, results
    assert len(errors) == 1
    order.refresh_from_db()
    assert order.state in (OrderState.COMPLETED, OrderState.REFUNDED)
    assert ledger.escrow_balance(order) == 0
    assert ledger.entries_unbalanced() == []
    kinds = set(Disbursement.objects.filter(order=order).values_list("kind", flat=True))
    assert kinds == ({"payout"} if order.state == OrderState.COMPLETED else {"refund"})


def test_duplicate_webhooks_at_once_fund_once(tenant):
    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    payment = s.payment_start(order=order, actor=buyer, provider="simulated")

    def deliver():
        return s.payment_event_apply(provider="simulated", event_id="evt_same", kind="payment.succeeded",
                                     payment_id=payment.pk, amount_minor=payment.amount_minor)

    results = run_at_once(tenant, [deliver] * 5)
    outcomes = sorted(r for r, e in results)
    assert outcomes == ["duplicate"] * 4 + ["funded"], results
    assert ledger.escrow_balance(order) == order.total_minor
