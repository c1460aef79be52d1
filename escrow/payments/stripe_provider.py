"""Stripe: separate charges and transfers. The buyer pays the platform through Stripe Checkout (a
PaymentIntent with transfer_group = t<tenant id>-<order reference>); the money stays in the platform balance; on
release a Transfer goes to the seller's connected account; refunds through Refund. Webhooks are
verified with STRIPE_WEBHOOK_SECRET; idempotency keys come from our own ids."""

from __future__ import annotations

import json
import os

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.errors import GatewayError

from . import PaymentProvider, ProviderEvent, WebhookRejected

# Tests replace this with a stripe.HTTPClient that never touches the network.
HTTP_CLIENT = None
TOLERANCE_SECONDS = 300


def _setting(name: str) -> str:
    return getattr(settings, name, "") or os.environ.get(name, "")


def client():
    import stripe

    return stripe.StripeClient(_setting("STRIPE_SECRET_KEY"), http_client=HTTP_CLIENT, max_network_retries=2)


class StripeProvider(PaymentProvider):
    name = "stripe"
    label = _("Card (Stripe)")
    description = _("Pay by card through Stripe; the money is held in the platform's account.")

    def available(self, tenant=None, currency: str | None = None) -> bool:
        return bool(_setting("STRIPE_SECRET_KEY") and _setting("STRIPE_WEBHOOK_SECRET"))

    def checkout_url(self, payment, *, request=None) -> str:
        import stripe

        order = payment.order
        # references are numbered per exchange: the tenant keeps groups of exchanges apart on one platform account
        group = f"t{payment.tenant_id}-{order.reference if order else payment.reference}"
        deposit = payment.deposit if payment.deposit_id else None
        if order:
            name, back = order.listing.title, order.get_absolute_url()
        elif deposit is not None:  # a deposit or a service's fee held in escrow (e.g. an appraisal)
            name, back = deposit.description or deposit.subject, deposit.back_url or "/"
        else:
            name, back = payment.listing.title, "/"
        name = name[:200]
        base = request.build_absolute_uri(back) if request else back
        metadata = {"tenant_id": str(payment.tenant_id), "payment_id": str(payment.pk), "reference": payment.reference}
        try:
            session = client().v1.checkout.sessions.create(
                params={
                    "mode": "payment",
                    "client_reference_id": payment.reference,
                    "line_items": [{"quantity": 1, "price_data": {
                        "currency": payment.currency.lower(), "unit_amount": payment.amount_minor,
                        "product_data": {"name": name}}}],
                    "payment_intent_data": {"transfer_group": group, "metadata": metadata},
                    "metadata": metadata,
                    "success_url": base + "?paid=1",
                    "cancel_url": base,
                },
                options={"idempotency_key": f"ipex-checkout-{payment.tenant_id}-{payment.pk}"},
            )
        except stripe.StripeError as exc:
            raise GatewayError(_("Stripe is not reachable right now; please try again.")) from exc
        return session.url

    def connect_onboarding_url(self, organization, *, return_url: str, refresh_url: str, email: str = "") -> str:
        """Stripe Connect onboarding for a seller: an Express account (created once, idempotently per
        organization), then a single-use Account Link. Returns the URL to send the seller to."""
        import uuid

        import stripe

        from accounts.services import organization_set_stripe_account

        account_id = organization.stripe_account_id
        try:
            if not account_id:
                account = client().v1.accounts.create(
                    params={"type": "express", "country": organization.country or "US",
                            **({"email": email} if email else {}),
                            "business_profile": {"name": organization.legal_name_en or organization.legal_name},
                            "capabilities": {"transfers": {"requested": True}},
                            "metadata": {"tenant_id": str(organization.tenant_id),
                                         "organization_id": str(organization.pk)}},
                    options={"idempotency_key": f"ipex-connect-account-{organization.tenant_id}-{organization.pk}"})
                account_id = account.id
                organization_set_stripe_account(organization=organization, account_id=account_id,
                                                payouts_enabled=bool(getattr(account, "payouts_enabled", False)))
            link = client().v1.account_links.create(
                params={"account": account_id, "type": "account_onboarding", "return_url": return_url,
                        "refresh_url": refresh_url},
                options={"idempotency_key": f"ipex-connect-link-{organization.pk}-{uuid.uuid4().hex}"})
        except stripe.StripeError as exc:
            raise GatewayError(_("Stripe is not reachable right now; please try again.")) from exc
        return str(link.url)

    def parse_webhook(self, body: bytes, headers) -> ProviderEvent:
        import stripe

        signature = headers.get("Stripe-Signature") or headers.get("HTTP_STRIPE_SIGNATURE")
        if not signature:
            raise WebhookRejected("unsigned event")
        payload = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
        try:
            stripe.WebhookSignature.verify_header(payload, signature, _setting("STRIPE_WEBHOOK_SECRET"),
                                                  tolerance=TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError as exc:
            raise WebhookRejected(f"bad signature: {exc.user_message or exc}") from None
        try:
            event = json.loads(payload)
            obj = event["data"]["object"]
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected("malformed event") from None
        metadata = obj.get("metadata") or {}
        if event["type"] == "account.updated":  # a connected account: can it receive payouts now?
            if "tenant_id" not in metadata:
                return ProviderEvent(event_id=event["id"], kind="ignored", data={"type": event["type"]})
            return ProviderEvent(event_id=event["id"], kind="account.updated", tenant_id=int(metadata["tenant_id"]),
                                 provider_ref=obj.get("id", ""),
                                 data={"type": event["type"], "account": obj.get("id", ""),
                                       "payouts_enabled": bool(obj.get("payouts_enabled"))})
        kind = {"payment_intent.succeeded": "payment.succeeded",
                "payment_intent.payment_failed": "payment.failed"}.get(event["type"], "ignored")
        if kind == "ignored" or "payment_id" not in metadata:
            return ProviderEvent(event_id=event["id"], kind="ignored", data={"type": event["type"]})
        error = obj.get("last_payment_error") or {}
        return ProviderEvent(
            event_id=event["id"], kind=kind, tenant_id=int(metadata["tenant_id"]), payment_id=int(metadata["payment_id"]),
            provider_ref=obj.get("id", ""), amount_minor=obj.get("amount_received") or obj.get("amount"),
            currency=(obj.get("currency") or "").upper(), reason=error.get("message", "") if error else "",
            data={"type": event["type"]},
        )

    def disburse(self, disbursement) -> str | None:
        import stripe

        options = {"idempotency_key": disbursement.idempotency_key}
        try:
            if disbursement.kind == "refund":
                refund = client().v1.refunds.create(
                    params={"payment_intent": disbursement.payment.provider_ref, "amount": disbursement.amount_minor,
                            "metadata": {"disbursement_id": str(disbursement.pk)}},
                    options=options)
                return refund.id
            destination = disbursement.recipient_org.stripe_account_id
            if not destination:
                raise GatewayError(_("%(org)s has not connected a Stripe account for payouts yet.")
                                   % {"org": disbursement.recipient_org})
            group = (f"t{disbursement.tenant_id}-{disbursement.order.reference}" if disbursement.order_id
                     else f"t{disbursement.tenant_id}-listing-{disbursement.listing_id}")
            transfer = client().v1.transfers.create(
                params={"amount": disbursement.amount_minor, "currency": disbursement.currency.lower(),
                        "destination": destination, "transfer_group": group,
                        "metadata": {"disbursement_id": str(disbursement.pk)}},
                options=options)
            return transfer.id
        except stripe.StripeError as exc:
            raise GatewayError(str(exc.user_message or exc)[:300]) from exc
