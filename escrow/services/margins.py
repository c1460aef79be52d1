"""The seller's margin (deposit) on a listing: paid, held, returned or forfeited."""

from __future__ import annotations

from django.db import transaction


def margin_amount_for(listing) -> int:
    """Minor units the tenant requires as margin for `listing` (0 = none)."""
    from escrow.fees import margin_amount

    return margin_amount(tenant=listing.tenant, price_minor=listing.price_minor)


@transaction.atomic(durable=True)
def margin_pay_start(*, listing, actor, provider: str):
    """The seller starts paying the margin of a listing awaiting margin; returns the Payment."""
    raise NotImplementedError


def margin_return(*, listing, actor=None, reason: str = ""):
    """NON-durable (the listings engineer calls it inside listing_withdraw, listing locked): return the
    held margin to the seller. No-op if none is held."""
    raise NotImplementedError


def margin_forfeit(*, listing, order, reason: str = ""):
    """NON-durable: forfeit the held margin to the buyer of `order` (seller default). No-op if none."""
    raise NotImplementedError
