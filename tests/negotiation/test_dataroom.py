"""Data room behind the NDA: non-NDA users get 404; the NDA is recorded like a signature; downloads are
watermarked copies (viewer, organization, time) and the original never changes; the seller sees who
opened what."""

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfReader

from core.errors import ValidationFailed
from negotiation import dataroom
from negotiation.models import DocumentView, NdaAcceptance
from tests.factories import make_member, offer_listing
from transfers import papers

pytestmark = pytest.mark.django_db


def a_pdf():
    return papers._render([papers._p("Claim chart 权利要求对照表")], title="Claim chart", reference="X")


def a_png():
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (255, 255, 255)).save(out, format="PNG")
    return out.getvalue()


def test_nda_then_watermarked_download_and_the_seller_sees_who_opened_what(client, tenant):
    listing, seller = offer_listing()
    pdf = a_pdf()
    client.force_login(seller)
    client.post(f"/deals/listings/{listing.pk}/dataroom/upload/",
                {"title": "Claim chart", "file": SimpleUploadedFile("chart.pdf", pdf, "application/pdf")})
    document = listing.dataroom_documents.get()
    assert document.sha256 == hashlib.sha256(pdf).hexdigest()
    buyer = make_member(full_name="Liu Yang")
    org = buyer.memberships.get().organization
    client.force_login(buyer)
    # without the NDA the document does not exist for the buyer
    assert client.get(f"/deals/dataroom/{document.pk}/").status_code == 404
    page = client.get(f"/deals/listings/{listing.pk}/").content.decode()
    assert "behind the exchange" in page
    assert "Claim chart" not in page
    # a wrong name or no consent: not accepted
    client.post(f"/deals/listings/{listing.pk}/dataroom/nda/", {"typed_name": "Someone Else", "consent": "yes"})
    client.post(f"/deals/listings/{listing.pk}/dataroom/nda/", {"typed_name": "Liu Yang"})
    assert not NdaAcceptance.objects.exists()
    client.post(f"/deals/listings/{listing.pk}/dataroom/nda/", {"typed_name": "liu  yang", "consent": "yes"},
                REMOTE_ADDR="203.0.113.9")
    nda = NdaAcceptance.objects.get()
    assert (nda.organization, nda.ip_address, nda.typed_name) == (org, "203.0.113.9", "liu yang")
    assert nda.text_sha256 == hashlib.sha256(dataroom.nda_text().encode()).hexdigest()
    # the download is a watermarked copy; the stored original is unchanged
    response = client.get(f"/deals/dataroom/{document.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Liu Yang" in text
    assert org.legal_name in text
    assert "Claim chart" in text
    with document.file.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == document.sha256
    # another organization's member, without its own NDA, still gets 404
    client.force_login(make_member())
    assert client.get(f"/deals/dataroom/{document.pk}/").status_code == 404
    # the seller sees who opened what
    assert DocumentView.objects.filter(document=document, organization=org).count() == 1
    client.force_login(seller)
    page = client.get(f"/deals/listings/{listing.pk}/").content.decode()
    assert "Who opened what" in page
    assert org.legal_name in page


def test_images_are_watermarked_and_bad_files_refused(tenant):
    listing, seller = offer_listing()
    png = a_png()
    document = dataroom.dataroom_upload(listing=listing, actor=seller,
                                        file=SimpleUploadedFile("drawing.png", png, "image/png"), title="Drawing")
    data, content_type, _name = dataroom.document_open(document=document, actor=seller)
    assert content_type == "image/png"
    assert data != png
    assert Image.open(io.BytesIO(data)).size == (400, 300)
    with pytest.raises(ValidationFailed, match="content was checked"):
        dataroom.dataroom_upload(listing=listing, actor=seller, title="x",
                                 file=SimpleUploadedFile("evil.pdf", b"<html>not a pdf</html>", "application/pdf"))
