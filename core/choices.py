"""Labels of a field's choices, per language, computed once.

Django's `get_FOO_display()` rebuilds a dict of every choice (hashing lazy labels, which translates
them) on each call: a search page shows three of them for each of its 20 rows. `choice_label` keeps
one {value: label} dict per model field and language instead; the result is the same string.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language

_labels: dict[tuple[Any, str, str | None], dict[Any, str]] = {}


def choice_label(model: Any, field_name: str, value: Any) -> Any:
    """What `instance.get_<field_name>_display()` returns for `value`, in the active language."""
    key = (model, field_name, get_language())
    labels = _labels.get(key)
    if labels is None:
        field = model._meta.get_field(field_name)
        labels = {v: str(label) for v, label in field.flatchoices}
        _labels[key] = labels
    return labels.get(value, value)
