"""Encumbrances of a right as the register records them (`RegisterRecord.encumbrances`): pledges and
licences. Each entry is a dict: {"type": "pledge" | "exclusive_licence" | ..., "holder": name,
"until": "YYYY-MM-DD" | None, "reference": office reference, "recorded_on": "YYYY-MM-DD",
"amount_minor": int, "currency": str, "source": "ipex", "holder_organization": id, "tenant": id} — the last
two when the holder is an organization of an exchange, so monitoring can alert it (a lender holding a
pledge) without knowing which app recorded it.

`encumbrance_record` / `encumbrance_release` are called by the filing machinery (transfers) when an
office records a pledge or its release; each writes the record and an audit row. Idempotent per
office reference, so a poller that runs twice changes nothing the second time.
"""

from __future__ import annotations

from django.utils import timezone

from core.audit import audit_record
from core.tenancy import require_tenant

from .models import RegisterRecord


def _lock(record_id) -> RegisterRecord:
    return RegisterRecord.objects.select_for_update(of=("self",)).get(pk=record_id)


def is_active(entry: dict, today=None) -> bool:
    today = today or timezone.localdate()
    until = entry.get("until")
    return not until or str(until) >= today.isoformat()


def active_encumbrances(record: RegisterRecord, *, kind: str | None = None, today=None) -> list[dict]:
    return [e for e in (record.encumbrances or [])
            if is_active(e, today) and (kind is None or str(e.get("type", "")).lower() == kind)]


def encumbrance_record(*, record: RegisterRecord, type: str, holder: str, reference: str, until=None,  # noqa: A002
                       amount_minor: int | None = None, currency: str = "", holder_organization=None, actor=None,
                       actor_label: str = "", data: dict | None = None) -> dict:
    """Add an encumbrance to the register record (row locked). The caller holds the transaction."""
    record = _lock(record.pk)
    for entry in record.encumbrances or []:
        if reference and entry.get("reference") == reference:
            return entry
    entry = {"type": type, "holder": holder, "until": until.isoformat() if hasattr(until, "isoformat") else until,
             "reference": reference, "recorded_on": timezone.localdate().isoformat(), "source": "ipex"}
    if amount_minor is not None:
        entry.update(amount_minor=int(amount_minor), currency=currency)
    if holder_organization is not None:
        entry.update(holder_organization=holder_organization.pk, tenant=require_tenant().pk)
    record.encumbrances = [*(record.encumbrances or []), entry]
    record.save(update_fields=["encumbrances", "keys", "updated_at"])
    audit_record(actor=actor, actor_label=actor_label, action="rights.encumbrance_recorded", obj=record,
                 tenant=require_tenant(), data={**entry, **(data or {})})
    return entry


def encumbrance_release(*, record: RegisterRecord, reference: str, actor=None, actor_label: str = "",
                        data: dict | None = None) -> dict | None:
    """Remove the encumbrance recorded under `reference` (the pledge's office reference). Returns the
    removed entry, or None when there was none (already released)."""
    record = _lock(record.pk)
    kept, removed = [], None
    for entry in record.encumbrances or []:
        if removed is None and entry.get("reference") == reference:
            removed = entry
        else:
            kept.append(entry)
    if removed is None:
        return None
    record.encumbrances = kept
    record.save(update_fields=["encumbrances", "keys", "updated_at"])
    audit_record(actor=actor, actor_label=actor_label, action="rights.encumbrance_released", obj=record,
                 tenant=require_tenant(),
                 data={**removed, "released_on": timezone.localdate().isoformat(), **(data or {})})
    return removed
