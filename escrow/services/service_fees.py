"""Money for services outside an escrowed trade (trade extensions such as financing), through the same
ledger. NON-durable: the caller (a financing service) holds the transaction; each posting is one
balanced entry with an idempotency key, so a retried call writes nothing twice.

- `service_fee_charge`: the exchange charges an organization a fee it will pay outside the platform
  (e.g. for arranging a pledge loan whose money moves between bank and borrower): receivable / fees.
- `service_fee_settle`: finance records that the charged fee arrived (bank transfer): clearing / receivable.
- `service_escrow_hold`: a service's price paid into escrow (e.g. an appraisal fee): clearing / held.
- `service_escrow_release`: on delivery, the held money goes to the provider, minus the exchange's fee.
"""

from __future__ import annotations

from typing import Any

from escrow import ledger
from escrow.models import AccountKind as K
from escrow.models import JournalEntry


def service_fee_charge(*, payer: Any, amount_minor: int, currency: str, reference: str, memo: str = "",
                       actor: Any = None) -> JournalEntry | None:
    return ledger.post("service_fee_charged", [
        (ledger.account(K.RECEIVABLE, currency, organization=payer), amount_minor),
        (ledger.account(K.PLATFORM_FEES, currency), -amount_minor),
    ], memo=memo or reference, idempotency_key=f"service_fee_charged:{reference}", created_by=actor)


def service_fee_settle(*, payer: Any, amount_minor: int, currency: str, reference: str,
                       provider: str = "bank_transfer", actor: Any = None) -> JournalEntry | None:
    return ledger.post("service_fee_settled", [
        (ledger.account(K.PROVIDER_CLEARING, currency, provider=provider), amount_minor),
        (ledger.account(K.RECEIVABLE, currency, organization=payer), -amount_minor),
    ], memo=reference, idempotency_key=f"service_fee_settled:{reference}", created_by=actor)


def service_escrow_hold(*, reference: str, amount_minor: int, currency: str, provider: str = "simulated",
                        actor: Any = None) -> JournalEntry | None:
    return ledger.post("service_funded", [
        (ledger.account(K.PROVIDER_CLEARING, currency, provider=provider), amount_minor),
        (ledger.account(K.ESCROW_HELD, currency, service=reference), -amount_minor),
    ], memo=reference, idempotency_key=f"service_funded:{reference}", created_by=actor)


def service_escrow_release(*, reference: str, payee: Any, amount_minor: int, fee_minor: int, currency: str,
                           actor: Any = None) -> JournalEntry | None:
    return ledger.post("service_released", [
        (ledger.account(K.ESCROW_HELD, currency, service=reference), amount_minor),
        (ledger.account(K.SELLER_PAYABLE, currency, organization=payee), -(amount_minor - fee_minor)),
        (ledger.account(K.PLATFORM_FEES, currency), -fee_minor),
    ], memo=reference, idempotency_key=f"service_released:{reference}", created_by=actor)


def service_escrow_balance(*, reference: str, currency: str) -> int:
    """What the platform holds for this service (positive)."""
    return -ledger.balance(ledger.account(K.ESCROW_HELD, currency, service=reference))
