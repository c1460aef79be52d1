"""Offers through the partner API: offer → counter → accept → escrowed order at the agreed price;
a broker's key acts for its client under the mandate; bad input is a 4xx problem."""

import pytest

from escrow.models import Order
from tests.factories import (
    api_headers,
    broker_mandate,
    licence_listing,
    make_api_key,
    make_member,
    offer_listing,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_throttle(settings):
    settings.API_THROTTLE_RATE = "100000/min"


def org_of(user):
    return user.memberships.get().organization


def test_offer_counter_accept_through_the_api(client, tenant):
    listing, seller = offer_listing(price_minor=1_000_000)
    buyer = make_member()
    _k, buyer_secret = make_api_key(organization=org_of(buyer))
    _k, seller_secret = make_api_key(organization=listing.seller_org)
    # the buyer's system offers 8,000.00
    r = client.post("/api/v1/offers", {"listing_id": listing.pk, "price_minor": 800_000, "currency": "CNY",
                                       "note": "Our budget"}, content_type="application/json",
                    headers=api_headers(buyer_secret, **{"Idempotency-Key": "offer-1"}))
    assert r.status_code == 201, r.content
    offer_id = r.json()["id"]
    assert r.json()["waiting_for"] == "seller"
    # the seller's system sees it and counters 9,000.00
    listed = client.get("/api/v1/offers", headers=api_headers(seller_secret)).json()
    assert [o["id"] for o in listed["results"]] == [offer_id]
    r = client.post(f"/api/v1/offers/{offer_id}/counter", {"price_minor": 900_000}, content_type="application/json",
                    headers=api_headers(seller_secret))
    assert r.status_code == 200, r.content
    # the seller cannot accept its own counter
    r = client.post(f"/api/v1/offers/{offer_id}/accept", headers=api_headers(seller_secret))
    assert r.status_code == 409, r.content
    assert r["Content-Type"] == "application/problem+json"
    # the buyer accepts: the escrowed order exists at 9,000.00
    r = client.post(f"/api/v1/offers/{offer_id}/accept", headers=api_headers(buyer_secret))
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["state"] == "accepted"
    assert [x["kind"] for x in body["rounds"]] == ["offer", "counter", "accept"]
    order = client.get(f"/api/v1/orders/{body['order']}", headers=api_headers(buyer_secret)).json()
    assert order["money"]["price_minor"] == 900_000
    assert order["state"] == "placed"
    assert Order.objects.count() == 1


@pytest.mark.parametrize(("payload", "status"), [
    ({"price_minor": 100, "currency": "CNY"}, 400),       # below the floor
    ({"price_minor": 900_000, "currency": "USD"}, 400),   # another currency
    ({"price_minor": -1, "currency": "CNY"}, 400),
    ({"price_minor": "lots", "currency": "CNY"}, 400),
    ({"price_minor": 900_000, "currency": "CNY", "terms": {"royalty_bps": 99999}}, 400),
])
def test_bad_offers_are_4xx_problems(client, tenant, payload, status):
    listing, _seller = offer_listing(floor=500_000)
    _k, secret = make_api_key(organization=org_of(make_member()))
    r = client.post("/api/v1/offers", {"listing_id": listing.pk, **payload}, content_type="application/json",
                    headers=api_headers(secret))
    assert r.status_code == status, r.content
    assert r["Content-Type"] == "application/problem+json"


def test_a_brokers_key_acts_for_its_client_under_the_mandate(client, tenant):
    listing, seller = licence_listing(exclusive=False, price_minor=1_000_000)
    mandate, broker = broker_mandate(principal_org=listing.seller_org, listing_ids=[listing.pk], commission_bps=800,
                                     accepted_by=seller)
    _k, broker_secret = make_api_key(organization=mandate.broker_org)
    buyer = make_member()
    _k, buyer_secret = make_api_key(organization=org_of(buyer))
    r = client.post("/api/v1/offers", {"listing_id": listing.pk, "price_minor": 700_000, "currency": "CNY",
                                       "terms": {"territory": "CN", "royalty_bps": 250, "royalty_period": "year"}},
                    content_type="application/json", headers=api_headers(buyer_secret))
    offer_id = r.json()["id"]
    # the broker's key sees its client's negotiation and accepts for the seller
    listed = client.get("/api/v1/offers", headers=api_headers(broker_secret)).json()
    assert [o["id"] for o in listed["results"]] == [offer_id]
    r = client.post(f"/api/v1/offers/{offer_id}/accept", headers=api_headers(broker_secret))
    assert r.status_code == 200, r.content
    assert r.json()["broker"] == mandate.broker_org.legal_name
    order = Order.objects.get()
    assert order.broker_org == mandate.broker_org
    assert order.broker_commission_minor == 56_000
    assert order.terms["royalty_bps"] == 250
    # a key of an organization without a mandate sees nothing
    _k, other_secret = make_api_key(organization=org_of(make_member()))
    assert client.get(f"/api/v1/offers/{offer_id}", headers=api_headers(other_secret)).status_code == 404


def test_a_buyers_broker_key_offers_for_its_client_under_the_mandate(client, tenant):
    listing, _seller = offer_listing(price_minor=1_000_000)
    client_member = make_member()
    client_org = org_of(client_member)
    _mandate, broker = broker_mandate(principal_org=client_org, commission_bps=200, side="buyer")
    _k, broker_secret = make_api_key(organization=org_of(broker))
    data = {"listing_id": listing.pk, "price_minor": 900_000, "currency": "CNY", "for_organization_id": client_org.pk}
    # not yet accepted by the client: refused; an unknown organization: a field error
    r = client.post("/api/v1/offers", data, content_type="application/json", headers=api_headers(broker_secret))
    assert r.status_code == 403, r.content
    r = client.post("/api/v1/offers", {**data, "for_organization_id": 999999}, content_type="application/json",
                    headers=api_headers(broker_secret))
    assert r.status_code == 400, r.content
    assert "for_organization_id" in str(r.json())
    from accounts.mandates import mandate_accept

    mandate_accept(mandate=_mandate, actor=client_member)
    r = client.post("/api/v1/offers", data, content_type="application/json", headers=api_headers(broker_secret))
    assert r.status_code == 201, r.content
    assert (r.json()["buyer"], r.json()["buyer_broker"]) == (client_org.legal_name, org_of(broker).legal_name)
    listed = client.get("/api/v1/offers", headers=api_headers(broker_secret)).json()["results"]
    assert [o["id"] for o in listed] == [r.json()["id"]]
