from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class PartnerKeyThrottle(SimpleRateThrottle):
    """Per API key (per client address before authentication succeeds). Rate from `API_THROTTLE_RATE`."""

    scope = "partner_key"

    def get_rate(self) -> str:
        return getattr(settings, "API_THROTTLE_RATE", "1200/min")

    def allow_request(self, request: Request, view: Any) -> bool:
        # Read the rate at request time so settings overrides apply (tests, per-deploy env).
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str:
        key = getattr(request, "auth", None)
        ident = f"key:{key.prefix}" if key is not None and hasattr(key, "prefix") else f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
