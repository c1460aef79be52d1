"""Payment providers behind one interface (DESIGN section 4).

- `simulated` (the embedded default): a payment page on our own site; the outcome reaches the order
  asynchronously through the same webhook endpoint a real provider uses (a Celery task delivers the
  signed event). Failures can be switched on by settings (ESCROW_SIMULATED_FAIL_PAYMENTS,
  ESCROW_SIMULATED_FAIL_DISBURSEMENTS).
- `stripe`: PaymentIntent charged to the platform through Stripe Checkout, transfer_group = order
  reference; Transfer to the seller's connected account on release; Refund on refund. Offered only
  when STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are set.
- `bank_transfer`: instructions with a unique reference; finance staff record the receipt in the admin.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class WebhookRejected(Exception):
    """Forged, stale, unsigned or malformed provider event: answered with 400."""


@dataclass
class ProviderEvent:
    event_id: str
    kind: str  # payment.succeeded | payment.failed | ignored
    tenant_id: int | None = None
    payment_id: int | None = None
    provider_ref: str = ""
    amount_minor: int | None = None
    currency: str = ""
    reason: str = ""
    data: dict = field(default_factory=dict)


class PaymentProvider:
    name = ""
    label = ""
    description = ""
    manual_disbursements = False

    def available(self, tenant=None, currency: str | None = None) -> bool:
        """Offered on `tenant` (None: anywhere) for a payment in `currency` (None: the exchange's)."""
        return True

    def checkout_url(self, payment, *, request=None) -> str:
        """Where to send the payer. May call the provider (never inside a transaction)."""
        raise NotImplementedError

    def parse_webhook(self, body: bytes, headers) -> ProviderEvent:
        raise WebhookRejected("this provider sends no webhooks")

    def disburse(self, disbursement) -> str | None:
        """Send a refund or payout; returns the provider's id, None when staff pay it by hand.
        Raises core.errors.GatewayError on failure (retried later)."""
        raise NotImplementedError


def registry() -> dict[str, PaymentProvider]:
    from .bank_transfer import BankTransferProvider
    from .simulated import SimulatedProvider
    from .stripe_provider import StripeProvider

    return {p.name: p for p in (SimulatedProvider(), StripeProvider(), BankTransferProvider())}


def get_provider(name: str) -> PaymentProvider:
    try:
        return registry()[name]
    except KeyError:
        raise KeyError(f"unknown payment provider {name!r}") from None


def available_providers(tenant=None, currency: str | None = None) -> list[PaymentProvider]:
    return [p for p in registry().values() if p.available(tenant, currency=currency)]
