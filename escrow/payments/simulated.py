"""The embedded payment provider: behaves like a real one (own payment page, signed asynchronous
webhooks, refunds and payouts that can fail) with no account anywhere."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.errors import GatewayError

from . import PaymentProvider, ProviderEvent, WebhookRejected

HEADER = "X-Simulated-Signature"
TOLERANCE_SECONDS = 300


def secret() -> str | None:
    """The installation's own webhook secret: ESCROW_SIMULATED_WEBHOOK_SECRET (`make run` generates one
    into .local/secrets.env on first start), else one derived from a SECRET_KEY that is not the
    repository's public development default. Without either there is no secret: nothing is signed or
    accepted (a signature made from a value in the repository must never mark an order funded)."""
    configured = getattr(settings, "ESCROW_SIMULATED_WEBHOOK_SECRET", "")
    if configured:
        return configured
    if settings.SECRET_KEY and settings.SECRET_KEY != getattr(settings, "PUBLIC_DEVELOPMENT_SECRET_KEY", None):
        return hashlib.sha256(f"simulated-webhook:{settings.SECRET_KEY}".encode()).hexdigest()
    return None


def sign(body: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    key = secret()
    if key is None:
        raise GatewayError(_("The simulated provider has no webhook secret: start the site with `make run` "
                             "or set ESCROW_SIMULATED_WEBHOOK_SECRET."))
    mac = hmac.new(key.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def build_event(payment, *, approved: bool, reason: str = "") -> str:
    fail = getattr(settings, "ESCROW_SIMULATED_FAIL_PAYMENTS", False)
    ok = approved and not fail
    if approved and fail:
        reason = "card_declined (simulated failure switched on)"
    body = {
        # one id per payment and outcome: a redelivered event (sweeper, broker) is applied once
        "id": f"evt_sim_{payment.pk}_{'succeeded' if ok else 'failed'}",
        "type": "payment.succeeded" if ok else "payment.failed",
        "created": int(time.time()),
        "data": {"tenant_id": payment.tenant_id, "payment_id": payment.pk, "reference": payment.reference,
                 "amount_minor": payment.amount_minor, "currency": payment.currency,
                 "provider_ref": f"sim_pay_{payment.pk}", "reason": reason},
    }
    return json.dumps(body, sort_keys=True)


class SimulatedProvider(PaymentProvider):
    name = "simulated"
    label = _("Online payment (simulated)")
    description = _("Pay on the exchange's own payment page; the money is held by the platform.")

    def available(self, tenant=None, currency: str | None = None) -> bool:
        # The payer approves their own payment here: never offered where real money is taken.
        return bool(getattr(settings, "ESCROW_SIMULATED_PAYMENTS", False))

    def checkout_url(self, payment, *, request=None) -> str:
        ref = payment.order.reference if payment.order_id else payment.reference
        return reverse("escrow:pay_simulated", args=[ref]) + f"?payment={payment.reference}"

    def parse_webhook(self, body: bytes, headers) -> ProviderEvent:
        if not self.available():
            raise WebhookRejected("simulated payments are switched off")
        header = headers.get(HEADER) or headers.get("HTTP_X_SIMULATED_SIGNATURE") or ""
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        if not parts.get("t") or not parts.get("v1"):
            raise WebhookRejected("unsigned event")
        try:
            timestamp = int(parts["t"])
        except ValueError:
            raise WebhookRejected("bad timestamp") from None
        text = body.decode("utf-8", errors="replace")
        if secret() is None:
            raise WebhookRejected("no webhook secret configured for this installation")
        expected = sign(text, timestamp).split("v1=", 1)[1]
        if not hmac.compare_digest(expected, parts["v1"]):
            raise WebhookRejected("signature does not match")
        if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
            raise WebhookRejected("stale event")
        try:
            event = json.loads(text)
            data = event["data"]
            return ProviderEvent(event_id=event["id"], kind=event["type"], tenant_id=int(data["tenant_id"]),
                                 payment_id=int(data["payment_id"]), provider_ref=data.get("provider_ref", ""),
                                 amount_minor=data.get("amount_minor"), currency=data.get("currency", ""),
                                 reason=data.get("reason", ""), data=event)
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected("malformed event") from None

    def disburse(self, disbursement) -> str | None:
        if getattr(settings, "ESCROW_SIMULATED_FAIL_DISBURSEMENTS", False):
            raise GatewayError(_("The simulated provider refused the transfer (failure switched on)."))
        return f"sim_{disbursement.kind}_{disbursement.pk}"


def deliver(body: str) -> int:
    """Sign the event and deliver it through the webhook path — by HTTP when
    ESCROW_SIMULATED_WEBHOOK_URL is set (e.g. http://localhost:8000/orders/webhooks/simulated/), else
    by calling the same handler the webhook view calls. Returns the HTTP status."""
    import logging
    import urllib.request

    from escrow.webhooks import handle

    header = sign(body)
    url = getattr(settings, "ESCROW_SIMULATED_WEBHOOK_URL", "")
    if url:
        request = urllib.request.Request(url, data=body.encode(), method="POST",  # noqa: S310 (our own URL)
                                         headers={"Content-Type": "application/json", HEADER: header})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    status, result = handle("simulated", body.encode(), {HEADER: header})
    logging.getLogger(__name__).info("simulated event %s → %s %s", json.loads(body)["id"], status, result)
    return status
