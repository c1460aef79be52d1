"""Bulk portfolio import for partners: up to 1,000 listings from CSV or JSON, all or nothing.

No rule of its own: each row goes through the same register look-up and the same listings services
as the seller wizard (`listing_create_from_register`, optionally `listing_submit`). Those services
are durable (they own their transaction); here they run un-decorated (`__wrapped__`), each row in a
savepoint, inside ONE durable transaction, so that every row's errors are collected and nothing is
stored unless every row is valid.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import DomainError, ValidationFailed
from core.money import to_minor
from core.tenancy import require_tenant
from rights.registry import get_register

MAX_ROWS = 1000
MAX_BYTES = 5 * 1024 * 1024
NUMBER_SEPARATORS = (";", "|", "\n")


class BulkRejected(ValidationFailed):
    """Some rows are invalid; nothing was stored. `row_errors` lists each (row, field, message)."""

    def __init__(self, message, *, row_errors):
        errors: dict[str, list[str]] = {}
        for item in row_errors:
            errors.setdefault(f"rows.{item['row']}.{item['field']}", []).append(item["message"])
        super().__init__(message, field_errors=errors)
        self.row_errors = row_errors


@dataclass
class BulkResult:
    created: list = field(default_factory=list)  # [(row, Listing)]
    dry_run: bool = False


def parse_csv(text: str, *, limit: int | None = None) -> list[dict]:
    """CSV with a header row; empty cells are left out (the field's default applies). Stops after `limit`
    rows (the caller refuses more than it allows without reading the rest)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames:
        raise ValidationFailed(_("The CSV file is empty."), field_errors={"file": [_("No header row.")]})
    rows = []
    for raw in reader:
        if raw is None:
            continue
        row = {}
        for key, value in raw.items():
            if key is None:  # more cells than headers
                row["_extra"] = value
                continue
            key = key.strip().lower()
            value = value.strip() if isinstance(value, str) else value
            if value not in ("", None):
                row[key] = value
        if row:
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
    return rows


def split_numbers(value) -> list[str]:
    if isinstance(value, list | tuple):
        parts = [str(v) for v in value]
    else:
        parts = [str(value)]
        for sep in NUMBER_SEPARATORS:
            parts = [p for part in parts for p in part.split(sep)]
    return [p.strip() for p in parts if p.strip()]


def _field_of(key: str) -> str:
    return {"price": "price_minor", "checks": "number", "_": "number"}.get(key, key)


def listing_bulk_import(*, actor, organization, rows: list[dict], submit: bool = False, dry_run: bool = False,
                        row_numbers: list[int] | None = None, prior_errors: list[dict] | None = None,
                        total_rows: int | None = None) -> BulkResult:
    """`rows` are validated dicts (see listings.api.bulk.BulkRowSerializer): numbers, jurisdiction, kind,
    title, price_minor, deal_type, description, licence_term_months, licence_territory, industry_tags.
    Row numbers in errors are 1-based (row 1 is the first data row); `row_numbers` gives each row's
    number when rows that failed earlier checks were left out (their errors in `prior_errors`)."""
    from listings.services import ListingInput, listing_create_from_register, listing_submit
    create = listing_create_from_register.__wrapped__
    submit_ = listing_submit.__wrapped__
    total_rows = total_rows if total_rows is not None else len(rows)
    row_numbers = row_numbers or list(range(1, len(rows) + 1))
    if not rows and not prior_errors:
        raise ValidationFailed(_("There is no row to import."), field_errors={"rows": [_("Empty.")]})
    if total_rows > MAX_ROWS:
        raise ValidationFailed(_("At most %(n)d rows per import.") % {"n": MAX_ROWS},
                               field_errors={"rows": [_("Too many rows.")]})
    tenant = require_tenant()
    register = get_register()
    errors: list[dict] = list(prior_errors or [])
    result = BulkResult(dry_run=dry_run)

    with transaction.atomic(durable=True):
        for index, row in zip(row_numbers, rows, strict=True):
            records, row_errors = [], []
            for position, number in enumerate(row["numbers"]):
                lookup = register.lookup(number, jurisdiction=row.get("jurisdiction") or None,
                                         kind=row.get("kind") or None)
                if lookup.record is None:
                    name = "number" if len(row["numbers"]) == 1 else f"number.{position}"
                    row_errors.append({"row": index, "field": name, "message": str(lookup.error)})
                else:
                    records.append(lookup.record)
            if row_errors:
                errors.extend(row_errors)
                continue
            price_minor = row.get("price_minor")
            if price_minor is None and row.get("price") is not None:
                try:
                    price_minor = to_minor(row["price"], tenant.currency)
                except ValueError as exc:
                    errors.append({"row": index, "field": "price", "message": str(exc)})
                    continue
            data = ListingInput(
                title=row.get("title") or records[0].title, price_minor=price_minor or 0,
                deal_type=row.get("deal_type") or "assignment", description=row.get("description", ""),
                licence_term_months=row.get("licence_term_months"), licence_territory=row.get("licence_territory", ""),
                industry_tags=tuple(row.get("industry_tags") or ()),
            )
            try:
                with transaction.atomic():
                    listing = create(actor=actor, organization=organization, records=records, data=data)
                    if submit:
                        listing = submit_(listing=listing, actor=actor)
            except DomainError as exc:
                if exc.field_errors:
                    for key, messages in exc.field_errors.items():
                        for message in messages if isinstance(messages, list | tuple) else [messages]:
                            errors.append({"row": index, "field": _field_of(key), "message": str(message)})
                else:
                    errors.append({"row": index, "field": "number" if exc.code == "conflict" else "_",
                                   "message": str(exc.message)})
                continue
            result.created.append((index, listing))
        if errors:
            transaction.set_rollback(True)
        elif dry_run:
            transaction.set_rollback(True)
    if errors:
        errors.sort(key=lambda e: e["row"])
        raise BulkRejected(
            _("%(n)d of %(total)d rows have errors; nothing was imported.")
            % {"n": len({e["row"] for e in errors}), "total": total_rows}, row_errors=errors)
    return result
