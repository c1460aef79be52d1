"""Limits and cleaning for text people type: one place for every form, serializer, service and model.

- Single-line fields (titles, names, territories, subjects) never carry control characters: CR/LF
  would break email headers (BadHeaderError in the worker), NUL is refused by PostgreSQL. Forms and
  serializers strip surrounding whitespace and refuse the rest with a message; services call
  `single_line()` so text that arrives another way (bulk import, admin) is held to the same rule.
- Multi-line fields keep line breaks and tabs, lose the other control characters, and have a length
  limit (`LONG_TEXT`, `NOTE_TEXT`, `ADDRESS_TEXT`) with a message.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

# Limits (characters). The API and the forms use the same numbers.
LONG_TEXT = 20_000  # a listing's description
NOTE_TEXT = 4_000  # reasons, dispute statements, notes
ADDRESS_TEXT = 500  # a postal address
ADDRESS_LINES = 8

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

CONTROL_MESSAGE = _("Use a single line without control characters.")


def has_control_characters(value: str) -> bool:
    return bool(_CONTROL.search(value or ""))


def single_line(value: str) -> str:
    """Text for one line: every control character (CR, LF, tab, NUL, ...) becomes a space."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def multi_line(value: str) -> str:
    """Text for several lines: line breaks and tabs stay, other control characters go; CRLF → LF."""
    return _CONTROL_MULTILINE.sub("", (value or "").replace("\r\n", "\n").replace("\r", "\n"))


def validate_single_line(value: str) -> None:
    if has_control_characters(value):
        raise ValidationError(CONTROL_MESSAGE, code="control_characters")


def validate_address(value: str) -> None:
    lines = [line for line in (value or "").splitlines() if line.strip()]
    if len(lines) > ADDRESS_LINES:
        raise ValidationError(_("An address has at most %(n)d lines.") % {"n": ADDRESS_LINES}, code="address_lines")


def length_validator(limit: int) -> MaxLengthValidator:
    return MaxLengthValidator(limit, message=_("Keep this under %(limit_value)d characters (it has %(show_value)d)."))


class SingleLineField(forms.CharField):
    """A form field for one line of text: refuses control characters with a message."""

    default_validators = [validate_single_line]


class MultiLineField(forms.CharField):
    """A form field for several lines: a length limit (default LONG_TEXT) and no stray control characters."""

    def __init__(self, *args: Any, max_length: int = LONG_TEXT, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 5}))
        super().__init__(*args, max_length=max_length, **kwargs)

    def to_python(self, value: Any) -> str:
        return multi_line(super().to_python(value) or "")
