"""The pledge contract as a PDF (reportlab, bilingual, deterministic like transfers/papers.py): the same
data gives the same bytes, so the SHA-256 identifies exactly what both parties signed."""

from __future__ import annotations

import hashlib
import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.money import format_money
from transfers.papers import BASE, CJK, HEADING, SMALL, SUBTITLE, TITLE


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _p(text, style=BASE) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), style)


def contract_data(application, offer) -> dict:
    org, lender = application.applicant_org, offer.lender_org
    return {
        "reference": application.reference,
        "pledgor": {"name": org.legal_name, "name_en": org.legal_name_en, "number": org.registration_number,
                    "address": org.address, "country": org.country},
        "pledgee": {"name": lender.legal_name, "name_en": lender.legal_name_en, "number": lender.registration_number,
                    "address": lender.address, "country": lender.country},
        "rights": [{"number": f"{pr.register_record.jurisdiction} {pr.register_record.number}",
                    "kind": pr.register_record.kind, "title": pr.register_record.title,
                    "owner": pr.register_record.owner_name}
                   for pr in application.rights.select_related("register_record")],
        "amount": format_money(offer.amount_minor, offer.currency),
        "amount_minor": offer.amount_minor, "currency": offer.currency,
        "rate": f"{offer.rate_bps / 100:.2f}%", "term_months": offer.term_months,
        "secured_until": application.secured_until.isoformat() if application.secured_until else "",
        "conditions": offer.conditions, "purpose": application.purpose,
    }


def _footer(reference, label="质押合同 Pledge contract"):
    def draw(canvas, doc):
        canvas.saveState()
        canvas.setFont(CJK, 7.5)
        canvas.setFillColor(colors.HexColor("#6b7280"))
        canvas.drawString(20 * mm, 12 * mm, f"{label} · {reference}")
        canvas.drawRightString(190 * mm, 12 * mm, f"{doc.page}")
        canvas.restoreState()
    return draw


def pledge_contract_pdf(data: dict) -> bytes:
    grid = [[_p("编号 No."), _p("权利 Right"), _p("名称 Title"), _p("权利人 Owner of record")]]
    grid += [[_p(i + 1), _p(r["number"]), _p(r["title"]), _p(r["owner"])] for i, r in enumerate(data["rights"])]
    table = Table(grid, colWidths=[14 * mm, 42 * mm, 70 * mm, 44 * mm], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#9ca3af")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2ff"))]))
    p, q = data["pledgor"], data["pledgee"]
    story = [
        _p("知识产权质押合同", TITLE), _p("Intellectual Property Pledge Contract", SUBTITLE),
        _p(f"合同编号 Contract no.: {data['reference']}", SMALL), Spacer(1, 4 * mm),
        _p("一、当事人 Parties", HEADING),
        _p(f"出质人 Pledgor: {p['name']} {p['name_en']} ({p['number'] or '-'}), {p['address'] or ''}"),
        _p(f"质权人 Pledgee: {q['name']} {q['name_en']} ({q['number'] or '-'}), {q['address'] or ''}"),
        _p("二、主债权 Secured loan", HEADING),
        _p(f"借款金额 Amount: {data['amount']}; 年利率 Annual rate: {data['rate']}; 期限 Term: "
           f"{data['term_months']} 个月 months; 担保期至 Secured until: {data['secured_until']}"),
        _p(f"借款用途 Use of the loan: {data['purpose']}"),
        _p("三、质押标的 Pledged rights", HEADING), table,
        _p("四、约定 Terms", HEADING),
        _p("1. 出质人保证对上述权利享有合法权利，且未设立其他质权。The pledgor warrants that it holds the rights "
           "above and that no other pledge is recorded on them."),
        _p("2. 质押期间，未经质权人书面同意，出质人不得转让或独占许可上述权利。During the pledge the pledgor shall not "
           "assign the rights nor grant an exclusive licence without the pledgee's written consent."),
        _p("3. 出质人应按期缴纳年费/续展费。The pledgor shall pay the annual or renewal fees when due."),
        _p("4. 双方应于合同生效后向知识产权主管机关办理质押登记；债务清偿后办理注销登记。The parties shall register "
           "the pledge with the office after signing, and its release once the loan is repaid."),
    ]
    if data.get("conditions"):
        story += [_p("五、其他条件 Further conditions", HEADING), _p(data["conditions"])]
    story += [Spacer(1, 6 * mm),
              _p("本合同由双方在平台上电子签署；签署记录（姓名、时间、IP 地址及本文件 SHA-256）附于签署页。"
                 "Signed electronically on the platform by both parties; each signature (name, time, IP address and "
                 "this file's SHA-256) is recorded.", SMALL)]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, invariant=1, title="Pledge contract", author="ipex", creator="ipex",
                            leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm, bottomMargin=20 * mm)
    doc.build(story, onFirstPage=_footer(data["reference"]), onLaterPages=_footer(data["reference"]))
    return buffer.getvalue()


def release_data(application) -> dict:
    """What the pledge release agreement says: the contract, the recorded pledge, the repayment."""
    offer, filing = application.accepted_offer, application.pledge_filing
    contract = application.documents.filter(kind="pledge_contract").first()
    return {
        "reference": application.reference,
        "contract_sha256": contract.sha256 if contract else "",
        "pledgor": application.applicant_org.legal_name, "pledgor_en": application.applicant_org.legal_name_en,
        "pledgee": offer.lender_org.legal_name, "pledgee_en": offer.lender_org.legal_name_en,
        "pledge_registration": (filing.notice_number or filing.reference) if filing else "",
        "office": str(filing.get_office_display()) if filing else "",
        "rights": [f"{pr.register_record.jurisdiction} {pr.register_record.number} {pr.register_record.title}"
                   for pr in application.rights.select_related("register_record")],
        "amount": format_money(offer.amount_minor, offer.currency),
        "repaid_on": application.repaid_on.isoformat() if application.repaid_on else "",
        "repayment_reference": application.repayment_reference,
    }


def release_agreement_pdf(data: dict) -> bytes:
    """The pledge release agreement both sides sign before staff file the release (deterministic)."""
    story = [
        _p("知识产权质押注销协议", TITLE), _p("Intellectual Property Pledge Release Agreement", SUBTITLE),
        _p(f"质押合同编号 Pledge contract no.: {data['reference']} · SHA-256 {data['contract_sha256'][:16]}…", SMALL),
        Spacer(1, 4 * mm),
        _p("一、当事人 Parties", HEADING),
        _p(f"出质人 Pledgor: {data['pledgor']} {data['pledgor_en']}"),
        _p(f"质权人 Pledgee: {data['pledgee']} {data['pledgee_en']}"),
        _p("二、已登记的质押 The recorded pledge", HEADING),
        _p(f"登记机关 Office: {data['office']}; 登记号 Registration: {data['pledge_registration'] or '-'}"),
        *[_p(f"· {right}") for right in data["rights"]],
        _p("三、清偿 Repayment", HEADING),
        _p(f"主债权 {data['amount']} 已于 {data['repaid_on']} 清偿（凭证 {data['repayment_reference'] or '-'}）。"
           f"The secured loan of {data['amount']} was repaid on {data['repaid_on']} "
           f"(reference {data['repayment_reference'] or '-'})."),
        _p("四、约定 Agreement", HEADING),
        _p("质权人同意解除上述权利的质押，双方共同向登记机关申请办理质押注销登记。The pledgee releases the pledge on the "
           "rights above; both parties ask the office to record the release."),
        Spacer(1, 6 * mm),
        _p("本协议由双方在平台上电子签署；签署记录（姓名、时间、IP 地址及本文件 SHA-256）由平台保存。"
           "Signed electronically on the platform by both parties; each signature (name, time, IP address and "
           "this file's SHA-256) is recorded.", SMALL),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, invariant=1, title="Pledge release agreement", author="ipex",
                            creator="ipex", leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=20 * mm)
    doc.build(story, onFirstPage=_footer(data["reference"], "质押注销协议 Pledge release"),
              onLaterPages=_footer(data["reference"], "质押注销协议 Pledge release"))
    return buffer.getvalue()
