import pytest

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/endpoints"


def test_validation_errors_are_problem_details_with_field_messages(api):
    response = api.post(URL, {"url": "nope", "event_types": ["order.state_changed", "bogus"]})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"].startswith("urn:ipex:problem:")
    assert body["status"] == 400
    assert body["instance"] == URL
    assert "url" in body["errors"]
    assert "event_types.1" in body["errors"]


@pytest.mark.parametrize(("payload", "content_type"), [
    ("{not json", "application/json"),
    ("[1, 2]", "application/json"),
    ("url=x", "application/x-www-form-urlencoded"),
    ('"just a string"', "application/json"),
])
def test_malformed_bodies_never_500(api, payload, content_type):
    response = api.post(URL, payload, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/problem+json"


def test_domain_errors_map_to_their_status(api):
    # a private address is refused by the service (DomainError ValidationFailed with field errors)
    from django.test import override_settings

    with override_settings(WEBHOOK_ALLOW_PRIVATE_HOSTS=False):
        response = api.post(URL, {"url": "http://127.0.0.1:9/x", "event_types": ["listing.verified"]})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert "url" in response.json()["errors"]


def test_huge_ids_are_404_not_500(api):
    assert api.get("/api/v1/webhooks/endpoints/99999999999999999999999").status_code == 404
    assert api.get("/api/v1/webhooks/endpoints/999999999999999999").status_code == 404


def test_throttling_answers_429_with_retry_after(api, settings):
    settings.API_THROTTLE_RATE = "3/min"
    statuses = [api.get("/api/v1/me").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get("/api/v1/me")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["code"] == "throttled"
    assert response.json()["retry_after"] == int(response["Retry-After"])


def test_throttling_is_per_key(api, client, org, settings):
    from tests.factories import api_headers, make_api_key

    settings.API_THROTTLE_RATE = "2/min"
    api.get("/api/v1/me")
    api.get("/api/v1/me")
    assert api.get("/api/v1/me").status_code == 429
    _, other = make_api_key(organization=org)
    assert client.get("/api/v1/me", headers=api_headers(other)).status_code == 200


def test_messages_follow_accept_language(api):
    english = api.get("/api/v1/nothing", headers={"Accept-Language": "en"}).json()
    chinese = api.get("/api/v1/nothing", headers={"Accept-Language": "zh-hans"}).json()
    assert english["title"] == "Not found"
    assert chinese["title"] == "未找到"
