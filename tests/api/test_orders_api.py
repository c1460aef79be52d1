import pytest

from escrow.models import OrderState
from partners.models import WebhookDelivery
from tests.factories import (
    OrganizationFactory,
    WebhookEndpointFactory,
    api_headers,
    escrow_listing,
    make_api_key,
    order_in_state,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller_api(client):
    """A second partner: the seller organization's key."""
    org = OrganizationFactory(legal_name="Seller University TTO")
    _, secret = make_api_key(organization=org)

    class Seller:
        organization = org

        def post(self, url, data=None):
            return client.post(url, data, content_type="application/json", headers=api_headers(secret))

        def get(self, url, data=None):
            return client.get(url, data, headers=api_headers(secret))

    return Seller()


def test_place_confirm_and_pay_by_bank_transfer(api, seller_api, org):
    listing = escrow_listing(seller_org=seller_api.organization, price_minor=1_000_000)
    WebhookEndpointFactory(organization=org, url="https://buyer.example.com/h")
    placed = api.post("/api/v1/orders", {"listing_id": listing.pk, "terms_accepted": True},
                      headers={"Idempotency-Key": "order-1"})
    assert placed.status_code == 201, placed.json()
    order = placed.json()
    assert order["state"] == "placed"
    assert order["role"] == "buyer"
    assert order["money"]["total_minor"] == order["money"]["price_minor"] + order["money"]["buyer_fee_minor"]
    assert order["timeline"][0]["status"] == "done"
    # a retried POST with the same Idempotency-Key does not place a second order
    again = api.post("/api/v1/orders", {"listing_id": listing.pk, "terms_accepted": True},
                     headers={"Idempotency-Key": "order-1"})
    assert again.json()["reference"] == order["reference"]

    ref = order["reference"]
    seen_by_seller = seller_api.get(f"/api/v1/orders/{ref}").json()
    assert seen_by_seller["role"] == "seller"
    assert seen_by_seller["next_action"] == "confirm"
    assert seller_api.post(f"/api/v1/orders/{ref}/confirm").json()["state"] == "seller_confirmed"
    # the buyer may not confirm for the seller
    assert api.post(f"/api/v1/orders/{ref}/confirm").status_code == 403

    paid = api.post(f"/api/v1/orders/{ref}/pay", {"method": "bank_transfer"})
    assert paid.status_code == 200, paid.json()
    instructions = paid.json()["instructions"]
    assert instructions["reference"] == paid.json()["payment"]["reference"]
    assert instructions["amount_minor"] == str(order["money"]["total_minor"])
    assert instructions["account_number"]
    # order.state_changed webhooks were queued for the buyer's endpoint: placed, confirmed
    assert [d.payload["data"]["to"] for d in WebhookDelivery.objects.order_by("id")] == ["placed", "seller_confirmed"]


def test_buyer_cancel_and_seller_decline(api, seller_api):
    first = escrow_listing(seller_org=seller_api.organization)
    second = escrow_listing(seller_org=seller_api.organization)
    ref1 = api.post("/api/v1/orders", {"listing_id": first.pk, "terms_accepted": True}).json()["reference"]
    ref2 = api.post("/api/v1/orders", {"listing_id": second.pk, "terms_accepted": True}).json()["reference"]
    cancelled = api.post(f"/api/v1/orders/{ref1}/cancel", {"reason": "budget"})
    assert cancelled.json()["state"] == "cancelled"
    declined = seller_api.post(f"/api/v1/orders/{ref2}/decline", {"reason": "not available"})
    assert declined.json()["state"] == "cancelled"
    assert api.post(f"/api/v1/orders/{ref1}/cancel").status_code == 409


def test_order_errors_are_problem_details(api, seller_api):
    listing = escrow_listing(seller_org=seller_api.organization)
    no_terms = api.post("/api/v1/orders", {"listing_id": listing.pk, "terms_accepted": False})
    assert no_terms.status_code == 400
    assert "terms" in no_terms.json()["errors"]
    assert api.post("/api/v1/orders", {"listing_id": 999999, "terms_accepted": True}).status_code == 404
    own = escrow_listing(seller_org=seller_api.organization)
    # the seller cannot buy its own listing
    response = seller_api.post("/api/v1/orders", {"listing_id": own.pk, "terms_accepted": True})
    assert response.status_code == 403


def test_order_list_shows_only_the_organizations_orders(api, seller_api):
    mine = escrow_listing(seller_org=seller_api.organization)
    ref = api.post("/api/v1/orders", {"listing_id": mine.pk, "terms_accepted": True}).json()["reference"]
    foreign, _seller, _buyer = order_in_state(OrderState.PLACED)
    refs = [o["reference"] for o in api.get("/api/v1/orders").json()["results"]]
    assert refs == [ref]
    assert foreign.reference not in refs
    assert api.get(f"/api/v1/orders/{foreign.reference}").status_code == 404
    assert api.get("/api/v1/orders", {"role": "seller"}).json()["results"] == []
    assert [o["role"] for o in seller_api.get("/api/v1/orders").json()["results"]] == ["seller"]


def test_dispute_after_funding(api, org):
    from tests.factories import escrow_parties

    listing, seller, _someone = escrow_parties()
    order, _seller, _buyer = order_in_state(OrderState.FUNDED, listing=listing, seller=seller, buyer=api_user(org))
    response = api.post(f"/api/v1/orders/{order.reference}/dispute", {"reason": "The seller stopped answering."})
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "disputed"


def api_user(org):
    from partners.models import PartnerAPIKey

    return PartnerAPIKey.objects.filter(organization=org).first().service_user


def test_order_list_query_count_is_flat(api, seller_api, django_assert_max_num_queries):
    for _ in range(5):
        listing = escrow_listing(seller_org=seller_api.organization)
        api.post("/api/v1/orders", {"listing_id": listing.pk, "terms_accepted": True})
    with django_assert_max_num_queries(12):
        response = api.get("/api/v1/orders")
    assert len(response.json()["results"]) == 5


def test_seller_uploads_the_export_certificate(client, tenant):
    from tests.factories import transfer_order

    order, _seller, _buyer = transfer_order(seller_country="CN", buyer_country="HK")
    _key, secret = make_api_key(organization=order.seller_org)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(f"/api/v1/orders/{order.reference}/export-certificate",
                           {"file": SimpleUploadedFile("cert.pdf", pdf, content_type="application/pdf")},
                           headers=api_headers(secret))
    assert response.status_code == 200, response.content
    bad = client.post(f"/api/v1/orders/{order.reference}/export-certificate",
                      {"file": SimpleUploadedFile("cert.pdf", b"MZ not a pdf")}, headers=api_headers(secret))
    assert bad.status_code == 400


def test_ordering_another_organizations_draft_is_404(api, seller_api):
    from listings.models import Listing

    draft = escrow_listing(seller_org=seller_api.organization, state=Listing.State.DRAFT)
    response = api.post("/api/v1/orders", {"listing_id": draft.pk, "terms_accepted": True})
    assert response.status_code == 404
