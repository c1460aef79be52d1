import time
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from core.cache import window_take


class PartnerKeyThrottle(SimpleRateThrottle):
    """Per API key (per client address before authentication succeeds). Rate from `API_THROTTLE_RATE`.

    With Redis (production) a fixed window whose slots each process takes in leases from one counter
    (core.cache.window_take: a round trip per lease, not per request; SimpleRateThrottle's sliding history
    costs a read and a write of a list per request); other caches keep DRF's own history. A Redis outage
    lets requests through (core.cache fails soft)."""

    scope = "partner_key"

    def get_rate(self) -> str:
        return getattr(settings, "API_THROTTLE_RATE", "1200/min")

    def allow_request(self, request: Request, view: Any) -> bool:
        # Read the rate at request time so settings overrides apply (tests, per-deploy env).
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.num_requests is None or self.duration is None:
            return True
        self.key = self.get_cache_key(request, view)
        allowed = window_take(self.key, self.duration, self.num_requests)
        if allowed is None:
            return super().allow_request(request, view)
        self.window_left = self.duration - time.time() % self.duration
        return allowed

    def wait(self) -> float | None:
        if hasattr(self, "window_left"):
            return self.window_left
        return super().wait()

    def get_cache_key(self, request: Request, view: Any) -> str:
        key = getattr(request, "auth", None)
        ident = f"key:{key.prefix}" if key is not None and hasattr(key, "prefix") else f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
