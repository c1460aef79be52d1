"""The exchange's own figures for its staff and the supervising IP office: listings, wants, matches,
orders, volume and median price by kind/office/month, time from order to payout per office, disputes
and refunds. Charts are server-rendered SVG (no script, no CDN); export as CSV or XLSX (openpyxl)."""

from __future__ import annotations

import csv
import datetime
import io
from html import escape

from django.db import connection
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core.money import exponent, format_money
from core.tenancy import require_tenant

MONTHS = 12

# The price an order actually settled at: a dispute settled by a split gave part of the money back to
# the buyer, so the volume and median count the price less that refund, not the full price.
PRICE_SQL = """CASE WHEN o.state = 'settled' THEN GREATEST(o.price_minor - COALESCE((
                   SELECT d.refund_minor FROM escrow_dispute d WHERE d.order_id = o.id AND d.outcome = 'split'
                   ORDER BY d.resolved_at DESC NULLS LAST, d.id DESC LIMIT 1), 0), 0)
               ELSE o.price_minor END"""

OFFICE_SQL = """COALESCE((SELECT f.office FROM transfers_transferfiling f WHERE f.order_id = o.id AND f.office <> ''
                          ORDER BY f.attempt DESC LIMIT 1), l.jurisdiction || ' ' || l.kind)"""


def _months(today=None) -> list[str]:
    today = today or timezone.localdate()
    first = today.replace(day=1)
    out = []
    for _i in range(MONTHS):
        out.append(first.strftime("%Y-%m"))
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return list(reversed(out))


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# The month in the exchange's time zone (the months listed come from timezone.localdate()): in UTC, an order
# placed after 16:00 UTC on the last day of a month fell in the wrong month for Beijing.
MONTH = "to_char(date_trunc('month', {col} AT TIME ZONE %s), 'YYYY-MM')"


def _per_month(col: str, agg: str, rest: str, params: list, months: list[str]) -> list[tuple[str, int]]:
    """`SELECT month(col), agg <rest> GROUP BY 1` over constant fragments of this module; values are params."""
    sql = "SELECT " + MONTH.format(col=col) + ", " + agg + " " + rest + " GROUP BY 1"  # noqa: S608
    found = {m: v for m, v in _rows(sql, [timezone.get_current_timezone_name(), *params])}
    return [(m, int(found.get(m) or 0)) for m in months]


def collect() -> dict:
    tenant = require_tenant()
    t = tenant.pk
    months = _months()
    since = datetime.datetime.strptime(months[0] + "-01", "%Y-%m-%d").replace(tzinfo=datetime.UTC)
    data = {"currency": tenant.currency, "months": months}
    data["listings"] = _per_month(
        "published_at", "count(*)",
        "FROM listings_listing WHERE tenant_id = %s AND published_at >= %s", [t, since], months)
    data["wants"] = _per_month(
        "created_at", "count(*)",
        "FROM demand_want WHERE tenant_id = %s AND created_at >= %s", [t, since], months)
    data["matches"] = _per_month(
        "created_at", "count(*)",
        "FROM demand_match WHERE tenant_id = %s AND created_at >= %s", [t, since], months)
    data["orders"] = _per_month(
        "placed_at", "count(*)",
        "FROM escrow_order WHERE tenant_id = %s AND placed_at >= %s", [t, since], months)
    # Volume: orders whose money reached escrow (funded or later, not refunded), by the month they were funded.
    data["volume"] = _per_month(
        "o.funded_at", f"sum({PRICE_SQL})",
        "FROM escrow_order o WHERE o.tenant_id = %s AND o.funded_at >= %s AND o.state <> 'refunded'", [t, since], months)
    data["by_kind"] = [
        {"kind": r[0] or "—", "orders": r[1], "volume": int(r[2] or 0), "median": int(r[3] or 0)}
        for r in _rows(f"SELECT l.kind, count(*), sum({PRICE_SQL}), percentile_disc(0.5) WITHIN GROUP "  # noqa: S608
                       f"(ORDER BY {PRICE_SQL}) FROM escrow_order o JOIN listings_listing l ON l.id = o.listing_id "
                       "WHERE o.tenant_id = %s AND o.funded_at IS NOT NULL AND o.state <> 'refunded' "
                       "GROUP BY 1 ORDER BY 3 DESC NULLS LAST", [t])]
    data["by_office"] = [
        {"office": r[0], "orders": r[1], "volume": int(r[2] or 0), "median": int(r[3] or 0),
         "payout_days": float(r[4]) if r[4] is not None else None, "paid_out": r[5]}
        for r in _rows(f"""
            SELECT {OFFICE_SQL} AS office, count(*), sum({PRICE_SQL}),
                   percentile_disc(0.5) WITHIN GROUP (ORDER BY {PRICE_SQL}),
                   round(avg(EXTRACT(EPOCH FROM (p.paid_at - o.placed_at)) / 86400)::numeric, 1),
                   count(p.id)
            FROM escrow_order o JOIN listings_listing l ON l.id = o.listing_id
            LEFT JOIN LATERAL (SELECT d.id, d.paid_at FROM escrow_disbursement d WHERE d.order_id = o.id
                               AND d.kind = 'payout' AND d.state = 'paid' ORDER BY d.paid_at LIMIT 1) p ON true
            WHERE o.tenant_id = %s AND o.funded_at IS NOT NULL AND o.state <> 'refunded'
            GROUP BY 1 ORDER BY 3 DESC NULLS LAST""", [t])]  # noqa: S608 (constant fragment)
    data["by_month_median"] = _per_month(
        "o.funded_at", f"percentile_disc(0.5) WITHIN GROUP (ORDER BY {PRICE_SQL})",
        "FROM escrow_order o WHERE o.tenant_id = %s AND o.funded_at >= %s AND o.state <> 'refunded'", [t, since], months)
    data["disputes"] = _per_month(
        "d.opened_at", "count(*)",
        "FROM escrow_dispute d JOIN escrow_order o ON o.id = d.order_id WHERE o.tenant_id = %s AND d.opened_at >= %s", [t, since], months)
    data["refunds"] = _per_month(
        "closed_at", "count(*)",
        "FROM escrow_order WHERE tenant_id = %s AND state = 'refunded' AND closed_at >= %s", [t, since], months)
    data["refund_amount"] = int(_rows("SELECT coalesce(sum(amount_minor), 0) FROM escrow_disbursement WHERE "
                                      "tenant_id = %s AND kind = 'refund'", [t])[0][0])
    data["totals"] = {
        "listings_live": _rows("SELECT count(*) FROM listings_listing WHERE tenant_id = %s AND state = 'published'",
                               [t])[0][0],
        "wants_open": _rows("SELECT count(*) FROM demand_want WHERE tenant_id = %s AND state = 'open' AND deadline >= %s",
                            [t, timezone.localdate()])[0][0],
        "matches": sum(v for _m, v in data["matches"]),
        "orders": sum(v for _m, v in data["orders"]),
        "volume": sum(v for _m, v in data["volume"]),
        "disputes": sum(v for _m, v in data["disputes"]),
        "refunds": sum(v for _m, v in data["refunds"]),
    }
    return data


# --- SVG charts ------------------------------------------------------------------------------------

def bar_chart(series: list[tuple[str, int]], *, title: str, money: str = "", width: int = 560, height: int = 200) -> str:
    """A labelled bar chart as inline SVG; scales to its container (viewBox), readable on a phone."""
    left, bottom, top = 8, 28, 22
    n = max(len(series), 1)
    peak = max([v for _l, v in series] + [1])
    slot = (width - left * 2) / n
    bar = max(slot * 0.66, 2)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    usable = height - bottom - top
    for i, (label, value) in enumerate(series):
        h = 0 if peak == 0 else round(usable * value / peak, 1)
        x = round(left + i * slot + (slot - bar) / 2, 1)
        y = round(height - bottom - h, 1)
        shown = format_money(value, money, symbol=False) if money else f"{value:,}"
        parts.append(f'<rect x="{x}" y="{y}" width="{round(bar, 1)}" height="{h}" class="bar"><title>{escape(label)}: '
                     f'{escape(shown)}</title></rect>')
        if value:
            short = _short(value / (10 ** exponent(money)) if money else value)
            parts.append(f'<text x="{round(x + bar / 2, 1)}" y="{round(y - 4, 1)}" class="val">{short}</text>')
        month = label[-2:] if len(label) == 7 else label[-5:]
        parts.append(f'<text x="{round(x + bar / 2, 1)}" y="{height - 8}" class="lbl">{escape(month)}</text>')
    parts.append(f'<line x1="{left}" x2="{width - left}" y1="{height - bottom}" y2="{height - bottom}" class="axis"/>')
    parts.append("</svg>")
    return "".join(parts)


def _short(value: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:.0f}"


def charts(data: dict) -> dict:
    cur = data["currency"]
    return {name: mark_safe(svg) for name, svg in {  # noqa: S308 (built from numbers and escaped labels)
        "listings": bar_chart(data["listings"], title=_("Listings published per month")),
        "wants": bar_chart(data["wants"], title=_("Wants posted per month")),
        "matches": bar_chart(data["matches"], title=_("Matches per month")),
        "orders": bar_chart(data["orders"], title=_("Orders placed per month")),
        "volume": bar_chart(data["volume"], title=_("Volume paid into escrow per month"), money=cur),
        "median": bar_chart(data["by_month_median"], title=_("Median price per month"), money=cur),
        "disputes": bar_chart(data["disputes"], title=_("Disputes opened per month")),
        "refunds": bar_chart(data["refunds"], title=_("Orders refunded per month")),
    }.items()}


# --- export ----------------------------------------------------------------------------------------

def tables(data: dict) -> list[tuple[str, list[str], list[list]]]:
    """(sheet name, header, rows) for CSV and XLSX; amounts in major units of the exchange's currency."""
    cur = data["currency"]

    def major(v):
        from decimal import Decimal

        exp = exponent(cur)
        return f"{Decimal(int(v or 0)).scaleb(-exp):.{exp}f}"

    monthly = [[m, lst, w, mt, o, major(vol), major(med), d, r] for (m, lst), (_a, w), (_b, mt), (_c, o), (_d, vol),
               (_e, med), (_f, d), (_g, r) in zip(data["listings"], data["wants"], data["matches"], data["orders"],
                                                  data["volume"], data["by_month_median"], data["disputes"],
                                                  data["refunds"], strict=True)]
    return [
        ("monthly", ["month", "listings", "wants", "matches", "orders", f"volume_{cur}", f"median_price_{cur}",
                     "disputes", "refunds"], monthly),
        ("by_kind", ["kind", "orders", f"volume_{cur}", f"median_price_{cur}"],
         [[k["kind"], k["orders"], major(k["volume"]), major(k["median"])] for k in data["by_kind"]]),
        ("by_office", ["office", "orders", f"volume_{cur}", f"median_price_{cur}", "avg_days_order_to_payout",
                       "paid_out"],
         [[o["office"], o["orders"], major(o["volume"]), major(o["median"]),
           "" if o["payout_days"] is None else o["payout_days"], o["paid_out"]] for o in data["by_office"]]),
    ]


def to_csv(data: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for name, header, rows in tables(data):
        writer.writerow([f"# {name}"])
        writer.writerow(header)
        writer.writerows(rows)
        writer.writerow([])
    return "\ufeff" + out.getvalue()  # BOM: spreadsheet programs read the UTF-8 Chinese correctly


def to_xlsx(data: dict) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, header, rows in tables(data):
        ws = wb.create_sheet(name)
        ws.append(header)
        for row in rows:
            ws.append([_number(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _number(v):
    if isinstance(v, str):
        try:
            return float(v) if "." in v else int(v)
        except ValueError:
            return v
    return v
