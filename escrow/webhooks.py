"""The one webhook path every provider's events arrive through (the simulated provider's task too)."""

from __future__ import annotations

import logging

from core.models import Tenant
from core.tenancy import tenant_context

from .payments import WebhookRejected, get_provider

log = logging.getLogger(__name__)


def handle(provider_name: str, body: bytes, headers) -> tuple[int, dict]:
    """Verify and apply one provider event. Returns (HTTP status, JSON body): 400 for forged, stale,
    unsigned or malformed events; 200 with the outcome otherwise (duplicates included)."""
    from .services import payment_event_apply

    try:
        provider = get_provider(provider_name)
    except KeyError:
        return 404, {"error": "unknown provider"}
    try:
        event = provider.parse_webhook(body, headers)
    except WebhookRejected as exc:
        log.warning("webhook %s rejected: %s", provider_name, exc)
        return 400, {"error": str(exc)}
    if event.kind == "ignored" or event.tenant_id is None:
        return 200, {"status": "ignored"}
    tenant = Tenant.objects.filter(pk=event.tenant_id).first()
    if tenant is None:
        return 400, {"error": "unknown exchange"}
    if event.kind == "account.updated":
        from accounts.models import Organization
        from accounts.services import organization_set_stripe_account

        with tenant_context(tenant):
            org = Organization.objects.filter(stripe_account_id=event.data["account"]).first()
            if org is None:
                return 200, {"status": "ignored"}
            organization_set_stripe_account(organization=org, account_id=event.data["account"],
                                            payouts_enabled=event.data["payouts_enabled"])
        return 200, {"status": "payouts_enabled" if event.data["payouts_enabled"] else "payouts_disabled"}
    with tenant_context(tenant):
        outcome = payment_event_apply(provider=provider_name, event_id=event.event_id, kind=event.kind,
                                      payment_id=event.payment_id, provider_ref=event.provider_ref,
                                      amount_minor=event.amount_minor, currency=event.currency, reason=event.reason,
                                      data=event.data)
    return 200, {"status": outcome}
