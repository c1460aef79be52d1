import pytest

from partners.models import IdempotencyRecord, WebhookEndpoint

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/endpoints"
BODY = {"url": "https://partner.example.com/hook", "event_types": ["order.state_changed"]}


def test_same_key_same_body_replays_the_first_response(api):
    first = api.post(URL, BODY, headers={"Idempotency-Key": "abc-1"})
    # key order and spacing do not matter: the body is compared as JSON
    again = api.post(URL, '{"event_types": ["order.state_changed"],  "url": "https://partner.example.com/hook"}',
                     headers={"Idempotency-Key": "abc-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["Location"] == first["Location"]
    assert WebhookEndpoint.objects.count() == 1


def test_same_key_other_body_is_422(api):
    api.post(URL, BODY, headers={"Idempotency-Key": "abc-2"})
    response = api.post(URL, {**BODY, "url": "https://partner.example.com/other"}, headers={"Idempotency-Key": "abc-2"})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert WebhookEndpoint.objects.count() == 1


def test_without_key_each_post_acts(api):
    api.post(URL, BODY)
    api.post(URL, BODY)
    assert WebhookEndpoint.objects.count() == 2


def test_errors_are_replayed_too(api):
    bad = {"url": "not a url", "event_types": []}
    first = api.post(URL, bad, headers={"Idempotency-Key": "bad-1"})
    again = api.post(URL, bad, headers={"Idempotency-Key": "bad-1"})
    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()
    assert again["Content-Type"] == "application/problem+json"


def test_keys_are_per_api_key(api, client, org):
    from tests.factories import api_headers, make_api_key

    api.post(URL, BODY, headers={"Idempotency-Key": "shared"})
    _, other_secret = make_api_key(organization=org)
    response = client.post(URL, {**BODY, "url": "https://x.example.com/h"}, content_type="application/json",
                           headers={**api_headers(other_secret), "Idempotency-Key": "shared"})
    assert response.status_code == 201
    assert IdempotencyRecord.objects.filter(key="shared").count() == 2


def test_a_request_still_in_progress_is_409(api, key_and_secret):
    from partners.idempotency import fingerprint

    key, _ = key_and_secret
    IdempotencyRecord.objects.create(api_key=key, key="busy", fingerprint=fingerprint(method="POST", path=URL,
                                     body=b""), method="POST", path=URL)
    response = api.post(URL, BODY, headers={"Idempotency-Key": "busy"})
    # another body than the in-progress one is a reuse (422); same body would be 409
    assert response.status_code == 422
    import json

    IdempotencyRecord.objects.filter(key="busy").update(fingerprint=fingerprint(
        method="POST", path=URL, body=json.dumps(BODY, sort_keys=True, separators=(",", ":")).encode()))
    response = api.post(URL, BODY, headers={"Idempotency-Key": "busy"})
    assert response.status_code == 409
    assert response["Retry-After"] == "1"


def test_overlong_key_is_400(api):
    response = api.post(URL, BODY, headers={"Idempotency-Key": "x" * 300})
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


def test_responses_echoing_odd_characters_are_stored_and_replayed(api):
    # a row with a column name holding NUL and a lone surrogate: echoed in the errors, stored, replayed
    body = '{"rows": [{"number": "1", "price_minor": 1, "bad\\u0000\\ud800": 1}]}'
    first = api.post("/api/v1/seller/listings/import", body, headers={"Idempotency-Key": "odd-1"})
    again = api.post("/api/v1/seller/listings/import", body, headers={"Idempotency-Key": "odd-1"})
    assert first.status_code == again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
