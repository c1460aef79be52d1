"""Issue 11: a signature belongs to a person (member, own profile name, name locked), sign-all-at-once,
and the final papers carry a real PDF signature by the platform's certificate."""

from io import BytesIO

import pytest
from django.db import connection

from accounts.models import User
from accounts.services import signing_names, user_update_profile
from core.errors import InvalidTransition, NotAllowed, ValidationFailed
from core.models import AuditEvent
from tests.factories import make_member, transfer_order
from transfers import sealing
from transfers.models import SIGNED_KINDS, Signature, TransferDocument
from transfers.services import document_sign, documents_sign_all, transfer_prepare


def _papers(order):
    return list(TransferDocument.objects.filter(order=order, kind__in=SIGNED_KINDS, superseded=False))


def test_both_scripts_are_accepted_but_not_another_name():
    assert signing_names("陈静 Chen Jing") == {"陈静chenjing", "陈静", "chenjing"}
    assert signing_names("Chen Jing") == {"chenjing"}


def test_typed_name_must_be_the_signers_profile_name(tenant):
    order, seller, buyer = transfer_order()
    User.objects.filter(pk=seller.pk).update(full_name="陈静 Chen Jing")
    seller.refresh_from_db()
    transfer_prepare(order=order)
    document = _papers(order)[0]
    with pytest.raises(ValidationFailed) as err:
        document_sign(document=document, user=seller, typed_name="Liu Yang", consent=True)
    assert "陈静 Chen Jing" in str(err.value.field_errors["typed_name"][0])
    assert not Signature.objects.filter(document=document).exists()
    # either script, any case and spacing
    signature = document_sign(document=document, user=seller, typed_name="  chen  JING", consent=True)
    assert signature.typed_name == "chen JING"
    other = _papers(order)[1]
    assert document_sign(document=other, user=seller, typed_name="陈静", consent=True).party == "seller"


def test_non_member_cannot_sign(tenant):
    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    stranger = make_member(full_name="Wang Fang")
    with pytest.raises(NotAllowed):
        document_sign(document=_papers(order)[0], user=stranger, typed_name="Wang Fang", consent=True)
    assert not Signature.objects.filter(document__order=order).exists()


def test_profile_name_is_locked_once_signed(tenant):
    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    user_update_profile(user=seller, full_name="Chen Jing", phone="123")  # same name: fine before and after
    document_sign(document=_papers(order)[0], user=seller, typed_name="Chen Jing", consent=True)
    seller.refresh_from_db()
    assert seller.name_locked_at is not None
    with pytest.raises(ValidationFailed, match="cannot be changed"):
        user_update_profile(user=seller, full_name="Someone Else")
    seller.refresh_from_db()
    assert seller.full_name == "Chen Jing"
    user_update_profile(user=seller, full_name=" Chen  Jing ", phone="456")  # the same name: phone saved
    seller.refresh_from_db()
    assert seller.phone == "456"


def test_profile_page_refuses_a_locked_name_change(tenant, client):
    order, seller, buyer = transfer_order()
    User.objects.filter(pk=seller.pk).update(name_locked_at="2026-01-02T03:04:05Z")
    client.force_login(seller)
    response = client.post("/account/profile/", {"full_name": "New Name", "phone": "", "language": "en"},
                           HTTP_HOST=tenant.hosts[0])
    assert response.status_code == 400
    seller.refresh_from_db()
    assert seller.full_name == "Chen Jing"


def test_sign_all_at_once_records_each_hash_and_appears_in_the_order_log(tenant):
    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    documents = _papers(order)
    shown = {d.kind: d.sha256 for d in documents}
    signatures = documents_sign_all(order=order, user=buyer, typed_name="Liu Yang", consent=True,
                                    ip_address="203.0.113.9", shown_sha256=shown)
    assert {s.document_id for s in signatures} == {d.pk for d in documents}
    assert all(s.document_sha256 == s.document.sha256 for s in signatures)
    assert AuditEvent.objects.filter(action="order.document_signed", object_id=str(order.pk)).count() == len(documents)
    with pytest.raises(InvalidTransition):
        documents_sign_all(order=order, user=buyer, typed_name="Liu Yang", consent=True)


def test_sign_all_is_all_or_nothing_when_one_paper_changed(tenant):
    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    documents = _papers(order)
    shown = {d.kind: d.sha256 for d in documents}
    shown[documents[-1].kind] = "0" * 64
    with pytest.raises(Exception, match="changed since you opened it"):
        documents_sign_all(order=order, user=seller, typed_name="Chen Jing", consent=True, shown_sha256=shown)
    assert not Signature.objects.filter(document__order=order).exists()
    with pytest.raises(ValidationFailed):
        documents_sign_all(order=order, user=seller, typed_name="Chen Jing", consent=False)


@pytest.fixture
def signing_cert(tmp_path, settings):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    sealing.generate_self_signed(cert, key, common_name="ipex test papers")
    settings.PAPERS_SIGNING_CERT, settings.PAPERS_SIGNING_KEY = str(cert), str(key)
    return cert


def test_final_papers_carry_a_pades_signature_that_verifies(tenant, signing_cert):
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    documents_sign_all(order=order, user=seller, typed_name="Chen Jing", consent=True)
    assert not any(d.sealed_sha256 for d in _papers(order))  # one side only: not sealed yet
    documents_sign_all(order=order, user=buyer, typed_name="Liu Yang", consent=True)
    papers_ = _papers(order)
    assert all(d.sealed_sha256 and d.sealed_at for d in papers_)
    trust = ValidationContext(trust_roots=[load_cert_from_pemder(str(signing_cert))])
    for document in papers_:
        with document.sealed_file.open("rb") as handle:
            reader = PdfFileReader(BytesIO(handle.read()))
        [embedded] = reader.embedded_signatures
        status = validate_pdf_signature(embedded, trust)
        assert status.intact, status.pretty_print_details()
        assert status.valid, status.pretty_print_details()
        assert status.trusted, status.pretty_print_details()
        assert status.coverage.name in ("ENTIRE_FILE", "ENTIRE_REVISION")
        # the signing record is inside the signed bytes
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
        record = names[1]["/EF"]["/F"].data.decode("utf-8")
        assert "Chen Jing" in record
        assert "Liu Yang" in record
        assert document.sha256 in record


def test_an_untrusted_certificate_does_not_verify(tenant, signing_cert, tmp_path):
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    other_cert, other_key = tmp_path / "o.pem", tmp_path / "ok.pem"
    sealing.generate_self_signed(other_cert, other_key, common_name="someone else")
    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    documents_sign_all(order=order, user=seller, typed_name="Chen Jing", consent=True)
    documents_sign_all(order=order, user=buyer, typed_name="Liu Yang", consent=True)
    document = _papers(order)[0]
    with document.sealed_file.open("rb") as handle:
        reader = PdfFileReader(BytesIO(handle.read()))
    status = validate_pdf_signature(reader.embedded_signatures[0],
                                    ValidationContext(trust_roots=[load_cert_from_pemder(str(other_cert))]))
    assert status.intact
    assert not status.trusted
    assert connection.vendor == "postgresql"


def test_paper_page_shows_the_pdfs_own_pages_as_images(tenant, client):
    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    document = _papers(order)[0]
    client.force_login(seller)
    host = {"HTTP_HOST": tenant.hosts[0]}
    page = client.get(f"/transfers/papers/{document.pk}/", **host).content.decode()
    assert f"/transfers/papers/{document.pk}/page-1.png" in page
    assert "tp-text" not in page
    image = client.get(f"/transfers/papers/{document.pk}/page-1.png", **host)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert client.get(f"/transfers/papers/{document.pk}/page-99.png", **host).status_code == 404
    client.force_login(make_member(full_name="Wang Fang"))
    assert client.get(f"/transfers/papers/{document.pk}/page-1.png", **host).status_code == 404


def test_sign_all_button_on_the_order_page(tenant, client):
    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    client.force_login(seller)
    host = {"HTTP_HOST": tenant.hosts[0]}
    page = client.get(order.get_absolute_url(), **host).content.decode()
    assert f"/transfers/orders/{order.pk}/sign-all/" in page
    data = {"typed_name": "Chen Jing", "consent": "on"}
    data.update({f"sha256_{d.kind}": d.sha256 for d in _papers(order)})
    client.post(f"/transfers/orders/{order.pk}/sign-all/", data, **host)
    assert Signature.objects.filter(document__order=order, party="seller").count() == len(_papers(order))
    page = client.get(order.get_absolute_url(), **host).content.decode()
    assert "Chen Jing" in page


def test_signatures_appear_in_the_order_event_log(tenant, client):
    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    documents_sign_all(order=order, user=buyer, typed_name="liu yang", consent=True)
    client.force_login(seller)
    page = client.get(order.get_absolute_url(), HTTP_HOST=tenant.hosts[0], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    log = page[page.index('class="event-log"'):]
    assert log.count("event-detail") == len(_papers(order))
    assert "“liu yang”" in log
