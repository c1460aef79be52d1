"""The order life cycle: place, confirm, cancel, fund, complete (release), dispute, refund."""

from __future__ import annotations

from django.db import transaction


@transaction.atomic(durable=True)
def order_place(*, listing, buyer, terms_accepted: bool, payment_method: str = "", actor=None):
    """Buyer orders a published listing: contract terms accepted, fees snapshotted from the tenant,
    the listing reserved. The buyer must act for an organization that is not the seller's. Races:
    the listing row is locked and a partial unique constraint allows one live order per listing;
    losers get Conflict("Someone else ordered this a moment ago.")."""
    raise NotImplementedError


@transaction.atomic(durable=True)
def order_seller_confirm(*, order, actor):
    """A member of the seller's organization confirms the order; the buyer's payment deadline starts."""
    raise NotImplementedError


@transaction.atomic(durable=True)
def order_seller_decline(*, order, actor, reason: str = ""):
    """A member of the seller's organization declines: cancelled, listing released."""
    raise NotImplementedError


@transaction.atomic(durable=True)
def order_buyer_cancel(*, order, actor, reason: str = ""):
    """A member of the buyer's organization cancels before paying: cancelled, listing released."""
    raise NotImplementedError


@transaction.atomic(durable=True)
def order_expire(*, order):
    """Seller-confirm or payment deadline passed (called by the deadline worker): cancelled, listing
    released. No-op (returns the order) if the order moved on meanwhile or the deadline is not past."""
    raise NotImplementedError


@transaction.atomic(durable=True)
def order_confirm_certificate(*, order, actor):
    """The buyer confirms receipt of the certificate (transfer approved): completed, and the payout is
    released — seller paid price − commission, their margin returned, the platform keeps the fees;
    the listing is sold."""
    raise NotImplementedError


@transaction.atomic(durable=True)
def order_auto_confirm(*, order):
    """The inspection deadline passed: the platform confirms for the buyer (as order_confirm_certificate).
    No-op if the order is no longer awaiting the buyer's confirmation or the deadline is not past."""
    raise NotImplementedError


@transaction.atomic(durable=True)
def order_seller_default(*, order, reason: str):
    """The seller missed the signing/filing deadline after the buyer paid: the buyer is refunded in
    full and the seller's margin (if held) is forfeited to the buyer."""
    raise NotImplementedError


@transaction.atomic(durable=True)
def order_refund(*, order, actor, reason: str):
    """Refund the buyer through the provider the payment came from (staff, dispute resolution or the
    system when actor is None); the listing goes back to published."""
    raise NotImplementedError


@transaction.atomic(durable=True)
def order_staff_cancel(*, order, actor, reason: str):
    """Escrow staff cancel an order with a written reason: unfunded → cancelled; funded → refunded."""
    raise NotImplementedError


@transaction.atomic(durable=True)
def order_dispute_open(*, order, actor, reason: str, files=()):
    """Either party opens a dispute after funding, with a reason and evidence files (checked by content)."""
    raise NotImplementedError


@transaction.atomic(durable=True)
def order_dispute_resolve(*, order, actor, outcome: str, note: str):
    """Escrow staff resolve a dispute: outcome "refund" (buyer refunded) or "continue" (resume the trade)."""
    raise NotImplementedError
