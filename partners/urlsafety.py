"""Webhook URLs are chosen by partners: refuse ones that would make the platform call its own network.

`WEBHOOK_ALLOW_PRIVATE_HOSTS` (settings, env) lifts the check for development and tests, where the
receiver runs on 127.0.0.1. The check runs when an endpoint is saved and again before each delivery
(the name may resolve elsewhere by then).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import ValidationFailed


def _fail(message):
    raise ValidationFailed(message, field_errors={"url": [message]})


def check_webhook_url(url: str, *, resolve: bool = True) -> None:
    allow_private = getattr(settings, "WEBHOOK_ALLOW_PRIVATE_HOSTS", False)
    try:
        parts = urlsplit(url or "")
        port = parts.port
    except ValueError:
        _fail(_("Enter a valid URL."))
    if parts.scheme not in ("https", "http") or not parts.hostname:
        _fail(_("Enter a valid http(s) URL."))
    if parts.scheme == "http" and not allow_private:
        _fail(_("Webhook URLs must use https."))
    if parts.username or parts.password:
        _fail(_("Do not put credentials in the URL."))
    if allow_private or not resolve:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        _fail(_("The host name of this URL does not resolve."))
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            _fail(_("Webhook URLs must point to a public address."))
