import datetime as dt
import http.server
import json
import threading

import pytest
from django.utils import timezone

from core.events import emit
from core.models import OutboxMessage
from partners import webhooks
from partners.models import WebhookDelivery
from partners.services import webhook_delivery_replay
from partners.webhooks import deliver_in_tenant
from tests.factories import OrganizationFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db


class Receiver:
    """A partner's webhook receiver on 127.0.0.1: records requests, answers `status`."""

    def __init__(self):
        self.requests = []
        self.status = 200
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.end_headers()
                self.wfile.write(b"ok" if outer.status < 300 else b"boom")

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _emit_order_change(org, other=None):
    emit("order.state_changed", organizations=[org, other],
         data={"order": "IPX-2026-000001", "from": "placed", "to": "seller_confirmed"})


def test_event_creates_deliveries_for_subscribed_endpoints_only(tenant, org):
    subscribed = WebhookEndpointFactory(organization=org, url="https://a.example.com/h")
    WebhookEndpointFactory(organization=org, url="https://b.example.com/h", event_types=["listing.verified"])
    WebhookEndpointFactory(organization=OrganizationFactory(), url="https://c.example.com/h")  # another org
    WebhookEndpointFactory(organization=org, url="https://d.example.com/h", is_active=False)
    _emit_order_change(org)
    deliveries = list(WebhookDelivery.objects.all())
    assert [d.endpoint for d in deliveries] == [subscribed]
    assert deliveries[0].payload["type"] == "order.state_changed"
    assert deliveries[0].payload["data"]["to"] == "seller_confirmed"
    assert OutboxMessage.objects.filter(task_name="partners.tasks.deliver_webhook").count() == 1


def test_delivery_is_signed_and_verifiable(tenant, org, receiver):
    endpoint = WebhookEndpointFactory(organization=org, url=receiver.url)
    _emit_order_change(org)
    delivery = WebhookDelivery.objects.get()
    deliver_in_tenant(delivery_id=delivery.pk, tenant_id=tenant.pk)
    headers, body = receiver.requests[0]
    assert webhooks.verify(endpoint.secret, body, headers["X-Ipex-Signature"])
    assert not webhooks.verify(endpoint.secret, body + b" ", headers["X-Ipex-Signature"])
    assert not webhooks.verify("whsec_wrong", body, headers["X-Ipex-Signature"])
    assert json.loads(body)["id"] == str(delivery.event_id) == headers["X-Ipex-Event-Id"]
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert delivery.response_code == 200
    assert delivery.attempts == 1
    assert delivery.attempt_log.get().response_code == 200


def test_signature_format_matches_the_readme():
    import hashlib
    import hmac

    header = webhooks.sign("whsec_x", b'{"a":1}', timestamp=1700000000)
    expected = hmac.new(b"whsec_x", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert not webhooks.verify("whsec_x", b'{"a":1}', header)  # too old
    assert webhooks.verify("whsec_x", b'{"a":1}', header, now=1700000100)


def test_failures_are_retried_with_backoff_then_given_up_after_a_day(tenant, org, receiver):
    WebhookEndpointFactory(organization=org, url=receiver.url)
    receiver.status = 500
    _emit_order_change(org)
    delivery = WebhookDelivery.objects.get()

    deliver_in_tenant(delivery_id=delivery.pk, tenant_id=tenant.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert delivery.attempts == 1
    assert delivery.response_code == 500
    assert delivery.response_excerpt == "boom"
    first_gap = delivery.next_attempt_at - delivery.last_attempt_at
    assert dt.timedelta(seconds=29) < first_gap <= dt.timedelta(seconds=31)

    # not due yet: a second run (task queued twice) sends nothing
    deliver_in_tenant(delivery_id=delivery.pk, tenant_id=tenant.pk)
    assert len(receiver.requests) == 1

    # due: the retry doubles the wait
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    deliver_in_tenant(delivery_id=delivery.pk, tenant_id=tenant.pk)
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert dt.timedelta(seconds=59) < delivery.next_attempt_at - delivery.last_attempt_at <= dt.timedelta(seconds=61)

    # the partner recovers: delivered
    receiver.status = 204
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    deliver_in_tenant(delivery_id=delivery.pk, tenant_id=tenant.pk)
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert delivery.attempts == 3
    assert [a.response_code for a in delivery.attempt_log.all()] == [500, 500, 204]


def test_gives_up_after_a_day(tenant, org, receiver):
    WebhookEndpointFactory(organization=org, url=receiver.url)
    receiver.status = 503
    _emit_order_change(org)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(give_up_at=timezone.now() + dt.timedelta(seconds=5))
    deliver_in_tenant(delivery_id=delivery.pk, tenant_id=tenant.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.next_attempt_at is None


def test_backoff_schedule_covers_a_day():
    total, n = dt.timedelta(0), 0
    while total < webhooks.RETRY_FOR:
        n += 1
        total += webhooks.retry_delay(n)
    assert 10 <= n <= 20


def test_unreachable_endpoint_is_logged_and_retried(tenant, org):
    WebhookEndpointFactory(organization=org, url="http://127.0.0.1:9/closed")
    _emit_order_change(org)
    delivery = WebhookDelivery.objects.get()
    deliver_in_tenant(delivery_id=delivery.pk, tenant_id=tenant.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert delivery.response_code is None
    assert delivery.last_error


def test_replay_sends_the_same_event_again(tenant, org, receiver):
    WebhookEndpointFactory(organization=org, url=receiver.url)
    _emit_order_change(org)
    delivery = WebhookDelivery.objects.get()
    deliver_in_tenant(delivery_id=delivery.pk, tenant_id=tenant.pk)
    replay = webhook_delivery_replay(delivery=delivery)
    deliver_in_tenant(delivery_id=replay.pk, tenant_id=tenant.pk)
    assert len(receiver.requests) == 2
    assert receiver.requests[0][1] == receiver.requests[1][1]  # same payload, same event id
    assert replay.replay_of == delivery


def test_private_urls_are_refused_at_delivery_when_not_allowed(tenant, org, receiver, settings):
    WebhookEndpointFactory(organization=org, url=receiver.url)
    _emit_order_change(org)
    delivery = WebhookDelivery.objects.get()
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    deliver_in_tenant(delivery_id=delivery.pk, tenant_id=tenant.pk)
    delivery.refresh_from_db()
    assert receiver.requests == []
    assert "https" in delivery.last_error


def test_deliveries_are_listed_per_endpoint_through_the_api(api, tenant, org, receiver):
    endpoint = WebhookEndpointFactory(organization=org, url=receiver.url)
    _emit_order_change(org)
    response = api.get(f"/api/v1/webhooks/endpoints/{endpoint.pk}/deliveries")
    assert response.status_code == 200
    assert [d["event_type"] for d in response.json()["results"]] == ["order.state_changed"]


def test_redirects_are_not_followed(tenant, org, receiver):
    receiver.status = 302
    WebhookEndpointFactory(organization=org, url=receiver.url)
    _emit_order_change(org)
    delivery = WebhookDelivery.objects.get()
    deliver_in_tenant(delivery_id=delivery.pk, tenant_id=tenant.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert delivery.response_code == 302
    assert len(receiver.requests) == 1


def test_endpoint_language_through_the_api(api, settings):
    """A partner chooses the language of its events' texts (a right alert's message); empty = the exchange's."""
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    url = "/api/v1/webhooks/endpoints"
    created = api.post(url, {"url": "http://127.0.0.1:9/h", "event_types": ["right.alert"], "language": "en"})
    assert created.status_code == 201, created.content
    assert created.json()["language"] == "en"
    pk = created.json()["id"]
    assert api.patch(f"{url}/{pk}", {"language": ""}).json()["language"] == ""
    refused = api.post(url, {"url": "http://127.0.0.1:9/h", "event_types": ["right.alert"], "language": "fr"})
    assert refused.status_code == 400
    assert "language" in refused.json()["errors"]
    assert api.post(url, {"url": "http://127.0.0.1:9/h", "event_types": ["right.alert"]}).json()["language"] == ""
