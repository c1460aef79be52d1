"""The idempotency store behind `Idempotency-Key` (named by `settings.API_IDEMPOTENCY_STORE`, used by
`core.api.base`): the first response to a key is kept per API key and replayed for the same request."""

import datetime as dt
import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.tenancy import require_tenant

from .models import IdempotencyRecord, PartnerAPIKey

IDEMPOTENCY_TTL = dt.timedelta(hours=24)

def fingerprint(*, method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(method.upper().encode())
    digest.update(b"\n")
    digest.update(path.encode())
    digest.update(b"\n")
    digest.update(body or b"")
    return digest.hexdigest()


def idempotency_begin(*, api_key: PartnerAPIKey, key: str, method: str, path: str, fingerprint_: str
                      ) -> tuple[IdempotencyRecord, bool]:
    """Claim `key` for this request. Returns (record, created); an existing record is returned as is."""
    tenant = require_tenant()
    cutoff = timezone.now() - IDEMPOTENCY_TTL
    IdempotencyRecord.objects.filter(api_key=api_key, key=key, created_at__lt=cutoff).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                tenant=tenant, api_key=api_key, key=key, fingerprint=fingerprint_, method=method, path=path[:500]
            )
        return record, True
    except IntegrityError:
        return IdempotencyRecord.objects.get(api_key=api_key, key=key), False


def idempotency_finish(*, record: IdempotencyRecord, status_code: int, body, headers: dict) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status_code=status_code, response_body=body, response_headers=headers
    )


def idempotency_abandon(*, record: IdempotencyRecord) -> None:
    """The request failed on our side (5xx): free the key so the client can retry."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def idempotency_purge(*, older_than: dt.timedelta = IDEMPOTENCY_TTL) -> int:
    deleted, _ = IdempotencyRecord.objects.unscoped().filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


