"""API key authentication. The key decides the tenant: a key used on another exchange's host name is
refused (401), so a request never mixes one exchange's host with another exchange's data."""

import hashlib
import hmac
import time
from typing import Any

from django.apps import apps
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

KEYWORDS = ("api-key", "bearer")


def key_from_request(request: Request) -> str | None:
    header = authentication.get_authorization_header(request).decode("latin-1").strip()
    if not header:
        return None
    keyword, _sep, value = header.partition(" ")
    if keyword.lower() not in KEYWORDS or not value.strip():
        raise exceptions.AuthenticationFailed(_("Send the key as 'Authorization: Api-Key <key>'."))
    return value.strip()


# prefix → (when read, SHA-256 of the whole key, the key with its tenant, organization and user), per process
_recent: dict[str, tuple[float, str, Any]] = {}
_RECENT_MAX = 5_000


def usable_key(key_model: Any, raw: str) -> Any:
    """The key for `raw` (raises `key_model.DoesNotExist`), kept in this process for
    `API_KEY_CACHE_SECONDS` so that a partner's burst of calls costs no query per call for its key.

    Only the whole key's SHA-256 is kept beside it, and a later call must present the same key. A key
    changed or revoked in this process is forgotten at once (`forget_key`, called on save); other
    processes see a revocation within `API_KEY_CACHE_SECONDS` (0 turns the cache off)."""
    ttl = getattr(settings, "API_KEY_CACHE_SECONDS", 0)
    if ttl <= 0:
        return key_model.objects.get_from_key(raw)
    prefix = raw.partition(".")[0]
    digest = hashlib.sha256(raw.encode()).hexdigest()
    now = time.monotonic()
    seen = _recent.get(prefix)
    if seen is not None and now - seen[0] < ttl and hmac.compare_digest(seen[1], digest):
        seen[2].service_user.__dict__.pop("_roles_cache", None)  # roles are read afresh per request
        return seen[2]
    key = key_model.objects.get_from_key(raw)
    if len(_recent) >= _RECENT_MAX:
        _recent.clear()
    _recent[prefix] = (now, digest, key)
    return key


def forget_key(prefix: str) -> None:
    _recent.pop(prefix, None)


class PartnerKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <prefix>.<secret>` (or `Bearer <key>`). Acts as the key's organization,
    through the key's service user; `request.auth` is the key.

    The key model is named by `settings.API_KEY_MODEL` (like AUTH_USER_MODEL): the library knows its
    interface (`objects.get_from_key`, `has_expired`, `tenant`, `service_user`, `touch()`), the partners
    app owns it."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        raw = key_from_request(request)
        if raw is None:
            return None
        key_model = apps.get_model(settings.API_KEY_MODEL)
        try:
            key = usable_key(key_model, raw)
        except key_model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("This API key is not valid (or was revoked).")) from None
        if key.has_expired:
            raise exceptions.AuthenticationFailed(_("This API key has expired."))
        if not key.tenant.is_active:
            raise exceptions.AuthenticationFailed(_("This API key is not valid (or was revoked)."))
        host_tenant = getattr(request._request, "tenant", None)
        if host_tenant is not None and host_tenant.pk != key.tenant_id:
            raise exceptions.AuthenticationFailed(
                _("This API key belongs to another exchange: call the API on that exchange's host name.")
            )
        key.touch()
        return key.service_user, key

    def authenticate_header(self, request: Any) -> str:
        return 'Api-Key realm="ipex"'
