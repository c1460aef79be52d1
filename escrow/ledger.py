"""Double-entry ledger: every money movement is one balanced journal entry (per currency), in
integer minor units, append-only. Debits are positive, credits negative; each entry sums to zero.

Accounts and what a positive (debit) balance means:
- provider_clearing (per provider): money the platform holds at the provider or bank — asset.
- escrow_held (per order), margin_held (per listing), seller_payable / buyer_payable (per organization),
  payout_clearing, refund_clearing: what the platform owes — liabilities, normally negative (credit).
- platform_fees: revenue, credit.
- receivable (per organization): service fees charged outside a trade (e.g. arranging a pledge loan)
  and not yet paid — asset.
- escrow_held may also be kept per service (dimension "service:<reference>", e.g. an appraisal's fee).
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Sum

from core.tenancy import require_tenant

from .models import AccountKind, JournalEntry, JournalLine, LedgerAccount

K = AccountKind


class Unbalanced(ValueError):
    pass


def account(kind: str, currency: str, *, provider: str = "", order=None, listing=None,
            organization=None, service: str = "", deposit=None) -> LedgerAccount:
    """The account for (kind, currency, dimension), created on first use (safe under races)."""
    tenant = require_tenant()
    if deposit is not None:
        dim = f"deposit:{deposit.pk}"
    elif service:
        dim = f"service:{service}"
    elif order is not None:
        dim = f"order:{order.pk}"
    elif listing is not None:
        dim = f"listing:{listing.pk}"
    elif organization is not None:
        dim = f"org:{organization.pk}"
    elif provider:
        dim = f"provider:{provider}"
    else:
        dim = "tenant"
    key = f"{kind}:{currency}:{dim}"
    found = LedgerAccount.objects.filter(key=key).first()
    if found:
        return found
    LedgerAccount.objects.bulk_create(
        [LedgerAccount(tenant=tenant, kind=kind, currency=currency, provider=provider, order=order, listing=listing,
                       organization=organization, key=key)],
        ignore_conflicts=True,
    )
    return LedgerAccount.objects.get(key=key)


def post(kind: str, lines: list[tuple[LedgerAccount, int]], *, order=None, listing=None, memo: str = "",
         idempotency_key: str | None = None, created_by=None) -> JournalEntry | None:
    """Write one balanced entry. `lines` are (account, amount) with debit > 0, credit < 0; zero lines
    are dropped. Raises Unbalanced if any currency does not sum to zero (the database checks again at
    commit). With an idempotency_key already used, nothing is written and None is returned."""
    tenant = require_tenant()
    lines = [(acc, int(amount)) for acc, amount in lines if int(amount) != 0]
    if not lines:
        return None
    totals: dict[str, int] = defaultdict(int)
    for acc, amount in lines:
        totals[acc.currency] += amount
    off = {cur: total for cur, total in totals.items() if total}
    if off:
        raise Unbalanced(f"journal entry {kind} does not balance: {off}")
    if idempotency_key and JournalEntry.objects.filter(idempotency_key=idempotency_key).exists():
        return None
    user = created_by if getattr(created_by, "is_authenticated", False) else None
    entry = JournalEntry.objects.create(tenant=tenant, kind=kind, order=order, listing=listing, memo=memo[:300],
                                        idempotency_key=idempotency_key, created_by=user)
    JournalLine.objects.bulk_create(
        [JournalLine(tenant=tenant, entry=entry, account=acc, amount_minor=amount, currency=acc.currency)
         for acc, amount in lines]
    )
    return entry


def balance(acc: LedgerAccount | None) -> int:
    if acc is None:
        return 0
    return JournalLine.objects.filter(account=acc).aggregate(s=Sum("amount_minor"))["s"] or 0


def escrow_balance(order) -> int:
    """What the platform holds for this order (a positive number; 0 when nothing is held)."""
    total = JournalLine.objects.filter(account__kind=K.ESCROW_HELD, account__order=order).aggregate(
        s=Sum("amount_minor"))["s"] or 0
    return -total


def deposit_balance(deposit) -> int:
    """What the platform holds of this deposit (positive; 0 when none)."""
    total = JournalLine.objects.filter(account__key=f"{K.DEPOSIT_HELD}:{deposit.currency}:deposit:{deposit.pk}"
                                       ).aggregate(s=Sum("amount_minor"))["s"] or 0
    return -total


def margin_balance(listing) -> int:
    """The seller's margin held for this listing (positive; 0 when none)."""
    total = JournalLine.objects.filter(account__kind=K.MARGIN_HELD, account__listing=listing).aggregate(
        s=Sum("amount_minor"))["s"] or 0
    return -total


def entries_unbalanced() -> list[tuple[int, str, int]]:
    """(entry id, currency, sum) of every entry of the tenant in context that does not balance."""
    rows = (JournalLine.objects.values("entry_id", "currency").annotate(total=Sum("amount_minor"))
            .exclude(total=0))
    return [(r["entry_id"], r["currency"], r["total"]) for r in rows]


def account_balances() -> list[dict]:
    """Balance of every account of the tenant in context: [{kind, key, currency, balance}]."""
    rows = (JournalLine.objects.values("account_id", "account__kind", "account__key", "currency")
            .annotate(balance=Sum("amount_minor")).order_by("account__kind", "account__key"))
    return [{"kind": r["account__kind"], "key": r["account__key"], "currency": r["currency"],
             "balance": r["balance"]} for r in rows]


def totals_by_kind() -> dict[tuple[str, str], int]:
    """{(account kind, currency): balance} of the tenant in context."""
    rows = JournalLine.objects.values("account__kind", "currency").annotate(balance=Sum("amount_minor"))
    return {(r["account__kind"], r["currency"]): r["balance"] for r in rows}


def order_statement(order) -> dict:
    """The money of one order, for the order page: what was paid, held, fees, paid out, refunded."""
    by: dict[tuple[str, str], int] = defaultdict(int)
    entries = list(order.journal_entries.all().prefetch_related("lines__account"))
    for entry in entries:
        for line in entry.lines.all():
            by[(entry.kind, line.account.kind)] += line.amount_minor
    return {
        "currency": order.currency,
        "paid": -by[("order_funded", K.ESCROW_HELD)],
        "held": escrow_balance(order),
        "fees": -by[("order_released", K.PLATFORM_FEES)] - by[("order_split", K.PLATFORM_FEES)],
        "paid_out": -by[("order_released", K.SELLER_PAYABLE)] - by[("order_split", K.SELLER_PAYABLE)],
        "refunded": by[("order_refunded", K.ESCROW_HELD)] - by[("order_split", K.REFUND_CLEARING)],
        "forfeited_margin": -by[("margin_forfeited", K.BUYER_PAYABLE)],
        "entries": entries,
    }
