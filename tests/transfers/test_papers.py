import io

import pytest
from pypdf import PdfReader

from tests.factories import transfer_order
from transfers import papers
from transfers.models import SIGNED_KINDS, DocumentKind, TransferDocument
from transfers.services import transfer_prepare


def text_of(document):
    with document.file.open("rb") as handle:
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(handle.read())).pages)


def test_funded_order_gets_its_three_papers_once(tenant):
    # given a funded order
    order, seller, buyer = transfer_order()
    # when the transfer is prepared twice (task and page view)
    filing = transfer_prepare(order=order)
    again = transfer_prepare(order=order)
    # then one filing, one paper of each kind
    assert filing.pk == again.pk
    assert filing.office == "cnipa_patent"
    kinds = sorted(TransferDocument.objects.filter(order=order).values_list("kind", flat=True))
    assert kinds == sorted(SIGNED_KINDS)


def test_papers_contain_the_numbers_and_the_parties(tenant):
    order, seller, buyer = transfer_order(rights=2)
    transfer_prepare(order=order)
    numbers = list(order.listing.rights.values_list("number", flat=True))
    for document in TransferDocument.objects.filter(order=order):
        text = text_of(document)
        for number in numbers:
            assert number in text, (document.kind, number)
        assert order.reference in text
        assert order.seller_org.legal_name in text  # Chinese name, CJK font
    agreement = TransferDocument.objects.get(order=order, kind=DocumentKind.AGREEMENT)
    text = text_of(agreement)
    assert order.buyer_org.legal_name in text
    assert "50,000.00 CNY" in text
    assert "专利转让协议" in text
    assert "Patent Assignment Agreement" in text


def test_content_hash_is_stable_for_the_same_data(tenant):
    # given the data of an order
    order, *_ = transfer_order()
    data = papers.paper_data(order, office="cnipa_patent")
    # when each paper is rendered twice
    for kind, render in papers.RENDERERS.items():
        # then the bytes (and so the SHA-256) are the same
        assert papers.sha256(render(data)) == papers.sha256(render(dict(data))), kind
    # and a change in the data changes the hash
    changed = dict(data, price="1.00 CNY")
    assert papers.sha256(papers.agreement_pdf(changed)) != papers.sha256(papers.agreement_pdf(data))


def test_stored_hash_is_the_hash_of_the_stored_bytes(tenant):
    order, *_ = transfer_order()
    transfer_prepare(order=order)
    for document in TransferDocument.objects.filter(order=order):
        with document.file.open("rb") as handle:
            raw = handle.read()
        assert raw.startswith(b"%PDF-")
        assert papers.sha256(raw) == document.sha256
        assert document.size == len(raw)


@pytest.mark.parametrize(("office", "form", "fields"), [
    ("uspto_patent", "PTO-1595", ["nature_of_conveyance", "receiving_party_address", "execution_date",
                                  "correspondence", "total_number_of_properties"]),
    ("uspto_trademark", "PTO-1594", ["nature_of_conveyance"]),
    ("cnipa_patent", "著录项目变更申报书", ["before_change", "after_change"]),
])
def test_cover_data_has_the_office_fields(tenant, office, form, fields):
    from datetime import date

    order, *_ = transfer_order(jurisdiction="US" if office.startswith("uspto") else "CN", rights=2)
    data = papers.paper_data(order, office=office)
    cover = papers.cover_data(data, office=office, executed_on=date(2026, 3, 2))
    assert cover["form"] == form
    assert cover["numbers"] == [r["number"] for r in data["rights"]]
    assert cover["conveying_party"]
    assert cover["receiving_party"]
    for field in fields:
        assert cover[field] not in (None, ""), field
    if office.startswith("uspto"):
        assert cover["execution_date"] == "2026-03-02"
        assert cover["nature_of_conveyance"] == "Assignment of the entire interest"
        pdf = papers.cover_pdf(cover, office_name="USPTO")
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
        assert "2026-03-02" in text
        assert cover["receiving_party"] in text
