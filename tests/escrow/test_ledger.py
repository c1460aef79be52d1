"""The ledger: balanced per currency (in code and by a deferred trigger), append-only in the database."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from escrow import ledger
from escrow.models import AccountKind, JournalEntry, JournalLine, OrderState
from tests.factories import order_in_state

K = AccountKind
pytestmark = pytest.mark.django_db


def write_then_check_constraints(write):
    """Run `write` in a savepoint and fire the deferred constraint triggers as COMMIT would."""
    with transaction.atomic():
        write()
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_post_refuses_an_unbalanced_entry(tenant):
    a = ledger.account(K.PROVIDER_CLEARING, "CNY", provider="simulated")
    b = ledger.account(K.PLATFORM_FEES, "CNY")
    with pytest.raises(ledger.Unbalanced):
        ledger.post("oops", [(a, 100), (b, -99)])
    assert not JournalEntry.objects.exists()


def test_balanced_per_currency_not_only_in_total(tenant):
    cny = ledger.account(K.PLATFORM_FEES, "CNY")
    usd = ledger.account(K.PLATFORM_FEES, "USD")
    with pytest.raises(ledger.Unbalanced):
        ledger.post("fx", [(cny, 100), (usd, -100)])


def test_idempotency_key_posts_once(tenant):
    a = ledger.account(K.PROVIDER_CLEARING, "CNY", provider="simulated")
    b = ledger.account(K.PLATFORM_FEES, "CNY")
    assert ledger.post("fee", [(a, 100), (b, -100)], idempotency_key="k1") is not None
    assert ledger.post("fee", [(a, 100), (b, -100)], idempotency_key="k1") is None
    assert ledger.balance(a) == 100


def test_database_refuses_an_unbalanced_entry_at_commit(tenant):
    # given an entry written around the Python check
    a = ledger.account(K.PROVIDER_CLEARING, "CNY", provider="simulated")
    fees = ledger.account(K.PLATFORM_FEES, "CNY")

    def forge():
        entry = JournalEntry.objects.create(kind="forged")
        JournalLine.objects.create(entry=entry, account=a, amount_minor=500, currency="CNY")
        JournalLine.objects.create(entry=entry, account=fees, amount_minor=-400, currency="CNY")

    # when the deferred constraint triggers run (as they do at COMMIT), then PostgreSQL refuses
    with pytest.raises(IntegrityError, match="does not balance"):
        write_then_check_constraints(forge)
    assert not JournalEntry.objects.filter(kind="forged").exists()


def test_database_refuses_an_entry_with_one_line(tenant):
    with pytest.raises(IntegrityError, match="at least two lines"):
        write_then_check_constraints(lambda: JournalEntry.objects.create(kind="lonely"))


@pytest.mark.parametrize("sql", [
    "UPDATE escrow_journalline SET amount_minor = amount_minor + 1",
    "DELETE FROM escrow_journalline",
    "UPDATE escrow_journalentry SET memo = 'edited'",
    "DELETE FROM escrow_journalentry",
])
def test_journal_rows_are_append_only(tenant, sql):
    # given a real trade's entries
    order, _seller, _buyer = order_in_state(OrderState.FUNDED)
    before = list(JournalLine.objects.values_list("pk", "amount_minor"))
    # when anyone tries to edit or delete them in SQL, then PostgreSQL refuses
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert list(JournalLine.objects.values_list("pk", "amount_minor")) == before
    # and through the ORM too
    line = JournalLine.objects.first()
    line.amount_minor = 1
    with pytest.raises(DatabaseError), transaction.atomic():
        line.save()
    assert ledger.escrow_balance(order) == order.total_minor


def test_account_balances_and_statement(tenant):
    order, _seller, _buyer = order_in_state(OrderState.COMPLETED)
    balances = {(row["kind"], row["currency"]): row["balance"] for row in ledger.account_balances()
                if row["kind"] in (K.PLATFORM_FEES,)}
    assert balances[(K.PLATFORM_FEES, "CNY")] == -(order.buyer_fee_minor + order.seller_commission_minor)
    statement = ledger.order_statement(order)
    assert statement["fees"] == order.buyer_fee_minor + order.seller_commission_minor
    assert ledger.entries_unbalanced() == []
