"""Private files: every upload and generated paper lives in Django's default storage.

The embedded default is the local file system (`MEDIA_ROOT`); production names an S3-compatible bucket
(`marketplace/settings/storage.py`), so web and worker processes on different machines see the same
files. Nothing in the storage is public and no URL maps onto it: a file leaves only through a view that
has checked the person's right to it and then calls `private_file_response`, which either

- streams the file through the process (the default), or
- when `PRIVATE_FILES_SIGNED_URLS` is on and the storage can sign, redirects to a URL signed for
  `PRIVATE_FILES_URL_SECONDS` (the object store then carries the bytes, not the web process).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.utils.http import content_disposition_header


def can_sign(storage: Any) -> bool:
    """True for storages that hand out short-lived signed URLs (django-storages' S3 with query auth)."""
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - django-storages is in the lock file
        return False
    signs = bool(getattr(storage, "querystring_auth", False))  # also sets up a lazy default_storage
    return signs and isinstance(getattr(storage, "_wrapped", storage), S3Storage)


def signed_url(fieldfile: FieldFile, *, content_type: str, filename: str | None = None, as_attachment: bool = False,
               seconds: int | None = None) -> str:
    """A URL on the object store for this file, valid for `seconds` (PRIVATE_FILES_URL_SECONDS)."""
    seconds = seconds or settings.PRIVATE_FILES_URL_SECONDS
    parameters = {"ResponseContentType": content_type, "ResponseCacheControl": "private, no-store"}
    disposition = content_disposition_header(as_attachment, filename or "") if (filename or as_attachment) else None
    if disposition:
        parameters["ResponseContentDisposition"] = disposition
    return str(fieldfile.storage.url(fieldfile.name, parameters=parameters, expire=seconds))  # type: ignore[call-arg]


def private_file_response(fieldfile: FieldFile, *, content_type: str = "", filename: str | None = None,
                          as_attachment: bool = False, redirect: bool = True) -> HttpResponseBase:
    """The answer of a permission-checked view that hands out a stored file. Call it only after the
    check: the signed URL is as good as the file for its few seconds. `redirect=False` always streams
    (the partner API: clients send an Authorization header that must not follow them to the store)."""
    content_type = content_type or "application/octet-stream"
    response: HttpResponseBase
    if redirect and settings.PRIVATE_FILES_SIGNED_URLS and can_sign(fieldfile.storage):
        response = HttpResponseRedirect(signed_url(fieldfile, content_type=content_type, filename=filename,
                                                   as_attachment=as_attachment))
    else:
        response = FileResponse(fieldfile.open("rb"), content_type=content_type, as_attachment=as_attachment,
                                filename=filename or "")
        response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def private_bytes_response(data: bytes, *, content_type: str, filename: str,
                           as_attachment: bool = False) -> HttpResponse:
    """The answer of a permission-checked view that hands out a copy made for this reader (a watermarked
    data-room document): never cached, never sniffed."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'{"attachment" if as_attachment else "inline"}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
