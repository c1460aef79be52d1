"""Writes of the partners app: keys, webhook endpoints, idempotency records."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, Role, TenantRole, User
from core.audit import audit_record
from core.errors import NotAllowed, NotFound, ValidationFailed
from core.outbox import enqueue
from core.tenancy import require_tenant

from .models import PartnerAPIKey, Scope, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .urlsafety import check_webhook_url

SERVICE_USER_DOMAIN = "keys.ipex.invalid"
# What each scope lets the key's service user do in the services' own role checks.
SCOPE_ROLES = {Scope.LISTINGS: Role.SELLER, Scope.ORDERS: Role.BUYER}


def _clean_scopes(scopes) -> list[str]:
    values = sorted({str(s).strip() for s in scopes if str(s).strip()})
    unknown = [s for s in values if s not in Scope.values]
    if not values or unknown:
        raise ValidationFailed(
            _("Choose scopes among: %(scopes)s.") % {"scopes": ", ".join(Scope.values)},
            field_errors={"scopes": [_("Unknown scope: %(s)s") % {"s": s} for s in unknown] or [_("Required.")]},
        )
    return values


def _sync_roles(key: PartnerAPIKey) -> None:
    wanted = {SCOPE_ROLES[s] for s in key.scopes if s in SCOPE_ROLES}
    TenantRole.objects.filter(user=key.service_user).exclude(role__in=wanted).delete()
    for role in wanted:
        TenantRole.objects.get_or_create(user=key.service_user, role=role)


@transaction.atomic
def api_key_issue(*, organization: Organization, name: str, scopes, expiry_date=None, actor=None
                  ) -> tuple[PartnerAPIKey, str]:
    """Issue a key for `organization`. Returns the key row and the secret, which is never shown again."""
    tenant = require_tenant()
    if organization.tenant_id != tenant.pk:
        raise NotFound(_("No such organization."))
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Give the key a name."), field_errors={"name": [_("Required.")]})
    if expiry_date is not None and expiry_date <= timezone.now():
        raise ValidationFailed(_("The expiry must be in the future."), field_errors={"expiry_date": [_("In the past.")]})
    key = PartnerAPIKey(tenant=tenant, organization=organization, name=name[:50], scopes=_clean_scopes(scopes),
                        expiry_date=expiry_date, created_by=actor if getattr(actor, "pk", None) else None)
    secret = PartnerAPIKey.objects.assign_key(key)
    user = User.objects.create_user(
        email=f"api-{key.prefix.lower()}-{uuid.uuid4().hex[:8]}@{SERVICE_USER_DOMAIN}", password=None,
        full_name=f"{organization.legal_name} · API {key.name}"[:150], language="en",
    )
    # Never logs in (no usable password, inactive) and, being inactive, is left out of the people the
    # services notify by email: the partner hears about its organization's events through webhooks.
    user.set_unusable_password()
    user.is_active = False
    user.save(update_fields=["password", "is_active"])
    key.service_user = user
    key.save()
    Membership.objects.create(tenant=tenant, user=user, organization=organization, is_admin=False, is_default=True)
    _sync_roles(key)
    # Audited on the organization (a key's pk contains its hash; the prefix names it).
    audit_record(actor=actor, action="api_key.issued", obj=organization, tenant=tenant,
                 data={"prefix": key.prefix, "name": key.name, "scopes": key.scopes})
    return key, secret


@transaction.atomic
def api_key_update(*, key: PartnerAPIKey, name=None, scopes=None, expiry_date=..., actor=None) -> PartnerAPIKey:
    if key.revoked:
        raise NotAllowed(_("A revoked key cannot be changed."))
    if name is not None:
        key.name = name.strip()[:50] or key.name
    if scopes is not None:
        key.scopes = _clean_scopes(scopes)
    if expiry_date is not ...:
        key.expiry_date = expiry_date
    key.save(update_fields=["name", "scopes", "expiry_date"])
    _sync_roles(key)
    audit_record(actor=actor, action="api_key.changed", obj=key.organization, tenant=key.tenant,
                 data={"prefix": key.prefix, "scopes": key.scopes})
    return key


@transaction.atomic
def api_key_revoke(*, key: PartnerAPIKey, actor=None, reason: str = "") -> PartnerAPIKey:
    key = PartnerAPIKey.objects.select_for_update(of=("self",)).get(pk=key.pk)
    if key.revoked:
        return key
    key.revoked = True
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked", "revoked_at"])
    audit_record(actor=actor, action="api_key.revoked", obj=key.organization, tenant=key.tenant, reason=reason,
                 data={"prefix": key.prefix})
    return key


# --- webhook endpoints ------------------------------------------------------------------------

def _clean_events(event_types) -> list[str]:
    values = sorted({str(e) for e in (event_types or [])})
    unknown = [e for e in values if e not in WebhookEvent.values]
    if not values or unknown:
        raise ValidationFailed(
            _("Choose events among: %(events)s.") % {"events": ", ".join(WebhookEvent.values)},
            field_errors={"event_types": [_("Unknown event: %(e)s") % {"e": e} for e in unknown] or [_("Required.")]},
        )
    return values


@transaction.atomic
def _clean_language(language: str) -> str:
    from django.conf import settings

    if language and language not in dict(settings.LANGUAGES):
        raise ValidationFailed(_("Choose a language from the list."), field_errors={"language": [
            _("Unknown language: %(l)s") % {"l": language}]})
    return language or ""


@transaction.atomic
def webhook_endpoint_create(*, organization: Organization, url: str, event_types, description: str = "",
                            api_key: PartnerAPIKey | None = None, language: str = "") -> WebhookEndpoint:
    check_webhook_url(url)
    endpoint = WebhookEndpoint.objects.create(
        organization=organization, url=url, event_types=_clean_events(event_types),
        description=description[:200], created_by_key=api_key, language=_clean_language(language),
    )
    audit_record(actor_label=f"api-key:{api_key.prefix}" if api_key else "", action="webhook_endpoint.created",
                 obj=endpoint, data={"url": url, "events": endpoint.event_types, "language": endpoint.language})
    return endpoint


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, url=None, event_types=None, description=None,
                            is_active=None, language=None) -> WebhookEndpoint:
    if url is not None:
        check_webhook_url(url)
        endpoint.url = url
    if event_types is not None:
        endpoint.event_types = _clean_events(event_types)
    if description is not None:
        endpoint.description = description[:200]
    if is_active is not None:
        endpoint.is_active = is_active
    if language is not None:
        endpoint.language = _clean_language(language)
    endpoint.save(update_fields=["url", "event_types", "description", "is_active", "language"])
    audit_record(action="webhook_endpoint.changed", obj=endpoint,
                 data={"url": endpoint.url, "events": endpoint.event_types, "active": endpoint.is_active,
                       "language": endpoint.language})
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    from .models import _new_secret

    endpoint.secret = _new_secret()
    endpoint.save(update_fields=["secret"])
    audit_record(action="webhook_endpoint.secret_rotated", obj=endpoint)
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    audit_record(action="webhook_endpoint.deleted", obj=endpoint, data={"url": endpoint.url})
    endpoint.delete()


@transaction.atomic
def webhook_delivery_replay(*, delivery: WebhookDelivery, actor=None) -> WebhookDelivery:
    """Send an event again (from the admin): a new delivery with the same event id and payload."""
    from .webhooks import new_delivery

    replay = new_delivery(endpoint=delivery.endpoint, event_id=delivery.event_id, event_type=delivery.event_type,
                          payload=delivery.payload, replay_of=delivery)
    audit_record(actor=actor, action="webhook_delivery.replayed", obj=delivery, data={"replay": replay.pk})
    enqueue("partners.tasks.deliver_webhook", delivery_id=replay.pk, tenant_id=replay.tenant_id)
    return replay


def due_webhook_deliveries(limit: int = 500):
    """(tenant_id, delivery_id) of deliveries whose next attempt is due, across tenants (beat sweeper)."""
    return list(
        WebhookDelivery.objects.unscoped()
        .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at").values_list("tenant_id", "pk")[:limit]
    )
