"""Security review of file downloads: certificate scans, export certificates and papers are served only
through views that check who asks, never as plain /media/ links."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from core.tenancy import tenant_context
from escrow.models import OrderState
from listings.services import listing_attach_certificate
from tests.factories import draft_listing, make_member, seller_with_org, transfer_officer, transfer_order
from transfers.services import export_certificate_upload

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_the_export_certificate_is_served_to_the_seller_and_officers_only(client, tenant, other_tenant):
    order, seller, buyer = transfer_order(state=OrderState.FUNDED, seller_country="CN", buyer_country="HK")
    export_certificate_upload(order=order, user=seller, file=SimpleUploadedFile("c.pdf", PDF))
    url = f"/transfers/orders/{order.pk}/export-certificate/file/"
    with tenant_context(other_tenant):
        officer_b = make_member(roles=(Role.ESCROW_OFFICER, Role.TENANT_ADMIN), org=False)
    for who, host, status in ((seller, "testserver", 200), (transfer_officer(), "testserver", 200),
                              (buyer, "testserver", 404), (make_member(), "testserver", 404),
                              (officer_b, "beta.test", 404), (officer_b, "testserver", 404),
                              (seller, "beta.test", 404)):
        client.force_login(who)
        response = client.get(url, HTTP_HOST=host)
        assert response.status_code == status, (who, host)
        if status == 200:
            assert b"".join(response.streaming_content).startswith(b"%PDF")


# found in review, fixed: scans are served by a checked admin view
def test_certificate_scans_are_linked_through_a_checked_view(client, tenant):
    seller, org = seller_with_org()
    listing = draft_listing(seller=seller, org=org)
    right = listing.rights.first()
    listing_attach_certificate(right=right, actor=seller, file=SimpleUploadedFile("cert.pdf", PDF))
    client.force_login(make_member(roles=(Role.VERIFIER,), org=False))
    html = client.get(f"/admin/listings/listing/{listing.pk}/change/").content.decode()
    assert 'href="/media/' not in html
    url = f"/admin/listings/listing/{listing.pk}/certificate/{right.pk}/"
    assert url in html
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.force_login(make_member())  # a buyer: not staff
    assert client.get(url).status_code == 302  # to the admin login, never the file
