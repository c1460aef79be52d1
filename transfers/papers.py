"""The transfer papers as PDFs (reportlab), generated from the order's data, bilingual (Chinese and
English). Output is deterministic (`invariant=1`): the same data gives the same bytes, so the SHA-256
of a paper identifies exactly what was signed.

Papers (seed Fig. 3): the transfer agreement, the power of attorney for the transfer, the dismissal
letter; then the office's cover data (for the USPTO the recordation cover sheet fields) and, at the
end, the office notice. `signed_pdf_bytes` appends a signature page to a paper for download; `render_pages` shows a paper's
pages as images.
"""

from __future__ import annotations

import hashlib
import io
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.money import format_money

from .models import DocumentKind

CJK = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(CJK))

BASE = ParagraphStyle("base", fontName=CJK, fontSize=10, leading=15, wordWrap="CJK")
SMALL = ParagraphStyle("small", parent=BASE, fontSize=8.5, leading=12, textColor=colors.HexColor("#4b5563"))
TITLE = ParagraphStyle("title", parent=BASE, fontSize=17, leading=23, alignment=TA_CENTER, spaceAfter=2)
SUBTITLE = ParagraphStyle("subtitle", parent=BASE, fontSize=12, leading=16, alignment=TA_CENTER,
                          textColor=colors.HexColor("#374151"), spaceAfter=10)
HEADING = ParagraphStyle("heading", parent=BASE, fontSize=11.5, leading=16, spaceBefore=9, spaceAfter=3)
CELL = ParagraphStyle("cell", parent=BASE, fontSize=9, leading=12.5)

KIND_ZH = {"invention": "发明专利", "utility_model": "实用新型专利", "design": "外观设计专利", "trademark": "注册商标"}
KIND_EN = {"invention": "Invention patent", "utility_model": "Utility model", "design": "Design",
           "trademark": "Trademark"}
JURISDICTION_EN = {"CN": "China", "US": "United States", "EP": "Europe", "WO": "International (WIPO)"}
DEAL_ZH = {"assignment": "转让", "exclusive_licence": "独占许可", "non_exclusive_licence": "普通许可"}
DEAL_EN = {"assignment": "Assignment", "exclusive_licence": "Exclusive licence",
           "non_exclusive_licence": "Non-exclusive licence"}
# USPTO cover sheet "nature of conveyance".
CONVEYANCE_EN = {"assignment": "Assignment of the entire interest", "exclusive_licence": "Exclusive license",
                 "non_exclusive_licence": "License"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _p(text: Any, style=BASE) -> Paragraph:
    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def _bi(zh: str, en: str, style=BASE) -> list:
    return [_p(zh, style), _p(en, SMALL if style is BASE else style)]


# --- data ---------------------------------------------------------------------------------------

def _address(text: str) -> str:
    """An address as one bounded line: an address of many lines (allowed before issue 10) once made the
    papers fail with reportlab's LayoutError."""
    from core.text import ADDRESS_TEXT

    parts = [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]
    joined = ", ".join(parts)
    return joined if len(joined) <= ADDRESS_TEXT else joined[: ADDRESS_TEXT - 1] + "…"


def _party(org) -> dict:
    return {
        "name": org.legal_name, "name_en": org.legal_name_en or "", "country": org.country,
        "registration_number": org.registration_number or "", "address": _address(org.address),
        "email": org.contact_email or "",
    }


def paper_data(order, *, office: str | None = None) -> dict:
    """Everything the papers say, as plain JSON (stored with each paper)."""
    listing = order.listing
    tenant = order.tenant
    rights = [
        {"number": r.number, "jurisdiction": r.jurisdiction, "kind": r.kind, "title": r.title,
         "owner_name": r.owner_name, "grant_date": r.grant_date.isoformat() if r.grant_date else "",
         "legal_status": r.legal_status, "filing_route": r.filing_route}
        for r in listing.rights.order_by("id")
    ]
    moment = order.funded_at or order.placed_at
    agreed = timezone.localtime(moment).date() if moment else timezone.localdate()
    return {
        "order": order.reference,
        "exchange": tenant.name, "exchange_en": tenant.name_en or tenant.name,
        "exchange_email": tenant.support_email or "",
        "seller": _party(order.seller_org), "buyer": _party(order.buyer_org),
        "rights": rights,
        "title": listing.title,
        "deal_type": order.deal_type or listing.deal_type,
        "licence_term_months": (order.terms or {}).get("term_months") or listing.licence_term_months,
        "licence_territory": (order.terms or {}).get("territory") or listing.licence_territory or "",
        "licence": licence_terms(order, listing),
        "price": format_money(order.price_minor, order.currency, symbol=False),
        "agreed_on": agreed.isoformat(),
        "office": office or "",
    }


def licence_terms(order, listing) -> dict:
    """The licence's scope and running royalty as agreed (negotiated terms on the order, else the listing's)."""
    terms = dict(order.terms or {})
    if (order.deal_type or listing.deal_type) == "assignment":
        return {}
    royalty_bps = int(terms.get("royalty_bps") or 0)
    return {
        "exclusive": (order.deal_type or listing.deal_type) == "exclusive_licence",
        "territory": terms.get("territory") or listing.licence_territory or "",
        "field": terms.get("field") or getattr(listing, "licence_field", "") or "",
        "term_months": terms.get("term_months") or listing.licence_term_months,
        "sublicensing": bool(terms.get("sublicensing", getattr(listing, "licence_sublicensing", False))),
        "upfront": format_money(order.price_minor, order.currency, symbol=False),
        "royalty_percent": f"{royalty_bps / 100:g}" if royalty_bps else "",
        "royalty_base": terms.get("royalty_base") or "",
        "royalty_period": terms.get("royalty_period") or "",
        "royalty_minimum": format_money(int(terms.get("royalty_minimum_minor") or 0), order.currency, symbol=False)
        if terms.get("royalty_minimum_minor") else "",
    }


ROYALTY_BASE_ZH = {"net_sales": "净销售额", "gross_sales": "销售总额", "units": "销售数量"}
ROYALTY_PERIOD_ZH = {"quarter": "每季度", "half_year": "每半年", "year": "每年"}
ROYALTY_PERIOD_EN = {"quarter": "quarterly", "half_year": "half-yearly", "year": "yearly"}


# --- rendering ----------------------------------------------------------------------------------

def _footer(reference: str, label: str):
    def draw(canvas, doc):
        canvas.saveState()
        canvas.setFont(CJK, 7.5)
        canvas.setFillColor(colors.HexColor("#6b7280"))
        canvas.drawString(20 * mm, 12 * mm, f"{label} · {reference}")
        canvas.drawRightString(190 * mm, 12 * mm, f"{doc.page}")
        canvas.restoreState()
    return draw


def _render(story: list, *, title: str, reference: str) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, invariant=1, title=title, author="ipex", creator="ipex",
                            leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=20 * mm)
    doc.build(story, onFirstPage=_footer(reference, title), onLaterPages=_footer(reference, title))
    return buffer.getvalue()


def _grid(rows, widths, header=True) -> Table:
    table = Table([[c if isinstance(c, Paragraph) else _p(c, CELL) for c in row] for row in rows], colWidths=widths,
                  repeatRows=1 if header else 0)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#9ca3af")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2ff")))
    table.setStyle(TableStyle(style))
    return table


def _parties_table(data) -> Table:
    s, b = data["seller"], data["buyer"]
    rows = [
        ["", "转让方（卖方）Assignor (seller)", "受让方（买方）Assignee (buyer)"],
        ["名称 Name", f"{s['name']}\n{s['name_en']}".strip(), f"{b['name']}\n{b['name_en']}".strip()],
        ["国家/地区 Country", s["country"], b["country"]],
        ["登记号 Registration no.", s["registration_number"] or "-", b["registration_number"] or "-"],
        ["地址 Address", s["address"] or "-", b["address"] or "-"],
    ]
    return _grid(rows, [38 * mm, 66 * mm, 66 * mm])


def _rights_table(data) -> Table:
    rows = [["号码 Number", "类型 Kind", "名称 Title", "权利人 Owner of record"]]
    for r in data["rights"]:
        rows.append([r["number"], f"{KIND_ZH.get(r['kind'], r['kind'])}\n{KIND_EN.get(r['kind'], r['kind'])}"
                     f" ({r['jurisdiction']})", r["title"], r["owner_name"]])
    return _grid(rows, [36 * mm, 32 * mm, 62 * mm, 40 * mm])


def _signature_note() -> list:
    return [Spacer(1, 8), *_bi(
        "本文件由双方在平台上以输入全名并明示同意的方式签署；签署记录（时间、IP 地址、文件 SHA-256）附于签署页。",
        "Signed by both parties on the platform by typing their full name and giving explicit consent; the record "
        "(time, IP address, SHA-256 of this file) is on the signature page.")]


def _is_trademark(data) -> bool:
    return bool(data["rights"]) and all(r["kind"] == "trademark" for r in data["rights"])


def agreement_pdf(data: dict) -> bytes:
    tm = _is_trademark(data)
    deal = data["deal_type"]
    if deal != "assignment":
        return licence_contract_pdf(data)
    title_zh = ("商标" if tm else "专利") + ("转让协议" if deal == "assignment" else "实施许可合同")
    title_en = ("Trademark " if tm else "Patent ") + ("Assignment Agreement" if deal == "assignment" else
                                                       "Licence Agreement")
    story = [_p(title_zh, TITLE), _p(title_en, SUBTITLE),
             _p(f"合同编号 Contract no.: {data['order']}    签订日期 Date: {data['agreed_on']}", SMALL), Spacer(1, 6),
             _p("一、当事人 Parties", HEADING), _parties_table(data),
             _p("二、标的 Rights conveyed", HEADING), _rights_table(data),
             _p("三、交易条件 Terms", HEADING)]
    story += _bi(f"交易方式：{DEAL_ZH.get(deal, deal)}；价款：{data['price']}（由{data['exchange']}托管，"
                 "在主管机关核准变更且受让方确认收到证书和通知后支付给转让方）。",
                 f"Deal: {DEAL_EN.get(deal, deal)}; price {data['price']}, held in escrow by {data['exchange_en']} "
                 "and paid to the assignor after the office approves the change and the assignee confirms receipt "
                 "of the certificate and the notice.")
    if deal != "assignment":
        story += _bi(f"许可期限：{data['licence_term_months'] or '-'} 个月；地域：{data['licence_territory'] or '-'}。",
                     f"Term: {data['licence_term_months'] or '-'} months; territory: "
                     f"{data['licence_territory'] or '-'}.")
    story += [_p("四、保证 Warranties", HEADING)]
    story += _bi("转让方保证其为上述权利的合法权利人，权利有效、无质押及未披露的许可，年费已按期缴纳。",
                 "The assignor warrants that it owns the rights above, that they are in force, free of pledges and "
                 "undisclosed licences, and that renewal fees are paid.")
    story += [_p("五、变更登记 Recordation", HEADING)]
    story += _bi("双方委托交易所向主管机关办理著录项目变更（权利人变更）手续，并签署相应委托书及解聘书。",
                 "Both parties instruct the exchange to record the change of owner with the office and sign the "
                 "power of attorney and the dismissal letter for it.")
    story += [_p("六、争议 Disputes", HEADING)]
    story += _bi("因本协议产生的争议，双方先通过交易所调解；调解不成的，提交交易所所在地人民法院诉讼解决。",
                 "Disputes are first mediated by the exchange, then brought before the court where the exchange "
                 "has its seat.")
    story += _signature_note()
    return _render(story, title=title_en, reference=data["order"])


def power_of_attorney_pdf(data: dict) -> bytes:
    tm = _is_trademark(data)
    story = [_p(("商标" if tm else "专利") + "权转让手续委托书", TITLE),
             _p(f"Power of Attorney for the Transfer of the {'Trademark' if tm else 'Patent'}", SUBTITLE),
             _p(f"Order {data['order']} · {data['agreed_on']}", SMALL), Spacer(1, 6),
             _p("委托人 Principals", HEADING), _parties_table(data),
             _p("受托人 Agent", HEADING)]
    story += _bi(f"{data['exchange']}（联系邮箱 {data['exchange_email'] or '-'}）",
                 f"{data['exchange_en']} (contact {data['exchange_email'] or '-'})")
    story += [_p("委托事项 Matters entrusted", HEADING), _rights_table(data), Spacer(1, 4)]
    story += _bi("兹委托受托人代为向主管机关提交上述权利的转让（权利人变更）登记申请、办理补正、接收通知书及证书。",
                 "The principals appoint the agent to file the recordation of the transfer (change of owner) of the "
                 "rights above with the office, answer requests for correction, and receive the notices and "
                 "certificates.")
    story += _bi("委托期限：自签署之日起至变更登记完成或交易终止之日止。",
                 "This power lasts from signature until the change is recorded or the trade ends.")
    story += _signature_note()
    return _render(story, title="Power of Attorney for the Transfer", reference=data["order"])


def dismissal_pdf(data: dict) -> bytes:
    story = [_p("解除委托书（解聘书）", TITLE), _p("Dismissal Letter (revocation of the previous agent)", SUBTITLE),
             _p(f"Order {data['order']} · {data['agreed_on']}", SMALL), Spacer(1, 6),
             _p("声明人 Declarant (assignor)", HEADING)]
    s = data["seller"]
    story += _bi(f"{s['name']}，{s['country']}，登记号 {s['registration_number'] or '-'}",
                 f"{s['name_en'] or s['name']}, {s['country']}, registration no. {s['registration_number'] or '-'}")
    story += [_p("涉及权利 Rights concerned", HEADING), _rights_table(data), Spacer(1, 4)]
    story += _bi("声明人自本函签署之日起，解除此前就上述权利委托的代理机构的全部委托，由受让方及其委托的交易所办理后续手续；"
                 "受让方知悉并同意。",
                 "From the date of signature the declarant revokes every appointment of its previous agent for the "
                 "rights above; further formalities are handled by the assignee and the exchange it appointed. The "
                 "assignee acknowledges and agrees.")
    story += _signature_note()
    return _render(story, title="Dismissal Letter", reference=data["order"])


def licence_contract_pdf(data: dict) -> bytes:
    """The licence contract (专利实施许可合同 / 商标使用许可合同): licensor and licensee, the rights, the
    licence's kind, territory, field of use, term, sublicensing, upfront fee and running royalty, and
    the recordal with the office (CNIPA: within three months of the contract taking effect)."""
    tm = _is_trademark(data)
    lic = data.get("licence") or {}
    exclusive = lic.get("exclusive", data["deal_type"] == "exclusive_licence")
    title_zh = ("商标使用许可合同" if tm else "专利实施许可合同")
    title_en = ("Trademark" if tm else "Patent") + (" Exclusive" if exclusive else " Non-exclusive") + " Licence Contract"
    story = [_p(title_zh, TITLE), _p(title_en, SUBTITLE),
             _p(f"合同编号 Contract no.: {data['order']}    签订日期 Date: {data['agreed_on']}", SMALL), Spacer(1, 6),
             _p("一、当事人 Parties（许可方 Licensor / 被许可方 Licensee）", HEADING), _parties_table(data),
             _p("二、许可标的 Licensed rights", HEADING), _rights_table(data),
             _p("三、许可范围 Scope of the licence", HEADING)]
    kind_zh = "独占许可" if exclusive else "普通许可"
    kind_en = "exclusive licence" if exclusive else "non-exclusive licence"
    story += _bi(f"许可种类：{kind_zh}；地域：{lic.get('territory') or data['licence_territory'] or '-'}；"
                 f"实施领域：{lic.get('field') or '全部领域'}；期限：{lic.get('term_months') or '-'} 个月；"
                 f"分许可：{'允许' if lic.get('sublicensing') else '不允许'}。",
                 f"Kind: {kind_en}; territory: {lic.get('territory') or data['licence_territory'] or '-'}; field of "
                 f"use: {lic.get('field') or 'all fields'}; term: {lic.get('term_months') or '-'} months; "
                 f"sublicensing: {'allowed' if lic.get('sublicensing') else 'not allowed'}.")
    if exclusive:
        story += _bi("在上述地域和领域内，许可方不再许可任何第三方实施，亦不自行实施。",
                     "Within this territory and field the licensor grants no other licence and does not practise "
                     "the rights itself.")
    story += [_p("四、使用费 Fees", HEADING)]
    story += _bi(f"入门费（一次性）：{lic.get('upfront') or data['price']}，由{data['exchange']}托管，在主管机关完成许可合同备案、"
                 "被许可方确认后支付给许可方。",
                 f"Upfront fee: {lic.get('upfront') or data['price']}, held in escrow by {data['exchange_en']} and paid to "
                 "the licensor once the office has recorded this contract and the licensee has confirmed.")
    if lic.get("royalty_percent"):
        base = lic.get("royalty_base") or "net_sales"
        period = lic.get("royalty_period") or "year"
        minimum_zh = f"，每期最低 {lic['royalty_minimum']}" if lic.get("royalty_minimum") else ""
        minimum_en = f", at least {lic['royalty_minimum']} per period" if lic.get("royalty_minimum") else ""
        story += _bi(f"提成费：按{ROYALTY_BASE_ZH.get(base, base)}的 {lic['royalty_percent']}%，{ROYALTY_PERIOD_ZH.get(period, period)}"
                     f"报告并通过交易所支付{minimum_zh}；逾期未报告或未支付视为违约。",
                     f"Running royalty: {lic['royalty_percent']} % of {base.replace('_', ' ')}, reported and paid "
                     f"{ROYALTY_PERIOD_EN.get(period, period)} through the exchange{minimum_en}; a missed report or "
                     "payment is a breach.")
    story += [_p("五、保证 Warranties", HEADING)]
    story += _bi("许可方保证其为上述权利的合法权利人，权利有效，年费已按期缴纳，且本许可不与已授予的独占许可冲突。",
                 "The licensor warrants that it owns the rights above, that they are in force with renewal fees paid, "
                 "and that this licence does not conflict with an exclusive licence already granted.")
    story += [_p("六、备案 Recordal", HEADING)]
    if tm:
        story += _bi("许可方应将本合同报送商标局备案（商标使用许可备案）；交易所代为办理。",
                     "The licensor records this contract with the CNIPA Trademark Office (trademark licence "
                     "record-filing); the exchange files it for the parties.")
    else:
        story += _bi("双方应自本合同生效之日起3个月内向国家知识产权局办理专利实施许可合同备案；交易所代为办理。本合同不转移专利权，"
                     "不需要转让委托书或解聘书。",
                     "The parties record this contract with CNIPA within three months of its entry into force "
                     "(patent licence contract record-filing); the exchange files it. This contract transfers no "
                     "ownership: no power of attorney to transfer and no dismissal letter are needed.")
    story += [_p("七、争议 Disputes", HEADING)]
    story += _bi("因本合同产生的争议，双方先通过交易所调解；调解不成的，提交交易所所在地人民法院诉讼解决。",
                 "Disputes are first mediated by the exchange, then brought before the court where the exchange "
                 "has its seat.")
    story += _signature_note()
    return _render(story, title=title_en, reference=data["order"])


def return_assignment_pdf(data: dict) -> bytes:
    """The assignment back (返还转让协议): the order was refunded after the office recorded the buyer as
    owner, so the buyer (now owner of record) assigns the rights back to the seller; the exchange files
    it with the office, and the buyer's payment is returned once the office records it."""
    tm = _is_trademark(data)
    b, s = data["buyer"], data["seller"]
    back = {**data, "rights": [{**r, "owner_name": b["name"]} for r in data["rights"]]}  # the buyer owns them now
    story = [_p(("商标" if tm else "专利") + "权返还转让协议", TITLE),
             _p(f"Assignment of the {'Trademark' if tm else 'Patent'} Back to the Seller", SUBTITLE),
             _p(f"合同编号 Contract no.: {data['order']}-R    日期 Date: {data['agreed_on']}", SMALL), Spacer(1, 6),
             _p("一、当事人 Parties", HEADING), _grid([
                 ["", "转让方（原买方）Assignor (buyer)", "受让方（原卖方）Assignee (seller)"],
                 ["名称 Name", f"{b['name']}\n{b['name_en']}".strip(), f"{s['name']}\n{s['name_en']}".strip()],
                 ["国家/地区 Country", b["country"], s["country"]],
                 ["登记号 Registration no.", b["registration_number"] or "-", s["registration_number"] or "-"],
                 ["地址 Address", b["address"] or "-", s["address"] or "-"],
             ], [38 * mm, 66 * mm, 66 * mm]),
             _p("二、标的 Rights conveyed back", HEADING), _rights_table(back),
             _p("三、背景 Background", HEADING)]
    story += _bi(f"依订单 {data['order']}，主管机关已将上述权利登记至原买方名下。该交易已由{data['exchange']}决定退款，"
                 "双方同意将上述权利返还原卖方。",
                 f"Under order {data['order']} the office recorded the original buyer as owner of the rights above. "
                 f"{data['exchange_en']} decided to refund the trade, and both parties agree to convey the rights "
                 "back to the original seller.")
    story += [_p("四、价款 Payment", HEADING)]
    story += _bi(f"原买方已付价款（{data['price']}）仍由交易所托管，在主管机关登记返还转让后退还原买方；原卖方不因本交易收取任何款项。",
                 f"The price the buyer paid ({data['price']}) stays in escrow with the exchange and is returned to "
                 "the buyer once the office records this transfer back; the seller receives nothing for the trade.")
    story += [_p("五、变更登记 Recordation", HEADING)]
    story += _bi("双方委托交易所向主管机关办理权利人变更（返还）登记手续，并接收相关通知书。",
                 "Both parties instruct the exchange to record the change of owner back to the seller with the "
                 "office and to receive the office's notices.")
    story += _signature_note()
    return _render(story, title="Assignment Back to the Seller", reference=f"{data['order']}-R")


RENDERERS = {
    DocumentKind.AGREEMENT: agreement_pdf,
    DocumentKind.POWER_OF_ATTORNEY: power_of_attorney_pdf,
    DocumentKind.DISMISSAL: dismissal_pdf,
    DocumentKind.RETURN: return_assignment_pdf,
}


# --- office cover data --------------------------------------------------------------------------

def cover_data(data: dict, *, office: str, executed_on: date | None) -> dict:
    """The fields the office's own form asks for. For the USPTO: the recordation cover sheet
    (PTO-1595 for patents, PTO-1594 for trademarks)."""
    s, b = data["seller"], data["buyer"]
    numbers = [r["number"] for r in data["rights"]]
    deal = data["deal_type"]
    common = {
        "office": office,
        "numbers": numbers,
        "conveying_party": s["name_en"] or s["name"],
        "receiving_party": b["name_en"] or b["name"],
        "receiving_party_address": b["address"],
        "execution_date": executed_on.isoformat() if executed_on else "",
        "correspondence": f"{data['exchange_en']} <{data['exchange_email']}>" if data["exchange_email"]
        else data["exchange_en"],
        "order": data["order"],
    }
    if deal != "assignment":
        return _licence_cover(common, data, office=office, executed_on=executed_on)
    if office.startswith("uspto"):
        form = "PTO-1595" if office == "uspto_patent" else "PTO-1594"
        common.update({
            "form": form,
            "nature_of_conveyance": CONVEYANCE_EN.get(deal, deal),
            "conveying_party_country": s["country"],
            "receiving_party_country": b["country"],
            "total_number_of_properties": len(numbers),
        })
    elif office.startswith("cnipa"):
        common.update({
            "form": "著录项目变更申报书" if office == "cnipa_patent" else "转让/移转申请书",
            "change_item": "专利权人" if office == "cnipa_patent" else "商标注册人",
            "before_change": s["name"], "after_change": b["name"],
            "nature_of_conveyance": DEAL_ZH.get(deal, deal),
        })
    elif office == "cpcc":
        # CPCC: registration of the copyright transfer or exclusive licence contract.
        licence = deal in ("exclusive_licence", "non_exclusive_licence")
        common.update({
            "form": "计算机软件著作权专有许可合同登记申请表" if licence else "计算机软件著作权转让合同登记申请表",
            "change_item": "著作权人" if not licence else "专有许可",
            "before_change": s["name"], "after_change": b["name"],
            "nature_of_conveyance": DEAL_ZH.get(deal, deal),
        })
    elif office == "epo":
        common.update({"form": "EPO Form 2544 (request for registration of a transfer, Rule 22 EPC)",
                       "nature_of_conveyance": CONVEYANCE_EN.get(deal, deal)})
    elif office == "ep_national":
        states = sorted({code.strip() for r in data["rights"]
                         for code in (r.get("filing_route") or "").split(",") if code.strip()})
        common.update({"form": "Request for recording a transfer, filed with each national office",
                       "validation_states": states,
                       "nature_of_conveyance": CONVEYANCE_EN.get(deal, deal)})
    else:
        common.update({"form": "Request for recording a transfer",
                       "nature_of_conveyance": CONVEYANCE_EN.get(deal, deal)})
    return common


def _licence_cover(common: dict, data: dict, *, office: str, executed_on: date | None) -> dict:
    """The cover data of a licence recordal: CNIPA patent licence contract record-filing (备案 within
    three months of the contract taking effect), CNIPA trademark licence record-filing, the USPTO
    recordation cover sheet with the conveyance "License" (optional in the US), otherwise the office's
    licence recordal request."""
    s, b = data["seller"], data["buyer"]
    lic = data.get("licence") or {}
    exclusive = lic.get("exclusive", data["deal_type"] == "exclusive_licence")
    common = {**common, "licensor": s["name"], "licensee": b["name"], "licensee_address": b["address"]}
    common.pop("conveying_party", None)
    common.pop("receiving_party", None)
    common.pop("receiving_party_address", None)
    term = lic.get("term_months") or data.get("licence_term_months")
    if executed_on and term:
        common["licence_period"] = f"{executed_on.isoformat()} – {add_months(executed_on, int(term)).isoformat()}"
    else:
        common["licence_period"] = f"{term or '-'} 个月 months"
    common.update({"territory": lic.get("territory") or data.get("licence_territory") or "",
                   "field_of_use": lic.get("field") or "全部 all", "sublicensing": "是 yes" if lic.get("sublicensing")
                   else "否 no", "fee": f"{lic.get('upfront') or data['price']}" + (
                       f" + {lic['royalty_percent']}% ({lic.get('royalty_base') or '-'})" if lic.get("royalty_percent")
                       else "")})
    if office == "cnipa_patent":
        common.update({"form": "专利实施许可合同备案申请表",
                       "licence_kind": "独占许可 exclusive" if exclusive else "普通许可 non-exclusive",
                       "nature_of_conveyance": "专利实施许可合同备案 Patent licence contract record-filing",
                       "recordal_due": add_months(executed_on, 3).isoformat() if executed_on else
                       "合同生效之日起3个月内 within 3 months of entry into force"})
    elif office == "cnipa_trademark":
        common.update({"form": "商标使用许可备案表",
                       "licence_kind": "独占使用许可 exclusive" if exclusive else "普通使用许可 non-exclusive",
                       "nature_of_conveyance": "商标使用许可备案 Trademark licence record-filing"})
    elif office.startswith("uspto"):
        common.update({"form": "PTO-1595" if office == "uspto_patent" else "PTO-1594",
                       "nature_of_conveyance": "Exclusive License" if exclusive else "License",
                       "recordal_note": "Recordation of a licence with the USPTO is optional.",
                       "total_number_of_properties": len(common["numbers"])})
    else:
        common.update({"form": "Request for recording a licence",
                       "nature_of_conveyance": "Exclusive licence" if exclusive else "Licence"})
    return common


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    import calendar

    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


COVER_LABELS = [
    ("form", "表格 Form"),
    ("conveying_party", "转让方 Name of conveying party"),
    ("conveying_party_country", "转让方国家 Citizenship / country"),
    ("receiving_party", "受让方 Name of receiving party"),
    ("receiving_party_address", "受让方地址 Address of receiving party"),
    ("receiving_party_country", "受让方国家 Country"),
    ("nature_of_conveyance", "转让性质 Nature of conveyance"),
    ("licensor", "许可人 Licensor"),
    ("licensee", "被许可人 Licensee"),
    ("licensee_address", "被许可人地址 Licensee's address"),
    ("licence_kind", "许可种类 Kind of licence"),
    ("territory", "许可地域 Territory"),
    ("field_of_use", "实施领域 Field of use"),
    ("licence_period", "许可期限 Licence period"),
    ("sublicensing", "分许可 Sublicensing"),
    ("fee", "使用费 Fees"),
    ("recordal_due", "备案期限 Record-filing due"),
    ("recordal_note", "说明 Note"),
    ("change_item", "变更项目 Item changed"),
    ("before_change", "变更前 Before"),
    ("after_change", "变更后 After"),
    ("execution_date", "签署日期 Execution date"),
    ("numbers", "号码 Application / registration numbers"),
    ("total_number_of_properties", "数量 Total number of properties"),
    ("correspondence", "通讯联系人 Correspondence address"),
    ("order", "交易编号 Platform order"),
]


def cover_pdf(cover: dict, *, office_name: str) -> bytes:
    rows = [["项目 Field", "内容 Value"]]
    for key, label in COVER_LABELS:
        if key in cover:
            value = cover[key]
            if isinstance(value, list):
                value = "\n".join(value)
            rows.append([label, value if value not in (None, "") else "-"])
    story = [_p("主管机关申报数据", TITLE), _p(f"Office cover data · {office_name}", SUBTITLE),
             _grid(rows, [62 * mm, 108 * mm]), Spacer(1, 8),
             *_bi("本页数据由平台根据订单生成，供托管专员向主管机关提交。",
                  "Generated by the platform from the order for the escrow officer to submit to the office.")]
    return _render(story, title="Office cover data", reference=cover.get("order", ""))


def notice_pdf(*, data: dict, office_name: str, title_zh: str, title_en: str, number: str, text: str,
               issued_on: str, reference: str) -> bytes:
    licence = data.get("deal_type", "assignment") != "assignment"
    if licence:  # a licence recordal: the owner does not change
        title_zh, title_en = "许可合同备案通知书", "Notice of recordal of the licence contract"
        parties = [["许可人 Licensor", data["seller"]["name"]], ["被许可人 Licensee", data["buyer"]["name"]]]
    else:
        parties = [["变更前权利人 Previous owner", data["seller"]["name"]],
                   ["变更后权利人 New owner", data["buyer"]["name"]]]
    story = [_p(title_zh, TITLE), _p(title_en, SUBTITLE),
             _grid([["发文机关 Office", office_name], ["申请号 Filing reference", reference],
                    ["通知书编号 Notice no.", number], ["发文日 Issued", issued_on],
                    ["号码 Numbers", "\n".join(r["number"] for r in data["rights"])],
                    *parties], [62 * mm, 108 * mm], header=False),
             Spacer(1, 8), _p(text)]
    return _render(story, title=title_en, reference=data["order"])


# --- signed copies ------------------------------------------------------------------------------

def signature_page(document, signatures) -> bytes:
    rows = [["签署方 Party", "签署人 Signed by", "时间 Time (UTC)", "IP", "SHA-256"]]
    for sig in signatures:
        rows.append([sig.get_party_display(), f"{sig.typed_name}\n{sig.user.email}",
                     sig.signed_at.strftime("%Y-%m-%d %H:%M:%S"), sig.ip_address or "-",
                     f"{sig.document_sha256[:32]}\n{sig.document_sha256[32:]}"])
    story = [_p("签署页", TITLE), _p(f"Signature page · {document.get_kind_display()} v{document.version}", SUBTITLE),
             _grid(rows, [26 * mm, 40 * mm, 32 * mm, 24 * mm, 48 * mm]), Spacer(1, 8),
             *_bi(f"以上各方在平台上阅读并签署了 SHA-256 为 {document.sha256} 的文件。",
                  f"The parties above read and signed the file whose SHA-256 is {document.sha256}.")]
    return _render(story, title="Signature page", reference=document.order.reference)


def signed_pdf_bytes(document) -> bytes:
    """The paper as signed: its exact bytes, followed by the signature page."""
    from pypdf import PdfReader, PdfWriter

    with document.file.open("rb") as handle:
        original = handle.read()
    signatures = list(document.signatures.select_related("user").order_by("signed_at", "id"))
    if not signatures:
        return original
    writer = PdfWriter()
    for source in (original, signature_page(document, signatures)):
        for page in PdfReader(io.BytesIO(source)).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def page_count(document) -> int:
    import pypdfium2 as pdfium

    with document.file.open("rb") as handle:
        pdf = pdfium.PdfDocument(handle.read())
    try:
        return len(pdf)
    finally:
        pdf.close()


def render_pages(pdf_bytes: bytes, *, scale: float = 1.6) -> list[bytes]:
    """Each page of the PDF as a PNG, rendered by PDFium from the file itself: what the party reads is
    what they sign, on any screen (phones and headless browsers cannot show a PDF inline)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(pdf_bytes)
    images = []
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            bitmap = page.render(scale=scale)
            out = io.BytesIO()
            bitmap.to_pil().save(out, format="PNG", optimize=True)
            images.append(out.getvalue())
            page.close()
    finally:
        pdf.close()
    return images
