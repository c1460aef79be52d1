"""The client's address as our own proxies saw it.

`TRUSTED_PROXY_COUNT` says how many reverse proxies in front of the site are ours (README: 1, the TLS
proxy). Each appends the address it received from to X-Forwarded-For, so the client is the entry that
many places from the right; anything further left was written by the client and is not trusted. With
0 proxies (or no header) it is REMOTE_ADDR. Used by login throttling (axes) and wherever an IP is
recorded (signatures)."""

from ipaddress import ip_address

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    remote = request.META.get("REMOTE_ADDR") or None
    if count <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(chain) < count:
        return remote
    candidate = chain[-count]
    try:
        return str(ip_address(candidate))
    except ValueError:
        return remote
