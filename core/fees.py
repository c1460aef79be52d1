"""The seller's side of a tenant's fee schedule, shared by the listing pages (what a seller will receive)
and escrow's quotes (what an order snapshots): one rule, two readers."""

from __future__ import annotations

from typing import Any

from core.money import Money


def seller_commission_minor(*, tenant: Any, price_minor: int, currency: str) -> int:
    """Basis points of the price, at least the tenant's minimum fee (when the basis points are not zero),
    never above the price."""
    commission = Money(int(price_minor), currency).bps(tenant.seller_commission_bps).amount
    minimum = int(tenant.min_fee_minor or 0)
    if tenant.seller_commission_bps and commission < minimum:
        commission = minimum
    return min(commission, int(price_minor))


def seller_margin_minor(*, tenant: Any, price_minor: int, currency: str) -> int:
    """The margin (deposit) a listing of this price needs before publication: the tenant's fixed amount
    when above zero, else basis points of the price; 0 = none (the rule escrow holds the margin by)."""
    if tenant.margin_fixed_minor and tenant.margin_fixed_minor > 0:
        return int(tenant.margin_fixed_minor)
    if tenant.margin_bps:
        return Money(int(price_minor), currency).bps(tenant.margin_bps).amount
    return 0
