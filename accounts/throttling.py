"""Login throttling that strangers cannot turn against users (django-axes 8).

Failures count per (client IP, account) together: someone guessing Alice's password from their own
address slows down only themselves on that account; Alice, from her address, logs in as usual; and
everybody else behind the same address is unaffected. The client IP is read through the trusted
proxies only (`TRUSTED_PROXY_COUNT`, e.g. 1 behind the README's TLS proxy), so X-Forwarded-For cannot be
spoofed and users behind the proxy do not share one address. After `AXES_FAILURE_LIMIT` failures that
pair waits `AXES_COOLOFF_TIME`: a slow-down, never a lock the owner has to ask staff to lift. The site
login (allauth) and the admin login go through the same backend and say the same thing.

Why axes and not allauth's own limits: allauth's `login_failed` limit counts per IP and per account
separately ("10/m/ip,5/5m/key"), so anyone who knows an email can lock its owner out, and it does not
cover the admin login.
"""

from axes.backends import AxesStandaloneBackend
from django.shortcuts import render
from django.utils.translation import gettext as _


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' check for logins that come with a request. Authentication without one (the test client,
    management commands) has nobody to throttle."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def login_username(request, credentials):
    """The account a login attempt is for: allauth posts `login` (authenticating with `email`), the admin
    `username` (our USERNAME_FIELD is the email)."""
    data = credentials or {}
    value = data.get("email") or data.get("username") or data.get("login")
    if not value and request is not None:
        post = getattr(request, "POST", {})
        value = post.get("login") or post.get("username") or post.get("email")
    return (value or "").strip().lower()


def locked_out(request, credentials, *args, **kwargs):
    """One neutral answer (429) for the site and the admin: no hint whether the password was right."""
    return render(request, "account/throttled.html", {
        "message": _("Too many failed log-in attempts for this account from your network. Wait %(minutes)d "
                     "minutes and try again, or reset your password.") % {"minutes": 15},
    }, status=429)
