"""Uploaded files are checked by their content (magic bytes), not by their name, and by size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

SIGNATURES = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
    "webp": (b"RIFF",),
}
CONTENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
DOCUMENTS = ("pdf", "png", "jpeg")
IMAGES = ("png", "jpeg", "webp")


def sniff(head: bytes) -> str | None:
    for kind, prefixes in SIGNATURES.items():
        if any(head.startswith(p) for p in prefixes):
            if kind == "webp" and head[8:12] != b"WEBP":
                continue
            return kind
    return None


def validate_upload(file: Any, *, allowed: Sequence[str] = DOCUMENTS, max_bytes: int | None = None) -> str:
    """Raise ValidationError unless `file` is one of `allowed` kinds by content and small enough.
    Returns the content type to store."""
    max_bytes = max_bytes or settings.UPLOAD_MAX_BYTES
    if file.size > max_bytes:
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(file.size), "limit": filesizeformat(max_bytes)},
            code="too_large",
        )
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    head = file.read(16)
    file.seek(position)
    kind = sniff(head)
    if kind is None or kind not in allowed:
        names = ", ".join(k.upper() for k in allowed)
        raise ValidationError(
            _("This file is not a %(kinds)s file (its content was checked, not its name).") % {"kinds": names},
            code="bad_type",
        )
    return CONTENT_TYPES[kind]


class ContentTypeValidator:
    """Form-field validator: `forms.FileField(validators=[ContentTypeValidator(DOCUMENTS)])`."""

    def __init__(self, allowed: Sequence[str] = DOCUMENTS, max_bytes: int | None = None) -> None:
        self.allowed, self.max_bytes = allowed, max_bytes

    def __call__(self, file: Any) -> None:
        validate_upload(file, allowed=self.allowed, max_bytes=self.max_bytes)


def tenant_path(instance: Any, *parts: object) -> str:
    """A stored file's path, always under its tenant: `t<tenant id>/...`. The tenant in context stands in
    when the row has none yet (a file saved before the row), so no path reads `tNone`."""
    from .tenancy import require_tenant

    tenant_id = getattr(instance, "tenant_id", None) or require_tenant().pk
    return "/".join([f"t{tenant_id}", *(str(p) for p in parts)])


def export_certificate_path(instance: Any, filename: str) -> str:
    return tenant_path(instance, "transfers", instance.order_id, "export", filename)


def tenant_folder(instance: Any) -> str:
    """`t<tenant id>`: the folder every stored file of `instance`'s tenant lives under."""
    return tenant_path(instance)
