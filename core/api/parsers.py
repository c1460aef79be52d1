"""JSON parsing that answers 400 for any body the decoder cannot take: malformed, or nested so deeply
(depth ≥ ~1,000) that Python's decoder runs out of recursion (a RecursionError, once a 500)."""

import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 64


def _depth_exceeds(text: str, limit: int) -> bool:
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


class SafeJSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise ParseError(_("The body is not valid UTF-8 JSON.")) from None
        if _depth_exceeds(text, MAX_DEPTH):
            raise ParseError(_("The JSON body is nested too deeply (at most %(n)d levels).") % {"n": MAX_DEPTH})
        try:
            return json.loads(text, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            raise ParseError(_("The body is not valid JSON: %(error)s") % {"error": str(exc)[:200]}) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
