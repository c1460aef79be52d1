"""Portfolios: an organization brings in its rights (numbers from CSV/XLSX/pasted text, each fetched
from its register by the worker, each row its own unit), sees them with totals, charts and computed
deadlines, exports them, and subscribes to a calendar of its deadlines.

Reads for the page are a fixed number of queries whatever the size, aggregated in SQL: each holding's
fees are computed by `rights.fees` when they can change (the holding begins, the monitoring re-check,
`manage.py recompute_fees` after a rules change) and stored as `HoldingFee` rows
(`rights.services.holding_fees_store`); the page, charts, export and calendar read those rows."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import math
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, ValidationFailed
from core.tenancy import require_tenant

from .expiry import add_years
from .models import CalendarFeed, Holding, HoldingFee, PortfolioImport
from .registry import get_register
from .services import holding_ensure

MAX_RIGHTS = 10_000
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
NUMBER_HEADERS = {"number", "no", "no.", "patent", "patent number", "application number", "registration number",
                  "号码", "专利号", "申请号", "注册号", "登记号"}


# --- reading what the holder brings -------------------------------------------------------------


def _cells_from_csv(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ValidationFailed(_("The file is not a text (CSV) file we can read: save it as CSV (UTF-8) or "
                                     "XLSX.")) from None
    return [row for row in csv.reader(io.StringIO(text))]


def _cells_from_xlsx(data: bytes) -> list[list[str]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ValidationFailed(_("This is not an Excel (XLSX) workbook we can read.")) from None
    sheet = workbook.worksheets[0]
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


def read_numbers(*, upload=None, text: str = "") -> list[str]:
    """The numbers in an uploaded CSV/XLSX (the column headed number/号码…, else the first) or pasted
    text (one per line, or separated by commas/semicolons). Raises ValidationFailed for a wrong type,
    an oversized file or nothing to import."""
    if upload is not None:
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationFailed(_("The file is larger than 5 MB; split it."))
        data = upload.read()
        name = (getattr(upload, "name", "") or "").lower()
        if data[:2] == b"PK" or name.endswith(".xlsx"):
            rows = _cells_from_xlsx(data)
        elif name.endswith((".csv", ".txt")) or not name:
            rows = _cells_from_csv(data)
        else:
            raise ValidationFailed(_("Upload a CSV or XLSX file (or paste the numbers)."))
        if not rows:
            raise ValidationFailed(_("The file is empty."))
        header = [c.strip().lower() for c in rows[0]]
        column = next((i for i, h in enumerate(header) if h in NUMBER_HEADERS), None)
        body = rows[1:] if column is not None else rows
        column = column or 0
        numbers = [row[column].strip() for row in body if len(row) > column and str(row[column]).strip()]
    else:
        numbers = [p.strip() for line in (text or "").splitlines() for p in line.replace("；", ";").replace(
            ",", ";").split(";") if p.strip()]
    if not numbers:
        raise ValidationFailed(_("There is no number to import."))
    return numbers


@transaction.atomic
def start_import(*, actor, organization, numbers: list[str], source_name: str = "") -> PortfolioImport:
    """Queue an import (the worker runs it). Refuses more than MAX_RIGHTS rights per organization."""
    held = Holding.objects.filter(organization=organization, ended_at__isnull=True).count()
    if held + len(numbers) > MAX_RIGHTS:
        raise ValidationFailed(_("An organization keeps at most %(max)s rights here: you hold %(held)s and the "
                                 "list has %(n)s.") % {"max": f"{MAX_RIGHTS:,}", "held": held, "n": len(numbers)})
    job = PortfolioImport.objects.create(organization=organization, created_by=actor, source_name=source_name[:200],
                                         numbers=numbers, total=len(numbers))
    from core.outbox import enqueue

    enqueue("rights.tasks.run_portfolio_import", tenant_id=require_tenant().pk, import_id=job.pk)
    return job


def run_import(job_id: int, *, progress_every: int = 25) -> PortfolioImport:
    """Import every row (its own unit: a row that fails says why, the others are imported). Idempotent:
    a rerun continues from `processed`."""
    with transaction.atomic():
        job = PortfolioImport.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
        if job is None or job.status in (PortfolioImport.Status.DONE, PortfolioImport.Status.FAILED):
            return job
        job.status = PortfolioImport.Status.RUNNING
        job.save(update_fields=["status"])
    register = get_register()
    seen = {h for h in Holding.objects.filter(organization=job.organization, ended_at__isnull=True)
            .values_list("record_id", flat=True)}
    in_file: dict[int, int] = {}
    errors = list(job.errors)
    imported = job.imported
    for index in range(job.processed, job.total):
        number = job.numbers[index]
        row = index + 1
        try:
            result = register.lookup(number)
            if not result.found:
                raise ValidationFailed(result.error or _("not found in the register."))
            record = result.record
            if record.pk in in_file:
                raise ValidationFailed(_("the same right as row %(row)s.") % {"row": in_file[record.pk]})
            in_file[record.pk] = row
            if record.pk not in seen:
                holding_ensure(organization=job.organization, record=record, basis=Holding.Basis.IMPORTED,
                               actor=job.created_by)
                seen.add(record.pk)
                imported += 1
        except DomainError as exc:
            errors.append({"row": row, "number": number[:60], "message": str(exc.message)})
        if row % progress_every == 0 or row == job.total:
            PortfolioImport.objects.filter(pk=job.pk).update(processed=row, imported=imported, errors=errors)
    PortfolioImport.objects.filter(pk=job.pk).update(status=PortfolioImport.Status.DONE, processed=job.total,
                                                     imported=imported, errors=errors, finished_at=timezone.now())
    job.refresh_from_db()
    return job


# --- the portfolio page ------------------------------------------------------------------------------


@dataclass
class PortfolioFilters:
    kind: str = ""
    jurisdiction: str = ""
    status: str = ""
    expiry_year: int | None = None
    sort: str = "expiry"


@dataclass
class PortfolioView:
    holdings: list  # the rows of this page of the table
    total: int
    by_status: dict
    by_remaining: list  # [(label, count)]
    fees_by_year: list  # [(year, {currency: minor})]
    deadlines: list  # [HoldingFee] the first DEADLINES_SHOWN of the next 12 months
    deadlines_total: int = 0
    page: int = 1
    pages: int = 1
    listed: dict = field(default_factory=dict)


REMAINING_BUCKETS = [(1, "< 1"), (3, "1-3"), (5, "3-5"), (10, "5-10"), (20, "10-20"), (10_000, "> 20")]
PER_PAGE = 50
DEADLINES_SHOWN = 50
# Every sort reads the holding's own copies along an index (holding_org_expiry/_number/_title/_status):
# the register is joined only for the rows of one page.
SORTS = {"expiry": ("expiry_date", "id"), "number": ("jurisdiction", "number", "id"),
         "title": ("title", "id"), "status": ("legal_status", "id")}


def _filtered(qs, filters: PortfolioFilters, prefix: str = ""):
    """The filters on holdings (prefix "") or on their stored fees (prefix "holding__"), on the holding's
    copies of the record's fields (no join with the register)."""
    if filters.kind:
        qs = qs.filter(**{f"{prefix}kind": filters.kind})
    if filters.jurisdiction:
        qs = qs.filter(**{f"{prefix}jurisdiction": filters.jurisdiction})
    if filters.status:
        qs = qs.filter(**{f"{prefix}legal_status": filters.status})
    if filters.expiry_year:
        start = datetime.date(filters.expiry_year, 1, 1)
        qs = qs.filter(**{f"{prefix}expiry_date__gte": start,
                          f"{prefix}expiry_date__lt": start.replace(year=filters.expiry_year + 1)})
    return qs


def current_holdings(organization, filters: PortfolioFilters | None = None):
    return _filtered(Holding.objects.filter(organization=organization, ended_at__isnull=True),
                     filters or PortfolioFilters())


def stored_fees(organization, filters: PortfolioFilters | None = None):
    """The stored fees of the organization's current holdings (ended holdings have none)."""
    return _filtered(HoldingFee.objects.filter(organization=organization), filters or PortfolioFilters(),
                     "holding__")


def upcoming_deadlines(organization, filters=None, *, today: datetime.date, until: datetime.date):
    """Fees due by `until` and still payable today, soonest first, with their rights."""
    return (stored_fees(organization, filters).filter(due__lte=until, grace_until__gte=today)
            .select_related("holding__record").only(
                "office", "code", "n", "label", "due", "amount_minor", "currency", "grace_until", "source",
                "holding__id", "holding__record__id", "holding__record__jurisdiction", "holding__record__number",
                "holding__record__title").order_by("due", "id"))


def _fees_version_key(organization_id) -> str:
    return f"rights:fees-version:{organization_id}"


def fees_changed(organization_ids) -> None:
    """The stored fees of these organizations changed: their cached fee totals are stale."""
    cache.set_many({_fees_version_key(pk): time.time_ns() for pk in set(organization_ids)}, timeout=None)


def _fee_totals(organization, filters: PortfolioFilters, today: datetime.date):
    """Fees per year for the 5 calendar years from this one ({year: {currency: minor}}) and the number
    of deadlines in the next 12 months: two aggregates over the stored fees, cached until the
    organization's stored fees change (`fees_changed`, called by every writer of HoldingFee)."""
    version = cache.get(_fees_version_key(organization.pk)) or 0
    key = (f"rights:fee-totals:{organization.pk}:{version}:{today.isoformat()}:{filters.kind}:"
           f"{filters.jurisdiction}:{filters.status}:{filters.expiry_year or ''}")
    hit = cache.get(key)
    if hit is not None:
        return hit
    fees_by_year: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (stored_fees(organization, filters)
                .filter(grace_until__gte=today, due__gte=datetime.date(today.year, 1, 1),
                        due__lt=datetime.date(today.year + 5, 1, 1))
                .annotate(year=ExtractYear("due")).order_by().values("year", "currency")
                .annotate(amount=Sum("amount_minor"))):
        fees_by_year[row["year"]][row["currency"]] = row["amount"]
    years = [(y, dict(fees_by_year.get(y, {}))) for y in range(today.year, today.year + 5)]
    count = upcoming_deadlines(organization, filters, today=today, until=add_years(today, 1)).count()
    cache.set(key, (years, count), timeout=FEE_TOTALS_CACHE_SECONDS)
    return years, count


FEE_TOTALS_CACHE_SECONDS = 6 * 3600


def portfolio(organization, filters: PortfolioFilters | None = None, *, today: datetime.date | None = None,
              listed_record_ids=None, page: int = 1) -> PortfolioView:
    """The page's data in a fixed number of queries whatever the size: totals, statuses and the
    remaining-term buckets (one GROUP BY), fees per year and the number of deadlines (two aggregates
    over the stored fees, cached until they change), the next deadlines (one, limited), one page of
    the table."""
    filters = filters or PortfolioFilters()
    today = today or timezone.localdate()
    holdings = current_holdings(organization, filters)
    thresholds = {}
    for i, (limit, _label) in enumerate(REMAINING_BUCKETS[:-1]):
        # remaining years < limit  <=>  days left < ceil(365.25 * limit); no expiry date counts as none left
        cutoff = today + datetime.timedelta(days=math.ceil(365.25 * limit))
        thresholds[f"below_{i}"] = Count("id", filter=Q(expiry_date__lt=cutoff) | Q(expiry_date__isnull=True))
    by_status: dict[str, int] = {}
    totals: dict[str, int] = defaultdict(int)
    for row in holdings.order_by().values("legal_status").annotate(n=Count("id"), **thresholds):
        by_status[row["legal_status"]] = row["n"]
        for key, value in row.items():
            if key.startswith("below_"):
                totals[key] += value
    total = sum(by_status.values())
    by_remaining, below = [], 0
    for i, (_limit, label) in enumerate(REMAINING_BUCKETS):
        upto = totals[f"below_{i}"] if i < len(REMAINING_BUCKETS) - 1 else total
        by_remaining.append((label, upto - below))
        below = upto
    fees_by_year, deadlines_total = _fee_totals(organization, filters, today)
    deadlines = list(upcoming_deadlines(organization, filters, today=today, until=add_years(today, 1))
                     [:DEADLINES_SHOWN])
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(1, page), pages)
    rows = list(holdings.select_related("record")
                .only("id", "organization_id", "record__id", "record__jurisdiction", "record__number",
                      "record__kind", "record__title", "record__title_en", "record__legal_status",
                      "record__expiry_date")
                .order_by(*SORTS.get(filters.sort, SORTS["expiry"]))[(page - 1) * PER_PAGE:page * PER_PAGE])
    listed = dict(listed_record_ids or {})
    for h in rows:
        h.listing_id = listed.get(h.record_id)
    return PortfolioView(holdings=rows, total=total, by_status=by_status, by_remaining=by_remaining,
                         fees_by_year=fees_by_year,
                         deadlines=deadlines, deadlines_total=deadlines_total, page=page, pages=pages, listed=listed)


def bar_chart_svg(pairs, *, width=360, height=160, unit="") -> str:
    """A small server-rendered bar chart (no script, no CDN): [(label, value)]."""
    from django.utils.html import escape

    values = [v for _l, v in pairs] or [0]
    top = max(values) or 1
    n = max(1, len(pairs))
    bar = (width - 20) / n
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart">']
    for i, (label, value) in enumerate(pairs):
        h = (height - 40) * value / top
        x = 10 + i * bar
        y = height - 24 - h
        parts.append(f'<rect x="{x + 4:.1f}" y="{y:.1f}" width="{bar - 8:.1f}" height="{h:.1f}" rx="3" fill="#1d4ed8">'
                     f'<title>{escape(str(label))}: {value:,}{escape(unit)}</title></rect>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 8}" font-size="11" text-anchor="middle" '
                     f'fill="#374151">{escape(str(label))}</text>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{max(12, y - 4):.1f}" font-size="11" text-anchor="middle" '
                     f'fill="#111827">{value:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- export and calendar ---------------------------------------------------------------------------

EXPORT_COLUMNS = ["jurisdiction", "kind", "number", "title", "title_en", "owner_name", "legal_status", "filing_date",
                  "grant_date", "expiry_date", "renewal_paid_through", "next_fee_due", "next_fee_amount",
                  "next_fee_currency"]


def export_rows(organization, filters: PortfolioFilters | None = None, *, today: datetime.date | None = None):
    """Every current holding (filtered) with its next payable fee, streamed (two queries per 2,000 rows)."""
    today = today or timezone.localdate()
    nxt = HoldingFee.objects.filter(holding=OuterRef("pk"), grace_until__gte=today).order_by("due", "id")
    qs = (current_holdings(organization, filters or PortfolioFilters()).select_related("record")
          .defer("record__raw", "record__abstract", "record__abstract_en", "snapshot")
          .annotate(fee_due=Subquery(nxt.values("due")[:1]), fee_amount=Subquery(nxt.values("amount_minor")[:1]),
                    fee_currency=Subquery(nxt.values("currency")[:1]))
          .order_by(*SORTS.get((filters or PortfolioFilters()).sort, SORTS["expiry"])))
    for h in qs.iterator(chunk_size=2000):
        r = h.record
        yield [r.jurisdiction, r.kind, r.number, r.title, r.title_en, r.owner_name, r.legal_status,
               r.filing_date.isoformat() if r.filing_date else "", r.grant_date.isoformat() if r.grant_date else "",
               r.expiry_date.isoformat() if r.expiry_date else "",
               r.renewal_paid_through.isoformat() if r.renewal_paid_through else "",
               h.fee_due.isoformat() if h.fee_due else "",
               f"{h.fee_amount / 100:.2f}" if h.fee_amount is not None else "", h.fee_currency or ""]


def export_csv(organization, filters=None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for row in export_rows(organization, filters):
        writer.writerow([("'" + c) if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") else c for c in row])
    return buffer.getvalue().encode("utf-8-sig")


def export_xlsx(organization, filters=None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("portfolio")
    sheet.append(EXPORT_COLUMNS)
    for row in export_rows(organization, filters):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def calendar_feed_for(organization, *, renew=False) -> CalendarFeed:
    feed = CalendarFeed.objects.filter(organization=organization).first()
    if feed is None:
        return CalendarFeed.objects.create(organization=organization, token=secrets.token_urlsafe(32))
    if renew:
        feed.token = secrets.token_urlsafe(32)
        feed.save(update_fields=["token"])
    return feed


def calendar_ics(organization, *, name: str, today: datetime.date | None = None) -> bytes:
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//ipex//portfolio deadlines//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    today = today or timezone.localdate()
    for fee in upcoming_deadlines(organization, today=today, until=add_years(today, 1)).iterator(chunk_size=2000):
        h, r = fee.holding, fee.holding.record
        event = Event()
        label_id = hashlib.sha1(fee.label.encode(), usedforsecurity=False).hexdigest()[:10]
        event.add("uid", f"ipex-{h.pk}-{fee.due.isoformat()}-{label_id}@ipex")
        event.add("summary", f"{r.jurisdiction} {r.number}: {fee.display_label} {fee.amount} {fee.currency}")
        event.add("dtstart", fee.due)
        event.add("dtend", fee.due + datetime.timedelta(days=1))
        event.add("description", "\n".join([r.title, _("%(office)s; late, with surcharge, until %(date)s") % {
            "office": fee.office, "date": fee.grace_until.isoformat()}, fee.source]))
        cal.add_component(event)
    return cal.to_ical()
