"""Order and payment references are counted per exchange and year, never by a global sequence (a
distributed database keeps each exchange's rows apart), and racing orders never share a number."""

import pytest
from django.db import connection
from django.utils import timezone

from core.models import TenantCounter
from core.tenancy import tenant_context
from escrow import services as s
from escrow.models import Order
from tests.escrow.test_concurrency import run_at_once
from tests.factories import escrow_parties, pay_order


def test_each_exchange_numbers_its_own_orders_and_payments(tenant, other_tenant):
    year = timezone.localdate().year
    listing, _seller, buyer = escrow_parties()
    first = s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    with tenant_context(other_tenant):
        other_listing, _other_seller, other_buyer = escrow_parties()
        other = s.order_place(listing=other_listing, buyer=other_buyer, terms_accepted=True)
    # both exchanges start at 1: the other exchange's order took no number from this one
    assert first.reference == f"IPX-{year}-000001"
    assert other.reference == f"IPX-{year}-000001"
    second_listing, _seller2, buyer2 = escrow_parties()
    second = s.order_place(listing=second_listing, buyer=buyer2, terms_accepted=True)
    assert second.reference == f"IPX-{year}-000002"
    assert TenantCounter.objects.get(name=f"order:{year}").value == 2


def test_no_global_sequence_is_left_in_the_database(db):
    with connection.cursor() as cursor:  # sequences not owned by a column (serial/identity) are global counters
        cursor.execute("""SELECT c.relname FROM pg_class c WHERE c.relkind = 'S' AND NOT EXISTS (
                            SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))""")
        assert [name for (name,) in cursor.fetchall()] == []


@pytest.mark.django_db(transaction=True)
def test_ten_orders_at_once_get_ten_different_numbers(tenant):
    parties = [escrow_parties() for _ in range(10)]
    results = run_at_once(tenant, [lambda p=p: s.order_place(listing=p[0], buyer=p[2], terms_accepted=True)
                                   for p in parties])
    assert [e for _r, e in results if e is not None] == []
    references = sorted(Order.objects.values_list("reference", flat=True))
    year = timezone.localdate().year
    assert references == [f"IPX-{year}-{n:06d}" for n in range(1, 11)]


def test_payment_references_are_per_exchange_too(tenant):
    listing, seller, buyer = escrow_parties()
    order = s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    s.order_seller_confirm(order=order, actor=seller)
    payment = pay_order(order, buyer)
    assert payment.reference == f"PAY-{timezone.localdate().year}-000001"
