import json
from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import JSONRenderer


class SafeJSONRenderer(JSONRenderer):
    """UTF-8 JSON; if the data holds a lone surrogate (echoed from a malformed request), the same
    JSON with ASCII escapes instead of a 500."""

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: Mapping[str, Any] | None = None) -> bytes:
        try:
            rendered: bytes = super().render(data, accepted_media_type, renderer_context)
            return rendered
        except UnicodeEncodeError:
            return json.dumps(data, cls=self.encoder_class, ensure_ascii=True, allow_nan=not self.strict,
                              separators=(",", ":")).encode("ascii")
