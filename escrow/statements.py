"""Downloadable money statements: one order's statement for a party (CSV, PDF) and the ledger export
for finance (CSV, XLSX). Amounts are integer minor units in the files, with a formatted column."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from core.money import format_money

from . import ledger
from .models import Disbursement, JournalLine, Order
from .selectors import destination_text

HEADER = ("date", "item", "amount_minor", "currency", "amount", "status", "account")


def statement_rows(order: Order, role: str) -> list[tuple[str, str, int, str, str, str, str]]:
    """The lines a party sees: what the order costs, what was paid, held, refunded, and each payout with
    its real state and destination. The buyer does not see the seller's commission."""
    cur = order.currency
    st = ledger.order_statement(order)
    day = timezone.localtime(order.placed_at).strftime("%Y-%m-%d") if order.placed_at else ""

    def row(date: str, item: str, amount: int, status: str = "", account: str = "") -> tuple[str, str, int, str,
                                                                                             str, str, str]:
        return (date, item, amount, cur, format_money(amount, cur), status, account)

    rows = [row(day, _("Price"), order.price_minor), row(day, _("Buyer fee"), order.buyer_fee_minor)]
    if order.buyer_broker_commission_minor:
        rows.append(row(day, _("Buyer's broker commission"), order.buyer_broker_commission_minor))
    rows.append(row(day, _("Total"), order.total_minor))
    if role != "buyer":
        rows += [row(day, _("Seller commission"), order.seller_commission_minor),
                 row(day, _("Seller receives"), order.payout_minor)]
    rows += [row("", _("Paid by the buyer"), st["paid"]), row("", _("Held by the platform"), st["held"]),
             row("", _("Refunded to the buyer"), st["refunded"])]
    for d in Disbursement.objects.filter(order=order).order_by("created_at", "pk"):
        if role == "buyer" and d.kind == Disbursement.Kind.PAYOUT:
            continue
        when = timezone.localtime(d.paid_at or d.created_at).strftime("%Y-%m-%d")
        rows.append(row(when, str(d.get_kind_display()), d.amount_minor, str(d.get_state_display()),
                        destination_text(d)))
    return rows


def statement_csv(order: Order, role: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(statement_rows(order, role))
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens Chinese text correctly


def statement_pdf(order: Order, role: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    base = ParagraphStyle("b", fontName=font, fontSize=9, leading=13, wordWrap="CJK")
    title = ParagraphStyle("t", parent=base, fontSize=15, leading=20)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"{order.reference} statement")
    data: list[list[Any]] = [[Paragraph(h, base) for h in (_("Date"), _("Item"), _("Amount"), _("Status"),
                                                            _("Account"))]]
    for date, item, _minor, _cur, amount, status, account in statement_rows(order, role):
        data.append([Paragraph(date, base), Paragraph(item, base), Paragraph(amount, base),
                     Paragraph(status, base), Paragraph(account, base)])
    table = Table(data, colWidths=[22 * mm, 45 * mm, 32 * mm, 35 * mm, 44 * mm], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#d1d5db")),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f4f6")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    party = order.buyer_org if role == "buyer" else order.seller_org
    story = [Paragraph(_("Statement of order %(ref)s") % {"ref": order.reference}, title),
             Paragraph(f"{order.listing.title}", base),
             Paragraph(_("For %(org)s · issued %(when)s") % {
                 "org": party.legal_name, "when": timezone.localtime().strftime("%Y-%m-%d %H:%M")}, base),
             Spacer(1, 6 * mm), table]
    doc.build(story)
    return out.getvalue()


LEDGER_HEADER = ("entry", "date", "kind", "order", "memo", "account", "account_kind", "amount_minor", "currency",
                 "amount")


def ledger_rows(*, since: Any = None, until: Any = None) -> list[tuple[Any, ...]]:
    """Every journal line of the exchange (tenant-scoped manager), oldest first."""
    lines = JournalLine.objects.select_related("entry", "entry__order", "account").order_by("entry__created_at",
                                                                                             "entry_id", "pk")
    if since is not None:
        lines = lines.filter(entry__created_at__gte=since)
    if until is not None:
        lines = lines.filter(entry__created_at__lt=until)
    return [(line.entry_id, timezone.localtime(line.entry.created_at).strftime("%Y-%m-%d %H:%M:%S"),
             line.entry.kind, line.entry.order.reference if line.entry.order else "", line.entry.memo,
             line.account.key, line.account.kind, line.amount_minor, line.currency,
             format_money(line.amount_minor, line.currency, symbol=False)) for line in lines]


def ledger_csv(**kwargs: Any) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LEDGER_HEADER)
    writer.writerows(ledger_rows(**kwargs))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def ledger_xlsx(**kwargs: Any) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "ledger"
    sheet.append(list(LEDGER_HEADER))
    for row in ledger_rows(**kwargs):
        sheet.append(list(row))
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
