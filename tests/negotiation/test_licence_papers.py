"""Licence papers are a licence contract (no power of attorney to transfer, no dismissal letter); the
filing is the office's licence recordal (CNIPA record-filing within three months of the contract)."""

import io
from datetime import date

import pytest
from pypdf import PdfReader

from listings.models import Listing
from tests.factories import filed_order, sign_all_papers, transfer_order
from transfers import papers
from transfers.models import DocumentKind, TransferDocument
from transfers.selectors import all_signed, current_filing
from transfers.services import transfer_prepare

pytestmark = pytest.mark.django_db

TERMS = {"exclusive": False, "territory": "CN", "field": "新能源汽车", "term_months": 36, "sublicensing": False,
         "royalty_bps": 300, "royalty_base": "net_sales", "royalty_period": "quarter", "royalty_minimum_minor": 1_000_000}


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def licence_order(**kw):
    order, seller, buyer = transfer_order(deal_type=Listing.DealType.NON_EXCLUSIVE_LICENCE, **kw)
    type(order).objects.filter(pk=order.pk).update(terms=TERMS, holds_listing=False)
    order.refresh_from_db()
    return order, seller, buyer


def test_a_licence_order_gets_one_paper_the_licence_contract(tenant):
    order, seller, buyer = licence_order()
    transfer_prepare(order=order)
    kinds = list(TransferDocument.objects.filter(order=order).values_list("kind", flat=True))
    assert kinds == [DocumentKind.AGREEMENT]
    with TransferDocument.objects.get(order=order).file.open("rb") as handle:
        text = _text(handle.read())
    assert "专利实施许可合同" in text
    assert "Non-exclusive Licence Contract" in text
    assert "新能源汽车" in text
    assert "3 %" in text or "3%" in text
    assert "three months" in text
    assert "Power of Attorney for the Transfer" not in text
    # signed by both, it is complete: the filing can go ahead without the transfer papers
    sign_all_papers(order, seller, buyer)
    assert all_signed(order)


def test_cnipa_patent_licence_record_filing_cover_data(tenant):
    order, *_ = licence_order(rights=2)
    data = papers.paper_data(order, office="cnipa_patent")
    cover = papers.cover_data(data, office="cnipa_patent", executed_on=date(2026, 11, 30))
    assert cover["form"] == "专利实施许可合同备案申请表"
    assert "record-filing" in cover["nature_of_conveyance"]
    assert cover["licensor"] == order.seller_org.legal_name
    assert cover["licensee"] == order.buyer_org.legal_name
    assert cover["licence_kind"].startswith("普通许可")
    assert cover["territory"] == "CN"
    assert cover["recordal_due"] == "2027-02-28"  # three months after the contract, month end
    assert cover["licence_period"] == "2026-11-30 – 2029-11-30"
    assert "change_item" not in cover  # not a change of patentee
    assert "after_change" not in cover
    text = _text(papers.cover_pdf(cover, office_name="CNIPA"))
    assert "许可人 Licensor" in text
    assert "2027-02-28" in text


@pytest.mark.parametrize(("office", "jurisdiction", "kind", "form", "nature"), [
    ("cnipa_trademark", "CN", "trademark", "商标使用许可备案表", "Trademark licence record-filing"),
    ("uspto_patent", "US", "invention", "PTO-1595", "License"),
])
def test_trademark_and_uspto_licence_cover_data(tenant, office, jurisdiction, kind, form, nature):
    order, *_ = licence_order(jurisdiction=jurisdiction, kind=kind)
    cover = papers.cover_data(papers.paper_data(order, office=office), office=office, executed_on=date(2026, 3, 2))
    assert cover["form"] == form
    assert nature in cover["nature_of_conveyance"]


def test_the_office_records_the_licence_and_the_notice_says_licensor_and_licensee(tenant):
    order, seller, buyer, officer, filing = filed_order(deal_type=Listing.DealType.NON_EXCLUSIVE_LICENCE)
    assert [d.kind for d in TransferDocument.objects.filter(order=order, kind=DocumentKind.AGREEMENT)] == ["agreement"]
    assert not TransferDocument.objects.filter(order=order, kind__in=["power_of_attorney", "dismissal"]).exists()
    assert current_filing(order).office == "cnipa_patent"
    cover = TransferDocument.objects.get(order=order, kind=DocumentKind.COVER, superseded=False)
    assert cover.data["form"] == "专利实施许可合同备案申请表"
