"""Wants and bids through the partner API."""

import datetime

import pytest
from django.utils import timezone

from escrow.models import Deposit
from escrow.services import deposit_pay_start
from tests.factories import (
    api_headers,
    auction_for,
    deliver_payment,
    make_api_key,
    published_listing,
    register_record,
)

pytestmark = pytest.mark.django_db


def test_partner_posts_a_want_and_reads_its_explained_matches(client, tenant):
    published_listing(title="Electrode coating", records=[register_record(title="Electrode coating",
                                                                          classes=["H01M 4/13"])])
    _key, secret = make_api_key()
    body = {"title": "Electrodes", "keywords": "electrode", "classes": "H01M 4/13",
            "deadline": (timezone.localdate() + datetime.timedelta(days=10)).isoformat()}
    response = client.post("/api/v1/wants", body, content_type="application/json",
                           headers=api_headers(secret, **{"Idempotency-Key": "want-1"}))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["matches"][0]["title"] == "Electrode coating"
    assert "H01M 4/13" in data["matches"][0]["why"]  # explained in the exchange's language
    # another organization sees the want, not its matches
    _k, other = make_api_key()
    seen = client.get(f"/api/v1/wants/{data['id']}", headers=api_headers(other)).json()
    assert seen["matches"] == []
    assert client.get("/api/v1/wants?q=electrode", headers=api_headers(other)).json()["results"][0]["id"] == data["id"]


def test_nonsense_classes_are_a_400_with_the_field(client, tenant):
    _key, secret = make_api_key()
    response = client.post("/api/v1/wants", {"title": "X", "classes": "Q99", "deadline": "2099-01-01"},
                           content_type="application/json", headers=api_headers(secret, **{"Idempotency-Key": "w2"}))
    assert response.status_code == 400
    # in the exchange's language (Chinese here); the wrong class is named in the field's message
    assert "“Q99”" in response.content.decode()


def test_partner_bids_with_its_deposit_held(client, tenant):
    auction, _seller = auction_for(start=100_000, increment=10_000)
    key, secret = make_api_key()
    url = f"/api/v1/auctions/{auction.pk}/bids"
    refused = client.post(url, {"amount_minor": 100_000}, content_type="application/json",
                          headers=api_headers(secret, **{"Idempotency-Key": "b1"}))
    assert refused.status_code == 403
    assert "¥200.00" in refused.content.decode()  # "place the deposit of ¥200.00 first", in the exchange's language
    payment = deposit_pay_start(subject=auction.subject, payer_org=key.organization, amount_minor=auction.deposit_minor,
                                currency=auction.currency, actor=key.service_user)
    deliver_payment(payment)
    assert Deposit.objects.get(payer_org=key.organization).state == Deposit.State.HELD
    ok = client.post(url, {"amount_minor": 100_000}, content_type="application/json",
                     headers=api_headers(secret, **{"Idempotency-Key": "b2"}))
    assert ok.status_code == 201, ok.content
    assert ok.json()["minimum_bid_minor"] == 110_000
