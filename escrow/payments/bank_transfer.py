"""Bank transfer: the buyer gets instructions with a unique reference; finance staff record the
receipt in the admin (escrow.services.bank_transfer_record_receipt); payouts and refunds are paid by
finance from the bank and marked paid in the admin."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import PaymentProvider


def bank_details(tenant) -> dict:
    configured = getattr(settings, "ESCROW_BANK_ACCOUNT", None) or {}
    return {
        "account_name": configured.get("account_name") or f"{tenant.display_name()} — escrow account",
        "bank": configured.get("bank") or "Bank of China, Beijing Zhongguancun Branch",
        "account_number": configured.get("account_number") or "3301 0000 4488 1207 66",
        "swift": configured.get("swift") or "BKCHCNBJ110",
    }


class BankTransferProvider(PaymentProvider):
    name = "bank_transfer"
    label = _("Bank transfer")
    description = _("For large deals: transfer to the exchange's escrow account quoting the reference.")
    manual_disbursements = True

    def checkout_url(self, payment, *, request=None) -> str:
        ref = payment.order.reference if payment.order_id else payment.reference
        return reverse("escrow:pay_bank", args=[ref]) + f"?payment={payment.reference}"

    def disburse(self, disbursement) -> str | None:
        return None  # finance pays from the bank and marks it paid in the admin
