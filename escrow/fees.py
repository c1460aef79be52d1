"""Fees from the tenant's schedule, snapshotted on the order when placed (DESIGN section 3)."""

from __future__ import annotations

from dataclasses import dataclass

from core.fees import seller_commission_minor
from core.money import Money


@dataclass(frozen=True)
class FeeQuote:
    currency: str
    price_minor: int
    buyer_fee_minor: int
    seller_commission_minor: int
    buyer_fee_bps: int
    seller_commission_bps: int
    min_fee_minor: int

    @property
    def total_minor(self) -> int:
        return self.price_minor + self.buyer_fee_minor

    @property
    def payout_minor(self) -> int:
        return self.price_minor - self.seller_commission_minor

    @property
    def platform_minor(self) -> int:
        return self.buyer_fee_minor + self.seller_commission_minor


def quote(*, tenant, price_minor: int, currency: str) -> FeeQuote:
    """Buyer fee and seller commission for a price: basis points of the price, each at least the
    tenant's minimum fee (when the basis points are not zero), the commission never above the price."""
    price = Money(int(price_minor), currency)
    buyer_fee = price.bps(tenant.buyer_fee_bps).amount
    minimum = int(tenant.min_fee_minor or 0)
    if tenant.buyer_fee_bps and buyer_fee < minimum:
        buyer_fee = minimum
    commission = seller_commission_minor(tenant=tenant, price_minor=price_minor, currency=currency)
    return FeeQuote(currency=currency, price_minor=int(price_minor), buyer_fee_minor=buyer_fee,
                    seller_commission_minor=commission, buyer_fee_bps=tenant.buyer_fee_bps,
                    seller_commission_bps=tenant.seller_commission_bps, min_fee_minor=minimum)


def quote_listing(listing) -> FeeQuote:
    return quote(tenant=listing.tenant, price_minor=listing.price_minor, currency=listing.currency)


def snapshot_onto(order, q: FeeQuote) -> None:
    """Copy a quote onto an order being placed."""
    order.currency = q.currency
    order.price_minor = q.price_minor
    order.buyer_fee_minor = q.buyer_fee_minor
    order.seller_commission_minor = q.seller_commission_minor
    order.buyer_fee_bps = q.buyer_fee_bps
    order.seller_commission_bps = q.seller_commission_bps
    order.min_fee_minor = q.min_fee_minor
