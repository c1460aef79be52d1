"""Money for services outside an escrowed trade (trade extensions such as financing), through the same
ledger. NON-durable: the caller (a financing service) holds the transaction; each posting is one
balanced entry with an idempotency key, so a retried call writes nothing twice.

- `service_fee_charge`: the exchange charges an organization a fee it will pay outside the platform
  (e.g. for arranging a pledge loan whose money moves between bank and borrower): receivable / fees.
- `service_fee_settle`: finance records that the charged fee arrived (bank transfer): clearing / receivable.
(A service's price held in escrow until the service is delivered — an appraisal fee — goes through the
payment gateway as a `Deposit`: deposits.deposit_pay_start / deposit_pay_out / deposit_return.)
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
