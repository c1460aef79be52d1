"""Public pages a shared cache (nginx, a CDN) may keep.

A view decorated with `public_page(s_maxage=...)` marks its response; `PublicCacheMiddleware` (listed
before SessionMiddleware, so it sees the response after the session, CSRF and locale middleware) then
decides: a GET answered 200 to an anonymous visitor that sets no cookie is
`Cache-Control: public, max-age=<browser>, s-maxage=<shared>` with `Cookie` dropped from `Vary` (the
language still varies: `Accept-Language`, and the proxy keys on the language cookie, see
deploy/nginx.conf); anything else (a signed-in user, a message shown, a cookie set) is
`private, no-cache`. Pages for signed-in people are never marked and keep Django's defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control

View = Callable[..., HttpResponseBase]


def public_page(*, s_maxage: int = 60, max_age: int = 0) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            response = view(request, *args, **kwargs)
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
        else:
            patch_cache_control(response, private=True, no_cache=True)
        return response
