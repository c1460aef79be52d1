"""Uploads and generated papers in S3-compatible object storage (the production setting), against a real
local S3 server (moto in server mode). Private objects leave only through the permission-checked views:
streamed, or as a redirect to a URL signed for a few seconds."""

import io
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from accounts.models import Organization
from core.errors import Conflict
from core.storage import can_sign
from tests.factories import api_headers, make_api_key, make_member, seller_with_org, transfer_order
from transfers.models import DocumentKind, TransferDocument
from transfers.services import document_sign, transfer_prepare

pytestmark = pytest.mark.scale

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def keys(s3, prefix=""):
    return sorted(o["Key"] for o in s3["client"].list_objects_v2(Bucket=s3["bucket"], Prefix=prefix)
                  .get("Contents", []))


def _upload_licence(client, org):
    response = client.post(f"/account/organizations/{org.pk}/documents/",
                           {"kind": "business_licence", "file": SimpleUploadedFile("licence.pdf", PDF)})
    assert response.status_code == 302
    return org.documents.get()


def test_verification_document_is_stored_in_the_bucket_and_streamed_to_members_only(
        client, tenant, s3_storage, settings):
    # given the production storage (a bucket) and a seller of an unverified organization
    assert can_sign(default_storage)
    seller, org = seller_with_org(verification_status=Organization.Verification.UNVERIFIED)
    client.force_login(seller)
    # when they upload their business licence on the website
    document = _upload_licence(client, org)
    # then it is an object in the bucket under the exchange's and organization's prefix, not on local disk
    assert keys(s3_storage) == [document.file.name]
    assert document.file.name.startswith(f"t{tenant.pk}/org/{org.pk}/")
    assert not (settings.MEDIA_ROOT.exists() and any(settings.MEDIA_ROOT.rglob("*.pdf")))
    # and the member gets its bytes through the organization's page (streamed by default)
    url = f"/account/organizations/{org.pk}/documents/{document.pk}/"
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    # while another person of the exchange, and a visitor, get nothing
    client.force_login(make_member())
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_signed_url_mode_redirects_checked_people_to_a_short_lived_url(client, tenant, s3_storage, settings):
    settings.PRIVATE_FILES_SIGNED_URLS = True
    seller, org = seller_with_org(verification_status=Organization.Verification.UNVERIFIED)
    client.force_login(seller)
    document = _upload_licence(client, org)
    url = f"/account/organizations/{org.pk}/documents/{document.pk}/"
    # the object itself is private: without a signature the store refuses it
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{s3_storage['endpoint']}/{s3_storage['bucket']}/{document.file.name}")  # noqa: S310
    assert refused.value.code == 403
    # a member is sent to a URL signed for PRIVATE_FILES_URL_SECONDS, which serves the file as a PDF
    response = client.get(url)
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(s3_storage["endpoint"])
    query = parse_qs(urlparse(location).query)
    assert query["X-Amz-Expires"] == [str(settings.PRIVATE_FILES_URL_SECONDS)] == ["60"]
    assert "X-Amz-Signature" in query
    with urllib.request.urlopen(location) as fetched:  # noqa: S310
        assert fetched.read() == PDF
        assert fetched.headers["Content-Type"] == "application/pdf"
    # another person gets no URL at all
    client.force_login(make_member())
    response = client.get(url)
    assert response.status_code == 404
    assert "Location" not in response


def test_transfer_papers_are_generated_signed_and_checked_in_the_bucket(client, tenant, s3_storage, settings):
    # given a funded order whose papers are generated into the bucket
    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    papers = list(TransferDocument.objects.filter(order=order))
    assert papers
    assert keys(s3_storage, f"t{tenant.pk}/transfers/{order.pk}/") == sorted(
        d.file.name for d in papers)
    agreement = TransferDocument.objects.get(order=order, kind=DocumentKind.AGREEMENT, superseded=False)
    # when the buyer signs (the SHA-256 is computed from the object) and downloads the signed copy
    document_sign(document=agreement, user=buyer, typed_name=buyer.full_name, consent=True)
    client.force_login(buyer)
    signed = client.get(f"/transfers/papers/{agreement.pk}/signed.pdf")
    assert signed.status_code == 200
    with agreement.file.open("rb") as handle:
        original_pages = len(PdfReader(io.BytesIO(handle.read())).pages)
    assert len(PdfReader(io.BytesIO(signed.content)).pages) == original_pages + 1
    # and the partner API streams the paper itself (no redirect that would carry the key elsewhere)
    settings.PRIVATE_FILES_SIGNED_URLS = True
    _key, secret = make_api_key(organization=order.buyer_org)
    api = client.get(f"/api/v1/orders/{order.reference}/documents/{agreement.pk}/file", headers=api_headers(secret))
    assert api.status_code == 200, api.content[:300]
    with agreement.file.open("rb") as handle:
        assert b"".join(api.streaming_content) == handle.read()
    # when someone changes the object behind the site's back, the next signature is refused
    s3_storage["client"].put_object(Bucket=s3_storage["bucket"], Key=agreement.file.name,
                                    Body=PDF + b"% tampered")
    with pytest.raises(Conflict):
        document_sign(document=agreement, user=seller, typed_name=seller.full_name, consent=True)


def test_a_second_file_of_the_same_name_never_overwrites_the_first(tenant, s3_storage):
    from django.core.files.base import ContentFile

    first = default_storage.save("t0/probe/same.pdf", ContentFile(b"%PDF-first"))
    second = default_storage.save("t0/probe/same.pdf", ContentFile(b"%PDF-second"))
    assert first != second
    with default_storage.open(first) as handle:
        assert handle.read() == b"%PDF-first"
