"""Bank transfer: the buyer gets instructions with a unique reference; finance staff record the
receipt in the admin (escrow.services.bank_transfer_record_receipt); payouts and refunds are paid by
finance from the bank and marked paid in the admin."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import PaymentProvider


def escrow_account(tenant, currency: str | None = None):
    """The exchange's active escrow bank account for `currency` (default: the exchange's), or None."""
    from escrow.models import EscrowBankAccount

    return (EscrowBankAccount.objects.unscoped()
            .filter(tenant=tenant, currency=currency or tenant.currency, is_active=True).first())


def bank_details(tenant, currency: str | None = None) -> dict | None:
    """What a payer needs to transfer to the exchange's escrow account; None when the exchange has no
    account for the currency (then bank transfer is not offered: never a placeholder account)."""
    account = escrow_account(tenant, currency)
    if account is None:
        return None
    return {"account_name": account.account_name, "bank": account.bank, "account_number": account.account_number,
            "swift": account.swift, "cnaps": account.cnaps, "reference_note": account.reference_note,
            "currency": account.currency}


class BankTransferProvider(PaymentProvider):
    name = "bank_transfer"
    label = _("Bank transfer")
    description = _("For large deals: transfer to the exchange's escrow account quoting the reference.")
    manual_disbursements = True

    def available(self, tenant=None, currency: str | None = None) -> bool:
        # only where the exchange has an escrow account in the payment's currency: never a placeholder
        return tenant is None or escrow_account(tenant, currency) is not None

    def checkout_url(self, payment, *, request=None) -> str:
        ref = payment.order.reference if payment.order_id else payment.reference
        return reverse("escrow:pay_bank", args=[ref]) + f"?payment={payment.reference}"

    def disburse(self, disbursement) -> str | None:
        return None  # finance pays from the bank and marks it paid in the admin
