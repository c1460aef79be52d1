"""Load register records from CSV or JSON rows: validate every row, report errors by row, upsert."""

from __future__ import annotations

import csv
import datetime
import io
import json
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from ..expiry import expiry_date
from ..models import Jurisdiction, LegalStatus, RegisterRecord, RightKind
from ..numbers import NumberError, parse_candidates

FIELDS = ["jurisdiction", "kind", "number", "application_number", "publication_number", "title", "title_en",
          "abstract", "owner_name", "owner_country", "owner_registration_number", "filing_date", "grant_date",
          "expiry_date", "legal_status", "renewal_paid_through", "classes", "image_url", "encumbrances",
          "abstract_en", "version", "completion_date", "publication_date", "certificate_number"]
DATE_FIELDS = ("filing_date", "grant_date", "expiry_date", "renewal_paid_through", "completion_date",
               "publication_date")
PREFERRED_TYPE = {("CN", False): "application", ("EP", False): "application", ("US", False): "registration"}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, message)
    written: bool = False

    @property
    def ok(self):
        return not self.errors


def read_file(path_or_file, *, fmt: str | None = None) -> list[dict]:
    if hasattr(path_or_file, "read"):
        text = path_or_file.read()
        text = text.decode("utf-8-sig") if isinstance(text, bytes) else text
        name = getattr(path_or_file, "name", "") or ""
    else:
        name = str(path_or_file)
        with open(path_or_file, encoding="utf-8-sig") as fh:
            text = fh.read()
    fmt = fmt or ("json" if name.lower().endswith(".json") or text.lstrip().startswith(("[", "{")) else "csv")
    if fmt == "json":
        data = json.loads(text)
        if isinstance(data, dict):
            data = data.get("records", [])
        if not isinstance(data, list):
            raise ValueError(_("The JSON file must hold a list of records (or {\"records\": [...]})."))
        return data
    return list(csv.DictReader(io.StringIO(text)))


def _date(value, name):
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(_("%(field)s must be a date written YYYY-MM-DD, not %(value)s.")
                         % {"field": name, "value": value}) from None


def _list(value):
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).replace("；", ";").replace(",", ";").split(";") if v.strip()]


def clean_row(row: dict) -> dict:
    """A validated dict of RegisterRecord fields, or ValueError with every problem of the row."""
    problems = []
    jurisdiction = str(row.get("jurisdiction") or "").strip().upper()
    if jurisdiction == "EU":
        jurisdiction = "EP"
    kind = str(row.get("kind") or "").strip().lower()
    if jurisdiction not in Jurisdiction.values:
        problems.append(_("jurisdiction must be one of %(choices)s.") % {"choices": ", ".join(Jurisdiction.values)})
    if kind not in RightKind.values:
        problems.append(_("kind must be one of %(choices)s.") % {"choices": ", ".join(RightKind.values)})
    data = {"jurisdiction": jurisdiction, "kind": kind}
    for name in ("title", "title_en", "abstract", "abstract_en", "owner_name", "owner_country",
                 "owner_registration_number", "image_url", "version", "certificate_number"):
        data[name] = str(row.get(name) or "").strip()
    if not data["title"]:
        problems.append(_("title is required."))
    if not data["owner_name"]:
        problems.append(_("owner_name is required."))
    for name in DATE_FIELDS:
        try:
            data[name] = _date(row.get(name), name)
        except ValueError as exc:
            problems.append(str(exc))
    status = str(row.get("legal_status") or "valid").strip().lower()
    if status not in LegalStatus.values:
        problems.append(_("legal_status must be one of %(choices)s.") % {"choices": ", ".join(LegalStatus.values)})
    data["legal_status"] = status
    data["classes"] = _list(row.get("classes"))
    if kind == RightKind.TRADEMARK:
        bad = [c for c in data["classes"] if not (c.isdigit() and 1 <= int(c) <= 45)]
        if bad:
            problems.append(_("Nice classes are 1 to 45; %(bad)s is not.") % {"bad": ", ".join(bad)})
        data["classes"] = [f"{int(c):02d}" for c in data["classes"] if c.isdigit()]
    enc = row.get("encumbrances") or []
    if isinstance(enc, str):
        try:
            enc = json.loads(enc) if enc.strip() else []
        except json.JSONDecodeError:
            problems.append(_("encumbrances must be a JSON list."))
            enc = []
    data["encumbrances"] = enc if isinstance(enc, list) else []
    data["source"] = "embedded" if str(row.get("source") or "").strip() == "embedded" else "bulk"
    # Numbers
    number = str(row.get("number") or "").strip()
    if not number:
        problems.append(_("number is required."))
    elif jurisdiction in Jurisdiction.values and kind in RightKind.values:
        is_tm = kind == RightKind.TRADEMARK
        try:
            readings = [p for p in parse_candidates(number, jurisdiction=jurisdiction, kind="trademark" if is_tm else None)
                        if p.jurisdiction == jurisdiction]
            if not readings:
                raise NumberError(_("%(number)s is not a %(jurisdiction)s number.")
                                  % {"number": number, "jurisdiction": jurisdiction})
            preferred = PREFERRED_TYPE.get((jurisdiction, is_tm))
            best = next((p for p in readings if p.number_type == preferred), readings[0])
            if not is_tm and best.kind and best.kind != kind:
                raise NumberError(_("number %(number)s is a %(actual)s, but kind says %(kind)s.")
                                  % {"number": number, "actual": best.kind, "kind": kind})
            data["number"] = best.normalized
        except NumberError as exc:
            problems.append(_("number: %(message)s") % {"message": exc.message})
    for name in ("application_number", "publication_number"):
        value = str(row.get(name) or "").strip()
        data[name] = value
        if value and jurisdiction in Jurisdiction.values:
            text = value if value[:2].isalpha() or "/" in value else (
                ("US" + value) if jurisdiction == "US" and name == "publication_number" else value)
            try:
                readings = [p for p in parse_candidates(
                    text, jurisdiction=jurisdiction, kind="trademark" if kind == RightKind.TRADEMARK else None)
                    if p.jurisdiction == jurisdiction]
                if readings:
                    data[name] = readings[0].normalized
            except NumberError as exc:
                problems.append(_("%(field)s: %(message)s") % {"field": name, "message": exc.message})
    if not problems and data["expiry_date"] is None:
        data["expiry_date"] = expiry_date(kind=kind, jurisdiction=jurisdiction, filing_date=data["filing_date"],
                                          grant_date=data["grant_date"], publication_date=data["publication_date"],
                                          completion_date=data["completion_date"])
    if problems:
        raise ValueError(" ".join(problems))
    return data


def import_rows(rows: list[dict], *, skip_invalid: bool = False, dry_run: bool = False) -> ImportReport:
    report = ImportReport()
    cleaned = []
    seen = {}
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            report.errors.append((i, _("a record must be an object with named fields.")))
            continue
        try:
            data = clean_row(row)
        except ValueError as exc:
            report.errors.append((i, str(exc)))
            continue
        ident = (data["jurisdiction"], data["number"])
        if ident in seen:
            report.errors.append((i, _("the same number is already in row %(row)s.") % {"row": seen[ident]}))
            continue
        seen[ident] = i
        cleaned.append(data)
    if dry_run or (report.errors and not skip_invalid):
        return report
    with transaction.atomic():
        for data in cleaned:
            record = RegisterRecord.objects.filter(jurisdiction=data["jurisdiction"], number=data["number"]).first()
            if record is None:
                record = RegisterRecord(**data)
                report.created += 1
            else:
                for name, value in data.items():
                    setattr(record, name, value)
                report.updated += 1
            record.save()
    report.written = True
    return report
