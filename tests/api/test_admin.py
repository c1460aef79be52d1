"""The back-office: a tenant administrator issues a key (shown once), revokes it, replays deliveries."""

import re

import pytest

from accounts.models import Role
from partners.models import PartnerAPIKey, WebhookDelivery
from tests.factories import PASSWORD, WebhookEndpointFactory, api_headers, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, tenant):
    staff = make_member(roles=(Role.TENANT_ADMIN,), org=False)
    assert client.login(email=staff.email, password=PASSWORD)
    return client


def test_tenant_admin_issues_a_key_shown_once(admin_client, org):
    response = admin_client.post("/admin/partners/partnerapikey/add/", {
        "name": "Law firm", "organization": org.pk, "scopes": ["read", "orders"], "expiry_date": "",
    })
    assert response.status_code == 302, response.content[:2000]
    shown = admin_client.get(response["Location"]).content.decode()  # the page after saving shows it
    secret = re.search(r"([A-Za-z0-9]{8}\.[A-Za-z0-9]{32})", shown).group(1)
    key = PartnerAPIKey.objects.get(organization=org)
    assert key.prefix == secret.split(".")[0]
    assert secret not in str(PartnerAPIKey.objects.filter(pk=key.pk).values().first())
    assert admin_client.get("/api/v1/me", headers=api_headers(secret)).status_code == 200
    # never again
    assert secret.encode() not in admin_client.get(response["Location"]).content
    page = admin_client.get(f"/admin/partners/partnerapikey/{key.pk}/change/")
    assert page.status_code == 200
    assert secret.encode() not in page.content


def test_tenant_admin_revokes_keys(admin_client, key_and_secret):
    key, secret = key_and_secret
    response = admin_client.post("/admin/partners/partnerapikey/", {
        "action": "revoke_keys", "_selected_action": [key.pk]})
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked
    assert admin_client.get("/api/v1/me", headers=api_headers(secret)).status_code == 401


def test_deliveries_are_replayable_from_the_admin(admin_client, org, tenant):
    from core.events import emit

    WebhookEndpointFactory(organization=org, url="https://partner.example.com/h")
    emit("order.state_changed", organizations=[org], data={"order": "IPX-1", "to": "placed"})
    delivery = WebhookDelivery.objects.get()
    assert admin_client.get("/admin/partners/webhookdelivery/").status_code == 200
    assert admin_client.get(f"/admin/partners/webhookdelivery/{delivery.pk}/change/").status_code == 200
    response = admin_client.post("/admin/partners/webhookdelivery/", {
        "action": "replay", "_selected_action": [delivery.pk]})
    assert response.status_code == 302
    replay = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert replay.replay_of == delivery
    assert replay.event_id == delivery.event_id


def test_other_staff_do_not_see_partner_keys(client, tenant):
    verifier = make_member(roles=(Role.VERIFIER,), org=False)
    client.login(email=verifier.email, password=PASSWORD)
    assert client.get("/admin/partners/partnerapikey/").status_code == 403
