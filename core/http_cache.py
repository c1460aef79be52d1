"""Public pages a shared cache (nginx, a CDN) may keep.

A view decorated with `public_page(s_maxage=...)` marks its response; `PublicCacheMiddleware` (listed
before SessionMiddleware, so it sees the response after the session, CSRF and locale middleware) then
decides: a GET answered 200 to an anonymous visitor that sets no cookie is
`Cache-Control: public, max-age=<browser>, s-maxage=<shared>` with `Cookie` dropped from `Vary` (the
language still varies: `Accept-Language`, and the proxy keys on the language cookie, see
deploy/nginx.conf); anything else (a signed-in user, a message shown, a cookie set) is
`private, no-cache`. Pages for signed-in people are never marked and keep Django's defaults.

The same copy is also kept in the application's cache (Redis in production) for
min(s-maxage, settings.PUBLIC_PAGE_CACHE_SECONDS): a request that would get the public copy (GET or HEAD,
nobody signed in, no cookie but the language and CSRF ones) is answered from it without running the view,
keyed by host, full path, language and htmx headers: the freshness a shared cache (nginx) is already
allowed, for deployments (or requests) that do not go through one. `on_hit` runs on such an answer (the
listing page counts its view).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language

View = Callable[..., HttpResponseBase]
KEPT_HEADERS = ("Content-Type", "Content-Language")


def _page_seconds(s_maxage: int) -> int:
    return max(0, min(s_maxage, getattr(settings, "PUBLIC_PAGE_CACHE_SECONDS", 0)))


def _page_key(request: HttpRequest) -> str | None:
    """The application cache's key of the public copy this request would get, or None when it would not
    get one (a method other than GET/HEAD, a signed-in person, a cookie that may change the page)."""
    if request.method not in ("GET", "HEAD"):
        return None
    if any(name not in (settings.LANGUAGE_COOKIE_NAME, settings.CSRF_COOKIE_NAME) for name in request.COOKIES):
        return None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return None
    tenant = getattr(request, "tenant", None)
    parts = "|".join([request.scheme or "", request.get_host(), request.get_full_path(), get_language() or "",
                      request.headers.get("HX-Request", ""), request.headers.get("HX-Target", "")])
    return f"public-page:{getattr(tenant, 'pk', '-')}:{hashlib.sha256(parts.encode()).hexdigest()[:40]}"


def public_page(*, s_maxage: int = 60, max_age: int = 0,
                on_hit: Callable[..., Any] | None = None) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            key = _page_key(request) if _page_seconds(s_maxage) else None
            hit = cache.get(key) if key else None
            if hit is not None:
                status, headers, content = hit
                response: HttpResponseBase = HttpResponse(content, status=status)
                for name, value in headers:
                    response[name] = value
                response.public_page_hit = True  # type: ignore[attr-defined]
                if on_hit is not None:
                    on_hit(request, *args, **kwargs)
            else:
                response = view(request, *args, **kwargs)
                response.public_page_key = key  # type: ignore[attr-defined]
            response.public_cache = (max_age, s_maxage)  # type: ignore[attr-defined]
            return response

        return wrapped

    return decorator


def _drop_vary_cookie(response: HttpResponseBase) -> None:
    if not response.has_header("Vary"):
        return
    values = [v.strip() for v in response["Vary"].split(",") if v.strip() and v.strip().lower() != "cookie"]
    if values:
        response["Vary"] = ", ".join(values)
    else:
        del response["Vary"]


class PublicCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        spec = getattr(response, "public_cache", None)
        if spec is None:
            return response
        user = getattr(request, "user", None)
        anonymous = user is None or not user.is_authenticated
        if (request.method in ("GET", "HEAD") and response.status_code == 200 and anonymous
                and not response.cookies):
            max_age, s_maxage = spec
            patch_cache_control(response, public=True, max_age=max_age, s_maxage=s_maxage)
            response["X-Accel-Expires"] = str(s_maxage)  # nginx: how long its shared copy lives
            _drop_vary_cookie(response)
            key = getattr(response, "public_page_key", None)
            if key and isinstance(response, HttpResponse):  # the application's copy (public_page)
                headers = [(name, response[name]) for name in KEPT_HEADERS if response.has_header(name)]
                cache.set(key, (response.status_code, headers, response.content), _page_seconds(s_maxage))
        else:
            patch_cache_control(response, private=True, no_cache=True)
        return response
