"""Payments in (buyer pays, seller pays margin) and disbursements out (refunds, payouts)."""

from __future__ import annotations

from django.db import transaction


@transaction.atomic(durable=True)
def payment_start(*, order, actor, provider: str):
    """The buyer starts paying a seller-confirmed order with `provider`; returns (payment, next_url)."""
    raise NotImplementedError


@transaction.atomic(durable=True)
def payment_event_apply(*, provider: str, event_id: str, kind: str, payment_id: int | None = None,
                        provider_ref: str = "", amount_minor: int | None = None, currency: str = "",
                        data: dict | None = None):
    """Apply one verified provider event exactly once (table of processed event ids)."""
    raise NotImplementedError


@transaction.atomic(durable=True)
def bank_transfer_record_receipt(*, payment, actor, amount_minor: int, bank_reference: str = ""):
    """Finance staff record a bank transfer received for a payment; mismatched amounts are refused."""
    raise NotImplementedError


def disbursement_execute(*, disbursement_id: int):
    """Send one refund/payout through its provider (task; idempotent)."""
    raise NotImplementedError
