import pytest

from core.errors import Conflict, NotAllowed, ValidationFailed
from core.models import AuditEvent, Notification
from tests.factories import make_member, transfer_order
from transfers import papers
from transfers.models import SIGNED_KINDS, DocumentKind, Signature, TransferDocument
from transfers.selectors import all_signed, current_filing
from transfers.services import document_sign, transfer_prepare


def _doc(order, kind=DocumentKind.AGREEMENT):
    return TransferDocument.objects.get(order=order, kind=kind, superseded=False)


def test_signature_keeps_name_consent_time_ip_and_hash_of_exact_bytes(tenant):
    # given the papers of a funded order
    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    document = _doc(order)
    with document.file.open("rb") as handle:
        expected = papers.sha256(handle.read())
    # when the seller signs with a typed name and consent
    signature = document_sign(document=document, user=seller, typed_name="  Chen   Jing ", consent=True,
                              ip_address="198.51.100.23", user_agent="pytest", shown_sha256=expected)
    # then the record has everything
    assert signature.party == "seller"
    assert signature.typed_name == "Chen Jing"
    assert signature.consent is True
    assert signature.consent_text
    assert signature.ip_address == "198.51.100.23"
    assert signature.document_sha256 == expected == document.sha256
    assert signature.signed_at is not None
    assert signature.organization == order.seller_org
    # and it is an audit event with the IP
    event = AuditEvent.objects.get(action="transfer.document_signed", object_id=str(document.pk))
    assert event.actor == seller
    assert event.ip_address == "198.51.100.23"
    assert event.data["sha256"] == expected


def test_consent_and_name_are_required(tenant):
    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    with pytest.raises(ValidationFailed) as err:
        document_sign(document=_doc(order), user=buyer, typed_name="", consent=False)
    assert set(err.value.field_errors) == {"typed_name", "consent"}
    assert not Signature.objects.exists()


def test_outsider_cannot_sign(tenant):
    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    stranger = make_member()
    with pytest.raises(NotAllowed):
        document_sign(document=_doc(order), user=stranger, typed_name="Someone Else", consent=True)


def test_paper_changed_since_shown_is_refused(tenant):
    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    with pytest.raises(Conflict, match="changed since you opened it"):
        document_sign(document=_doc(order), user=buyer, typed_name="Liu Yang", consent=True, shown_sha256="0" * 64)


def test_tampered_file_is_refused(tenant):
    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    document = _doc(order)
    with open(document.file.path, "ab") as handle:
        handle.write(b"% tampered")
    with pytest.raises(Conflict):
        document_sign(document=document, user=buyer, typed_name="Liu Yang", consent=True)


def test_signing_twice_is_the_same_signature(tenant):
    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    first = document_sign(document=_doc(order), user=buyer, typed_name="Liu Yang", consent=True)
    second = document_sign(document=_doc(order), user=buyer, typed_name="Liu Yang", consent=True)
    assert first.pk == second.pk
    assert Signature.objects.count() == 1


def test_all_signed_sets_execution_date_and_generates_cover(tenant):
    # given both parties sign every paper
    order, seller, buyer = transfer_order(jurisdiction="US")
    transfer_prepare(order=order)
    for kind in SIGNED_KINDS:
        for user in (seller, buyer):
            document_sign(document=_doc(order, kind), user=user, typed_name=user.full_name, consent=True)
    # then the filing has an execution date and the office cover data exists
    filing = current_filing(order)
    assert all_signed(order)
    assert filing.executed_on is not None
    cover = _doc(order, DocumentKind.COVER)
    assert cover.data["form"] == "PTO-1595"
    assert cover.data["execution_date"] == filing.executed_on.isoformat()
    # and both parties were told
    assert Notification.objects.filter(kind="transfer.papers_signed", user=buyer).exists()


def test_signed_copy_has_a_signature_page(tenant, client):
    import io

    from pypdf import PdfReader

    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    document = _doc(order)
    document_sign(document=document, user=seller, typed_name="Chen Jing", consent=True, ip_address="192.0.2.1")
    signed = papers.signed_pdf_bytes(document)
    reader = PdfReader(io.BytesIO(signed))
    last = reader.pages[-1].extract_text()
    assert "Chen Jing" in last
    assert "192.0.2.1" in last
    assert document.sha256 in last.replace("\n", "")
