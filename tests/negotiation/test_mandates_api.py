"""Brokers' mandates through the partner API: the broker's key proposes, the principal's key accepts,
declines or revokes; each side lists only its own; bad input is a 4xx problem, never a half-written row."""

import pytest

from accounts.models import Mandate, Role
from core.tenancy import tenant_context
from tests.factories import (
    OrganizationFactory,
    api_headers,
    make_api_key,
    make_member,
    offer_listing,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_throttle(settings):
    settings.API_THROTTLE_RATE = "100000/min"


def _org_with_key(name):
    org = OrganizationFactory(legal_name=name)
    make_member(roles=(Role.SELLER,), org=org)
    _k, secret = make_api_key(organization=org)
    return org, secret


def test_broker_proposes_principal_accepts_and_either_revokes(client, tenant):
    listing, _seller = offer_listing()
    principal, principal_secret = listing.seller_org, make_api_key(organization=listing.seller_org)[1]
    broker, broker_secret = _org_with_key("Agile Brokers Ltd.")
    r = client.post("/api/v1/mandates", {"principal_organization_id": principal.pk, "side": "seller",
                                         "listing_ids": [listing.pk], "commission_bps": 500, "may_sign": True},
                    content_type="application/json", headers=api_headers(broker_secret, **{"Idempotency-Key": "m-1"}))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["state"] == "proposed"
    assert body["role"] == "broker"
    assert body["in_force"] is False
    assert body["principal"] == {"id": principal.pk, "legal_name": principal.legal_name}
    assert r["Location"] == f"/api/v1/mandates/{body['id']}"
    # the broker cannot accept its own proposal; the principal sees it as principal
    r = client.post(f"/api/v1/mandates/{body['id']}/accept", headers=api_headers(broker_secret))
    assert r.status_code == 403, r.content
    listed = client.get("/api/v1/mandates?role=principal", headers=api_headers(principal_secret)).json()["results"]
    assert [(m["id"], m["role"]) for m in listed] == [(body["id"], "principal")]
    assert client.get("/api/v1/mandates?role=broker", headers=api_headers(principal_secret)).json()["results"] == []
    r = client.post(f"/api/v1/mandates/{body['id']}/accept", headers=api_headers(principal_secret))
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "active"
    assert r.json()["in_force"] is True
    # accepted twice: a conflict, nothing changes
    r = client.post(f"/api/v1/mandates/{body['id']}/accept", headers=api_headers(principal_secret))
    assert r.status_code == 409, r.content
    r = client.post(f"/api/v1/mandates/{body['id']}/revoke", {"reason": "deal done"}, content_type="application/json",
                    headers=api_headers(broker_secret))
    assert r.status_code == 200
    assert r.json()["state"] == "revoked"
    assert client.get(f"/api/v1/mandates/{body['id']}", headers=api_headers(principal_secret)).json()["state"] == "revoked"


def test_principal_declines_a_buyer_side_mandate(client, tenant):
    principal, principal_secret = _org_with_key("Buyer Co.")
    _broker, broker_secret = _org_with_key("Buy-side Brokers")
    r = client.post("/api/v1/mandates", {"principal_organization_id": principal.pk, "side": "buyer",
                                         "all_listings": True, "commission_bps": 300},
                    content_type="application/json", headers=api_headers(broker_secret))
    assert r.status_code == 201, r.content
    mandate_id = r.json()["id"]
    r = client.post(f"/api/v1/mandates/{mandate_id}/decline", headers=api_headers(principal_secret))
    assert r.status_code == 200
    assert r.json()["state"] == "declined"
    assert r.json()["side"] == "buyer"
    r = client.post(f"/api/v1/mandates/{mandate_id}/revoke", {}, content_type="application/json",
                    headers=api_headers(principal_secret))
    assert r.status_code == 409, r.content


def test_a_buyer_side_mandate_is_not_accepted_by_a_key(client, tenant):
    """Offers under a buyer-side mandate are placed in the accepting member's name: a person, not a key."""
    principal, principal_secret = _org_with_key("Buyer Co.")
    _broker, broker_secret = _org_with_key("Buy-side Brokers")
    mandate_id = client.post("/api/v1/mandates", {"principal_organization_id": principal.pk, "side": "buyer",
                                                  "all_listings": True, "commission_bps": 300},
                             content_type="application/json", headers=api_headers(broker_secret)).json()["id"]
    r = client.post(f"/api/v1/mandates/{mandate_id}/accept",
                    headers={**api_headers(principal_secret), "Accept-Language": "en"})
    assert r.status_code == 403, r.content
    assert "signed in on the website" in r.json()["detail"]
    r = client.post(f"/api/v1/mandates/{mandate_id}/accept",
                    headers={**api_headers(principal_secret), "Accept-Language": "zh-hans"})
    assert "登录网站" in r.json()["detail"]
    with tenant_context(tenant):
        assert Mandate.objects.get(pk=mandate_id).state == Mandate.State.PROPOSED


@pytest.mark.parametrize(("payload", "field"), [
    ({"commission_bps": 5001, "all_listings": True}, "commission_bps"),
    ({"commission_bps": 100}, "listings"),
    ({"commission_bps": 100, "all_listings": True, "starts_on": "2027-01-02", "ends_on": "2027-01-01"}, "ends_on"),
    ({"commission_bps": 100, "all_listings": True, "side": "lender"}, "side"),
])
def test_bad_proposals_are_4xx_problems_and_write_nothing(client, tenant, payload, field):
    principal, _ = _org_with_key("Principal")
    _broker, broker_secret = _org_with_key("Broker")
    r = client.post("/api/v1/mandates", {"principal_organization_id": principal.pk, **payload},
                    content_type="application/json", headers=api_headers(broker_secret))
    assert r.status_code in (400, 422), r.content
    assert r["Content-Type"] == "application/problem+json"
    assert field in str(r.json())
    assert not Mandate.objects.exists()


def test_a_principal_of_another_exchange_or_itself_is_unknown(client, tenant, other_tenant):
    broker, broker_secret = _org_with_key("Broker")
    with tenant_context(other_tenant):
        foreign = OrganizationFactory(legal_name="Elsewhere Inc.")
    for pk in (foreign.pk, broker.pk):
        r = client.post("/api/v1/mandates", {"principal_organization_id": pk, "commission_bps": 0,
                                             "all_listings": True},
                        content_type="application/json", headers=api_headers(broker_secret))
        assert r.status_code in (400, 422), r.content
        assert "principal_organization_id" in str(r.json())
    with tenant_context(other_tenant):
        assert not Mandate.objects.unscoped().exists()


def test_a_read_only_key_cannot_propose(client, tenant):
    principal, _ = _org_with_key("Principal")
    broker = OrganizationFactory(legal_name="Broker")
    make_member(org=broker)
    _k, secret = make_api_key(organization=broker, scopes=["read"])
    r = client.post("/api/v1/mandates", {"principal_organization_id": principal.pk, "commission_bps": 0,
                                         "all_listings": True},
                    content_type="application/json", headers=api_headers(secret))
    assert r.status_code == 403
    assert client.get("/api/v1/mandates", headers=api_headers(secret)).status_code == 200
