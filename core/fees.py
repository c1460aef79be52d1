"""The seller's side of a tenant's fee schedule, shared by the listing pages (what a seller will receive)
and escrow's quotes (what an order snapshots): one rule, two readers."""

from __future__ import annotations

from core.money import Money


def seller_commission_minor(*, tenant, price_minor: int, currency: str) -> int:
    """Basis points of the price, at least the tenant's minimum fee (when the basis points are not zero),
    never above the price."""
    commission = Money(int(price_minor), currency).bps(tenant.seller_commission_bps).amount
    minimum = int(tenant.min_fee_minor or 0)
    if tenant.seller_commission_bps and commission < minimum:
        commission = minimum
    return min(commission, int(price_minor))
