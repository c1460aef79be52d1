"""API key authentication. The key decides the tenant: a key used on another exchange's host name is
refused (401), so a request never mixes one exchange's host with another exchange's data."""

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
            key = key_model.objects.get_from_key(raw)
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
