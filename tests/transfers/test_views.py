import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from escrow.models import OrderState
from tests.factories import (
    PASSWORD,
    filed_order,
    make_member,
    sign_all_papers,
    transfer_officer,
)
from tests.factories import transfer_order as _transfer_order
from transfers.models import SIGNED_KINDS, Signature, TransferDocument
from transfers.selectors import current_filing


def transfer_order(**kwargs):
    """A funded order whose papers the worker has prepared: since issue 10 the order page never
    generates them (tests/hardening/test_papers.py)."""
    from transfers.tasks import prepare_transfer

    order, seller, buyer = _transfer_order(**kwargs)
    prepare_transfer(tenant_id=order.tenant_id, order_id=order.pk)
    return order, seller, buyer


def login(client, user):
    assert client.login(email=user.email, password=PASSWORD)


def test_order_page_lists_the_papers_the_worker_prepared(tenant, client):
    # given a funded order whose papers the worker generated
    order, seller, buyer = transfer_order()
    login(client, buyer)
    # when the buyer opens the order page
    response = client.get(order.get_absolute_url())
    # then the papers are listed with a sign button
    assert response.status_code == 200
    assert TransferDocument.objects.filter(order=order).count() == len(SIGNED_KINDS)
    html = response.content.decode()
    assert "Read and sign" in html or "阅读并签署" in html
    assert 'id="transfer"' in html


def test_sign_through_the_page_records_ip_and_goes_to_the_next_paper(tenant, client):
    order, seller, buyer = transfer_order()
    login(client, seller)
    client.get(order.get_absolute_url())
    documents = list(TransferDocument.objects.filter(order=order).order_by("id"))
    first = documents[0]
    page = client.get(f"/transfers/papers/{first.pk}/")
    assert page.status_code == 200
    assert first.sha256 in page.content.decode()
    response = client.post(f"/transfers/papers/{first.pk}/", {
        "typed_name": "Chen Jing", "consent": "on", "sha256": first.sha256}, REMOTE_ADDR="203.0.113.50")
    assert response.status_code == 302
    assert f"/transfers/papers/{documents[1].pk}/" in response["Location"]
    signature = Signature.objects.get(document=first)
    assert signature.ip_address == "203.0.113.50"
    assert signature.user == seller


def test_sign_without_consent_shows_the_error(tenant, client):
    order, seller, buyer = transfer_order()
    login(client, buyer)
    client.get(order.get_absolute_url())
    document = TransferDocument.objects.filter(order=order).first()
    response = client.post(f"/transfers/papers/{document.pk}/", {"typed_name": "Liu Yang", "sha256": document.sha256})
    assert response.status_code == 200
    assert not Signature.objects.exists()
    assert "errorlist" in response.content.decode()


def test_pdf_and_signed_copy_downloads(tenant, client):
    order, seller, buyer = transfer_order()
    sign_all_papers(order, seller, buyer)
    login(client, buyer)
    document = TransferDocument.objects.filter(order=order, kind="agreement").first()
    raw = client.get(f"/transfers/papers/{document.pk}/pdf/")
    assert raw["Content-Type"] == "application/pdf"
    assert b"".join(raw.streaming_content).startswith(b"%PDF-")
    signed = client.get(f"/transfers/papers/{document.pk}/signed.pdf")
    assert signed.status_code == 200
    assert "attachment" in signed["Content-Disposition"]


def test_strangers_and_other_tenants_get_404(tenant, other_tenant, client):
    order, seller, buyer = transfer_order()
    sign_all_papers(order, seller, buyer)
    document = TransferDocument.objects.filter(order=order).first()
    stranger = make_member()
    login(client, stranger)
    assert client.get(f"/transfers/papers/{document.pk}/").status_code == 404
    assert client.get(f"/transfers/papers/{document.pk}/pdf/").status_code == 404
    client.logout()
    login(client, buyer)
    assert client.get(f"/transfers/papers/{document.pk}/pdf/", HTTP_HOST="beta.test").status_code == 404


def test_officer_files_from_the_order_page(tenant, client):
    order, seller, buyer = transfer_order()
    sign_all_papers(order, seller, buyer)
    officer = transfer_officer()
    login(client, officer)
    page = client.get(order.get_absolute_url())
    assert f"/transfers/orders/{order.pk}/file/" in page.content.decode()
    summary = client.get(f"/transfers/orders/{order.pk}/file/").content.decode()
    assert "cannot be undone" in summary
    assert order.buyer_org.legal_name in summary
    client.post(f"/transfers/orders/{order.pk}/file/")  # without the confirmation: the summary again
    order.refresh_from_db()
    assert order.state == OrderState.FUNDED
    response = client.post(f"/transfers/orders/{order.pk}/file/", {"confirmed": "yes"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.TRANSFER_FILED


def test_parties_cannot_file(tenant, client):
    order, seller, buyer = transfer_order()
    sign_all_papers(order, seller, buyer)
    login(client, seller)
    assert client.post(f"/transfers/orders/{order.pk}/file/").status_code == 404
    order.refresh_from_db()
    assert order.state == OrderState.FUNDED


def test_blocked_filing_shows_the_reason(tenant, client):
    order, seller, buyer = transfer_order()
    officer = transfer_officer()
    login(client, officer)
    client.get(order.get_absolute_url())
    response = client.post(f"/transfers/orders/{order.pk}/file/", {"confirmed": "yes"}, follow=True)
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.state == OrderState.FUNDED
    assert "msg-error" in response.content.decode()


def test_export_certificate_upload_through_the_page(tenant, client):
    order, seller, buyer = transfer_order(buyer_country="US")
    login(client, seller)
    client.get(order.get_absolute_url())
    bad = client.post(f"/transfers/orders/{order.pk}/export-certificate/",
                      {"file": SimpleUploadedFile("c.pdf", b"GIF89a....")}, follow=True)
    assert bad.status_code == 200
    assert not current_filing(order).export_certificate
    good = client.post(f"/transfers/orders/{order.pk}/export-certificate/",
                       {"file": SimpleUploadedFile("c.pdf", b"%PDF-1.4\n%%EOF")})
    assert good.status_code == 302
    assert current_filing(order).export_certificate


def test_staff_queue_and_filing_page(tenant, client, django_assert_max_num_queries):
    order, seller, buyer, officer, filing = filed_order(outcome="reject")
    from transfers.services import transfer_poll_due

    transfer_poll_due()
    login(client, officer)
    with django_assert_max_num_queries(12):
        queue = client.get("/transfers/staff/")
    assert filing.reference in queue.content.decode()
    page = client.get(f"/transfers/staff/{filing.pk}/")
    assert page.status_code == 200
    response = client.post(f"/transfers/staff/{filing.pk}/", {"action": "refile"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.TRANSFER_FILED
    login(client, buyer)
    assert client.get("/transfers/staff/").status_code == 404


def test_manual_office_reference_recorded_from_the_page(tenant, client, settings):
    settings.TRANSFER_OFFICE_ADAPTER = "manual"
    order, seller, buyer = transfer_order(jurisdiction="US")
    sign_all_papers(order, seller, buyer)
    officer = transfer_officer()
    login(client, officer)
    client.post(f"/transfers/orders/{order.pk}/file/", {"confirmed": "yes"})
    filing = current_filing(order)
    package = client.get(f"/transfers/staff/{filing.pk}/package.zip")
    assert package["Content-Type"] == "application/zip"
    client.post(f"/transfers/staff/{filing.pk}/reference/", {"reference": "PAT-7001"})
    order.refresh_from_db()
    assert order.state == OrderState.TRANSFER_FILED
    client.post(f"/transfers/staff/{filing.pk}/", {"action": "notice", "kind": "approval", "number": "R1"})
    order.refresh_from_db()
    assert order.state == OrderState.TRANSFER_APPROVED


def test_admin_lists_filings_that_need_attention_and_files(tenant, client):
    order, seller, buyer = transfer_order()
    sign_all_papers(order, seller, buyer)
    filing = current_filing(order)
    officer = transfer_officer()
    login(client, officer)
    listing = client.get("/admin/transfers/transferfiling/?attention=stuck")
    assert listing.status_code == 200
    response = client.post("/admin/transfers/transferfiling/", {
        "action": "file_selected", "_selected_action": [filing.pk]})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.TRANSFER_FILED
    for attention in ("overdue", "inspection", "correction", "rejected", "package"):
        assert client.get(f"/admin/transfers/transferfiling/?attention={attention}").status_code == 200
    assert client.get(f"/admin/transfers/transferfiling/{filing.pk}/change/").status_code == 200
    assert client.get("/admin/transfers/transferdocument/").status_code == 200


def test_officer_of_another_exchange_cannot_file_or_see(tenant, other_tenant, client):
    from core.tenancy import tenant_context

    order, seller, buyer = transfer_order()
    sign_all_papers(order, seller, buyer)
    with tenant_context(other_tenant):
        foreign_officer = transfer_officer()
    login(client, foreign_officer)
    assert client.post(f"/transfers/orders/{order.pk}/file/").status_code == 404
    assert client.get("/transfers/staff/").status_code == 404
    document = TransferDocument.objects.filter(order=order).first()
    assert client.get(f"/transfers/papers/{document.pk}/pdf/").status_code == 404
    order.refresh_from_db()
    assert order.state == OrderState.FUNDED


def _papers_page(client, order, user):
    login(client, user)
    return client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.parametrize("end_state", ["refunded", "disputed"])
def test_panel_offers_no_signing_when_the_order_cannot_go_on(tenant, client, end_state):
    # given a funded order whose papers exist, then refunded or disputed before anyone signed
    from escrow import services as escrow
    from tests.factories import escrow_staff

    order, seller, buyer = transfer_order()
    client.get(order.get_absolute_url())
    login(client, buyer)
    client.get(order.get_absolute_url())
    if end_state == "refunded":
        escrow.order_refund(order=order, actor=escrow_staff(), reason="Seller withdrew")
    else:
        escrow.order_dispute_open(order=order, actor=buyer, reason="The seller stopped answering.")
    documents = list(TransferDocument.objects.filter(order=order))
    assert documents
    for user in (buyer, seller):
        # when a party opens the order page
        html = _papers_page(client, order, user)
        # then the papers are listed read-only, with a word on why
        assert "Read and sign" not in html
        assert "papers to sign" not in html
        assert f'href="/transfers/papers/{documents[0].pk}/">Read<' in html
        assert "can only be read" in html or "wait until escrow staff resolve it" in html
        # and the paper page has no signing form either
        page = client.get(f"/transfers/papers/{documents[0].pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert 'name="typed_name"' not in page
        assert "Next paper to sign" not in page


def test_panel_offers_signing_while_the_payment_is_held(tenant, client):
    order, seller, buyer = transfer_order()
    html = _papers_page(client, order, buyer)
    assert "Read and sign" in html
    assert "papers to sign" in html


def test_order_page_says_what_happens_at_the_signing_deadline(tenant, client):
    # given a funded order
    from datetime import timedelta

    from django.utils import timezone

    from escrow.models import Order

    order, seller, buyer = transfer_order()
    # when a party opens its page
    html = _papers_page(client, order, buyer)
    # then the deadline and what happens to each party who misses it are shown
    assert 'id="signing-deadline"' in html
    assert "the seller&#x27;s margin goes to the buyer" in html or "the seller's margin goes to the buyer" in html
    assert "unless the buyer signs before" in html
    # when the seller signed and the deadline passed without the buyer
    from transfers.services import document_sign

    for document in TransferDocument.objects.filter(order=order, kind__in=SIGNED_KINDS):
        document_sign(document=document, user=seller, typed_name=seller.full_name, consent=True)
    Order.objects.filter(pk=order.pk).update(filing_due=timezone.now() - timedelta(hours=1))
    html = _papers_page(client, order, seller)
    assert "without the buyer&#x27;s signature" in html or "without the buyer's signature" in html
