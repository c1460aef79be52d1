"""Outbound webhooks: from a domain event to signed, retried, logged HTTP deliveries.

Signature header (same scheme as Stripe's): `X-Ipex-Signature: t=<unix ts>,v1=<hex>` where
`hex = HMAC-SHA256(endpoint secret, f"{t}.{raw body}")`. Receivers recompute it over the raw body
and refuse timestamps older than a few minutes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core.errors import ValidationFailed
from core.outbox import enqueue
from core.tenancy import require_tenant, tenant_context

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .urlsafety import check_webhook_url

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Ipex-Signature"
RETRY_FOR = dt.timedelta(days=1)
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3 * 3600
TIMEOUT_SECONDS = 5
LEASE_SECONDS = 60
EXCERPT_CHARS = 1000


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None) -> bool:
    """What a partner runs on its side (also documented in the README)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


def retry_delay(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, 4 min ... doubling, at most 3 h between attempts (~15 attempts in a day)."""
    return dt.timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


def encode(payload: dict) -> bytes:
    return json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False).encode()


def new_delivery(*, endpoint: WebhookEndpoint, event_id, event_type: str, payload: dict,
                 replay_of: WebhookDelivery | None = None) -> WebhookDelivery:
    now = timezone.now()
    return WebhookDelivery.objects.create(
        tenant=endpoint.tenant, endpoint=endpoint, event_id=event_id, event_type=event_type, payload=payload,
        next_attempt_at=now, give_up_at=now + RETRY_FOR, replay_of=replay_of,
    )


def endpoint_language(endpoint: WebhookEndpoint) -> str:
    """The endpoint's chosen language, else the exchange's default."""
    from django.conf import settings

    return endpoint.language or getattr(endpoint.tenant, "default_language", "") or settings.LANGUAGE_CODE


def in_language(data: dict, language: str) -> dict:
    """The event's data with its texts in `language`: each `<name>_i18n` (a stored
    `core.notifications.Message`, e.g. a right alert's `message_i18n`/`action_i18n`) rendered into
    `<name>`; `language` says which. Data without such texts is returned as it is."""
    from django.utils import translation

    from core.notifications import Message

    texts = {key[:-5]: value for key, value in data.items() if key.endswith("_i18n") and isinstance(value, dict)}
    if not texts:
        return data
    with translation.override(language):
        rendered = {key: str(Message.from_stored(value)) if value else data.get(key, "") for key, value in texts.items()}
    return {**data, **rendered, "language": language}


def on_domain_event(*, tenant, event: str, organization_ids, data: dict) -> None:
    """Receiver of `core.events.emit`: runs inside the caller's transaction; writes rows and
    queues delivery tasks that start after commit."""
    if not organization_ids:
        return
    endpoints = list(
        WebhookEndpoint.objects.unscoped()
        .filter(tenant=tenant, organization_id__in=organization_ids, is_active=True, event_types__contains=[event])
        .select_related("tenant").order_by("pk")
    )
    if not endpoints:
        return
    event_id = uuid.uuid4()
    created = timezone.now()
    for endpoint in endpoints:
        payload = {
            "id": str(event_id),
            "type": event,
            "created": created.isoformat().replace("+00:00", "Z"),
            "exchange": tenant.slug,
            "organization": endpoint.organization_id,
            "data": json.loads(encode(in_language(data, endpoint_language(endpoint)))),
        }
        delivery = new_delivery(endpoint=endpoint, event_id=event_id, event_type=event, payload=payload)
        enqueue("partners.tasks.deliver_webhook", delivery_id=delivery.pk, tenant_id=tenant.pk)


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Take a lease on a due delivery so two workers never send it at the same time."""
    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .update(next_attempt_at=now + dt.timedelta(seconds=LEASE_SECONDS))
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer (a failure), never followed: it could point inside our network."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str, str]:
    """POST and return (status code or None, body excerpt, error)."""
    check_webhook_url(url)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 (checked URL)
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, response.read(EXCERPT_CHARS * 4).decode("utf-8", "replace")[:EXCERPT_CHARS], ""
    except urllib.error.HTTPError as exc:
        text = exc.read(EXCERPT_CHARS * 4).decode("utf-8", "replace")[:EXCERPT_CHARS] if exc.fp else ""
        return exc.code, text, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, "", str(getattr(exc, "reason", exc))[:500]


def deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """One attempt (task body). Needs the tenant in context. Safe to run twice: the lease decides."""
    require_tenant()
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    body = encode(delivery.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "ipex-webhooks/1",
        "X-Ipex-Event": delivery.event_type,
        "X-Ipex-Event-Id": str(delivery.event_id),
        "X-Ipex-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: sign(endpoint.secret, body),
    }
    started = time.monotonic()
    if not endpoint.is_active:
        code, excerpt, error = None, "", "endpoint disabled"
    else:
        try:
            code, excerpt, error = _post(endpoint.url, body, headers)
        except ValidationFailed as exc:
            code, excerpt, error = None, "", str(exc.message)
    duration = int((time.monotonic() - started) * 1000)
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update(of=("self",)).get(pk=delivery.pk)
        WebhookAttempt.objects.create(tenant=delivery.tenant, delivery=delivery, attempted_at=now, response_code=code,
                                      response_excerpt=excerpt, error=error, duration_ms=duration)
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.response_code = code
        delivery.response_excerpt = excerpt
        delivery.last_error = error
        if code is not None and 200 <= code < 300:
            delivery.status = WebhookDelivery.Status.SUCCEEDED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        else:
            next_at = now + retry_delay(delivery.attempts)
            if next_at > delivery.give_up_at or not endpoint.is_active:
                delivery.status = WebhookDelivery.Status.FAILED
                delivery.next_attempt_at = None
            else:
                delivery.next_attempt_at = next_at
        delivery.save(update_fields=["attempts", "last_attempt_at", "response_code", "response_excerpt", "last_error",
                                     "status", "delivered_at", "next_attempt_at"])
    log.info("webhook %s → %s: %s %s", delivery.pk, endpoint.url, code, error or "ok")
    return delivery


def deliver_in_tenant(*, delivery_id: int, tenant_id: int) -> WebhookDelivery | None:
    """The body of the `partners.tasks.deliver_webhook` task (callable without Celery)."""
    with tenant_context(tenant_id):
        return deliver(delivery_id=delivery_id)
