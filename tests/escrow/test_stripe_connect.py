"""Issue 11: Stripe Connect onboarding (Express account + Account Link, idempotency keys) and the
`account.updated` webhook keeping payouts_enabled current. The library's HTTP client is replaced; events
are signed with stripe.WebhookSignature; never the network."""

import json

import pytest
import stripe

from accounts.models import Membership, Organization
from escrow.payments import stripe_provider
from tests.escrow.test_webhooks import WHSEC, FakeStripeHTTP, post_stripe
from tests.factories import OrganizationFactory, make_member

pytestmark = pytest.mark.django_db


class ConnectHTTP(FakeStripeHTTP):
    def request(self, method, url, headers, post_data=None, *, _usage=None):
        from urllib.parse import parse_qs, urlparse

        path = urlparse(url).path
        form = {k: v[0] for k, v in parse_qs(post_data or "").items()}
        if path == "/v1/accounts":
            self.calls.append((method, path, form, dict(headers or {})))
            return json.dumps({"id": "acct_test_1", "object": "account", "payouts_enabled": False}), 200, {}
        if path == "/v1/account_links":
            self.calls.append((method, path, form, dict(headers or {})))
            return json.dumps({"object": "account_link", "url": "https://connect.stripe.test/onboard/1"}), 200, {}
        return super().request(method, url, headers, post_data, _usage=_usage)


@pytest.fixture
def connect(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_123"
    settings.STRIPE_WEBHOOK_SECRET = WHSEC
    fake = ConnectHTTP()
    old = stripe_provider.HTTP_CLIENT
    stripe_provider.HTTP_CLIENT = fake
    yield fake
    stripe_provider.HTTP_CLIENT = old


def test_organization_manager_starts_onboarding_and_returns(tenant, client, connect):
    org = OrganizationFactory(country="HK")
    manager = make_member(org=org)
    Membership.objects.filter(user=manager).update(is_admin=True)
    client.force_login(manager)
    host = {"HTTP_HOST": tenant.hosts[0]}
    page = client.get(f"/account/organizations/{org.pk}/", **host).content.decode()
    assert f"/orders/connect/stripe/{org.pk}/" in page
    response = client.post(f"/orders/connect/stripe/{org.pk}/", **host)
    assert response.status_code == 302
    assert response["Location"] == "https://connect.stripe.test/onboard/1"
    (_m, p1, account_form, h1), (_m2, p2, link_form, h2) = connect.calls
    assert p1 == "/v1/accounts"
    assert account_form["type"] == "express"
    assert h1["Idempotency-Key"] == f"ipex-connect-account-{tenant.pk}-{org.pk}"
    assert p2 == "/v1/account_links"
    assert link_form["account"] == "acct_test_1"
    assert link_form["return_url"].endswith(f"/account/organizations/{org.pk}/?stripe=return")
    assert link_form["refresh_url"].endswith("?stripe=refresh")
    assert h2["Idempotency-Key"].startswith(f"ipex-connect-link-{org.pk}-")
    org.refresh_from_db()
    assert org.stripe_account_id == "acct_test_1"
    assert not org.stripe_payouts_enabled
    # a second press resumes the same account: no new account
    client.post(f"/orders/connect/stripe/{org.pk}/", **host)
    assert [c[1] for c in connect.calls].count("/v1/accounts") == 1


def test_a_plain_member_or_stranger_cannot_onboard(tenant, client, connect):
    org = OrganizationFactory()
    member = make_member(org=org)
    Membership.objects.filter(user=member).update(is_admin=False)
    client.force_login(member)
    assert client.post(f"/orders/connect/stripe/{org.pk}/", HTTP_HOST=tenant.hosts[0]).status_code == 404
    assert connect.calls == []


def _account_event(account, tenant, enabled, event_id):
    return json.dumps({"id": event_id, "object": "event", "type": "account.updated",
                       "data": {"object": {"id": account, "object": "account", "payouts_enabled": enabled,
                                           "metadata": {"tenant_id": str(tenant.pk)}}}})


def test_account_updated_keeps_payouts_enabled_current(tenant, client, connect):
    org = OrganizationFactory(stripe_account_id="acct_test_9", stripe_payouts_enabled=False)
    body = _account_event("acct_test_9", tenant, True, "evt_acc_1")
    forged = post_stripe(client, body, stripe.WebhookSignature.generate_signature_header(body, "whsec_other"))
    assert forged.status_code == 400
    assert not Organization.objects.get(pk=org.pk).stripe_payouts_enabled
    ok = post_stripe(client, body, stripe.WebhookSignature.generate_signature_header(body, WHSEC))
    assert ok.json()["status"] == "payouts_enabled"
    assert Organization.objects.get(pk=org.pk).stripe_payouts_enabled
    off = _account_event("acct_test_9", tenant, False, "evt_acc_2")
    post_stripe(client, off, stripe.WebhookSignature.generate_signature_header(off, WHSEC))
    assert not Organization.objects.get(pk=org.pk).stripe_payouts_enabled
