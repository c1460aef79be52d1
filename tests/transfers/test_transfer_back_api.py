"""The transfer back in the partner API (issue 11): both parties' keys see the assignment back, download and
sign it with the forward papers' checks, and follow the transfer back's filing in the order's summary."""

import hashlib

import pytest

from escrow import services as s
from escrow.models import OrderState
from tests.factories import api_headers, escrow_staff, make_api_key
from transfers.models import FilingStatus, Signature
from transfers.selectors import return_document
from transfers.services import transfer_back_file, transfer_poll_due

from .test_transfer_back import recorded_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _api_settings(settings):
    settings.API_THROTTLE_RATE = "100000/min"


def refunded_order():
    order, seller, buyer, officer = recorded_order()
    s.order_refund(order=order, actor=escrow_staff(), reason="The patent is licensed to a third party.")
    order.refresh_from_db()
    assert order.state == OrderState.RETURN_PENDING
    return order, seller, buyer, officer


def keys(order):
    return (api_headers(make_api_key(organization=order.seller_org)[1]),
            api_headers(make_api_key(organization=order.buyer_org)[1]))


def test_both_sides_see_download_and_sign_the_assignment_back(client, tenant):
    order, seller, buyer, officer = refunded_order()
    seller_h, buyer_h = keys(order)
    ref = order.reference
    # the papers list carries the assignment back, marked as the back direction; the filter separates them
    listed = client.get(f"/api/v1/orders/{ref}/documents", headers=buyer_h).json()
    back = [d for d in listed if d["direction"] == "back"]
    assert [d["kind"] for d in back] == ["return_assignment"]
    assert all(d["direction"] == "forward" for d in listed if d["kind"] != "return_assignment")
    only_back = client.get(f"/api/v1/orders/{ref}/documents", {"direction": "back"}, headers=seller_h).json()
    assert [d["id"] for d in only_back] == [back[0]["id"]]
    forward = client.get(f"/api/v1/orders/{ref}/documents", {"direction": "forward"}, headers=seller_h).json()
    assert back[0]["id"] not in [d["id"] for d in forward]
    assert forward
    bad = client.get(f"/api/v1/orders/{ref}/documents", {"direction": "sideways"}, headers=seller_h)
    assert bad.status_code == 400
    assert "direction" in bad.json()["errors"]
    # the order's transfer summary shows the transfer back: filing, paper, who has yet to sign, the deadline
    summary = client.get(f"/api/v1/orders/{ref}", headers=buyer_h).json()["transfer"]["transfer_back"]
    assert [f["status"] for f in summary["filings"]] == [FilingStatus.PREPARING]
    assert summary["signatures_missing"] == {"seller": [back[0]["id"]], "buyer": [back[0]["id"]]}
    assert summary["sign_due"]
    # the PDF downloads, and its fingerprint is the one signed
    pdf = client.get(back[0]["download_url"], headers=buyer_h)
    assert pdf.status_code == 200
    digest = hashlib.sha256(b"".join(pdf.streaming_content) if pdf.streaming else pdf.content).hexdigest()
    assert digest == back[0]["sha256"]
    # the forward papers' checks apply: the key itself is no person, another name is refused, a changed PDF too
    url = f"/api/v1/orders/{ref}/documents/{back[0]['id']}/sign"
    wrong_name = client.post(url, {"typed_name": "Someone Else", "signer_email": buyer.email, "consent": True},
                             content_type="application/json", headers=buyer_h)
    assert wrong_name.status_code == 400
    stale = client.post(url, {"typed_name": buyer.full_name, "signer_email": buyer.email, "consent": True,
                              "sha256": "0" * 64}, content_type="application/json", headers=buyer_h)
    assert stale.status_code == 409
    no_consent = client.post(url, {"typed_name": buyer.full_name, "signer_email": buyer.email, "consent": False},
                             content_type="application/json", headers=buyer_h)
    assert no_consent.status_code == 400
    assert not Signature.objects.filter(document_id=back[0]["id"]).exists()
    # the buyer signs that one paper, the seller through sign-all
    signed = client.post(url, {"typed_name": buyer.full_name, "signer_email": buyer.email, "consent": True,
                               "sha256": digest}, content_type="application/json", headers=buyer_h)
    assert signed.status_code == 200, signed.json()
    assert [x["party"] for x in signed.json()["signatures"]] == ["buyer"]
    all_signed = client.post(f"/api/v1/orders/{ref}/documents/sign-all",
                             {"typed_name": seller.full_name, "signer_email": seller.email, "consent": True,
                              "sha256": {"return_assignment": digest}},
                             content_type="application/json", headers=seller_h)
    assert all_signed.status_code == 200, all_signed.json()
    assert [d["kind"] for d in all_signed.json()] == ["return_assignment"]
    assert {x["party"] for x in all_signed.json()[0]["signatures"]} == {"buyer", "seller"}
    again = client.post(f"/api/v1/orders/{ref}/documents/sign-all",
                        {"typed_name": seller.full_name, "signer_email": seller.email, "consent": True},
                        content_type="application/json", headers=seller_h)
    assert again.status_code == 409  # signed already: nothing new, nothing doubled
    assert Signature.objects.filter(document=return_document(order)).count() == 2
    summary = client.get(f"/api/v1/orders/{ref}", headers=seller_h).json()["transfer"]["transfer_back"]
    assert summary["signatures_missing"] == {"seller": [], "buyer": []}
    assert summary["sign_due"] is None
    # filed and recorded: the summary follows the filing, the order is refunded
    transfer_back_file(order=order, actor=officer)
    filed = client.get(f"/api/v1/orders/{ref}", headers=seller_h).json()["transfer"]["transfer_back"]["filings"]
    assert filed[0]["status"] == FilingStatus.FILED
    assert filed[0]["office_reference"]
    transfer_poll_due()
    detail = client.get(f"/api/v1/orders/{ref}", headers=buyer_h).json()
    assert detail["state"] == OrderState.REFUNDED
    assert detail["transfer"]["transfer_back"]["filings"][0]["status"] == FilingStatus.APPROVED


def test_a_third_organization_cannot_reach_the_assignment_back(client, tenant):
    order, seller, buyer, officer = refunded_order()
    stranger = api_headers(make_api_key()[1])
    document = return_document(order)
    ref = order.reference
    assert client.get(f"/api/v1/orders/{ref}/documents", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/orders/{ref}/documents/{document.pk}/file", headers=stranger).status_code == 404
    signed = client.post(f"/api/v1/orders/{ref}/documents/{document.pk}/sign",
                         {"typed_name": buyer.full_name, "signer_email": buyer.email, "consent": True},
                         content_type="application/json", headers=stranger)
    assert signed.status_code == 404
    assert not Signature.objects.filter(document=document).exists()


def test_orders_without_a_transfer_back_say_null(client, tenant):
    order, seller, buyer, officer = recorded_order()
    _seller_h, buyer_h = keys(order)
    transfer = client.get(f"/api/v1/orders/{order.reference}", headers=buyer_h).json()["transfer"]
    assert transfer["transfer_back"] is None
    listed = client.get(f"/api/v1/orders/{order.reference}/documents", headers=buyer_h).json()
    assert listed
    assert all(d["direction"] == "forward" for d in listed)
