import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Membership, Role, TenantRole
from core.tenancy import get_current_tenant, tenant_context
from partners.models import PartnerAPIKey
from partners.services import api_key_revoke
from tests.factories import OrganizationFactory, api_headers, make_api_key

pytestmark = pytest.mark.django_db


def test_key_is_stored_hashed_with_a_visible_prefix(org):
    # given / when
    key, secret = make_api_key(organization=org, scopes=["read", "orders"])
    # then
    prefix, _, rest = secret.partition(".")
    assert key.prefix == prefix
    assert len(rest) >= 32
    assert secret not in key.hashed_key
    assert rest not in key.id
    assert PartnerAPIKey.objects.get_from_key(secret) == key
    # the key acts through a service user: member of the organization, buyer for the orders scope
    assert Membership.objects.filter(user=key.service_user, organization=org).exists()
    assert set(TenantRole.objects.filter(user=key.service_user).values_list("role", flat=True)) == {Role.BUYER}
    assert not key.service_user.has_usable_password()


def test_me_shows_the_key_organization_and_exchange(api, org, tenant):
    response = api.get("/api/v1/me")
    assert response.status_code == 200
    body = response.json()
    assert body["organization_id"] == org.pk
    assert body["exchange"] == tenant.slug
    assert set(body["scopes"]) == {"read", "listings", "orders", "webhooks", "financing"}


@pytest.mark.parametrize("authorization", [None, "Api-Key nope.nope", "Api-Key ", "Basic abc", "Bearer x"])
def test_missing_or_wrong_key_is_401_problem(client, tenant, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401
    assert "Api-Key" in response["WWW-Authenticate"]


def test_revoked_and_expired_keys_are_refused(client, org):
    key, secret = make_api_key(organization=org)
    api_key_revoke(key=key)
    assert client.get("/api/v1/me", headers=api_headers(secret)).status_code == 401

    key2, secret2 = make_api_key(organization=org, expiry_date=timezone.now() + dt.timedelta(seconds=1))
    PartnerAPIKey.objects.filter(pk=key2.pk).update(expiry_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/api/v1/me", headers=api_headers(secret2, **{"Accept-Language": "en"}))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_key_of_another_exchange_is_refused_on_this_host(client, tenant, other_tenant):
    with tenant_context(other_tenant):
        _, secret = make_api_key(organization=OrganizationFactory())
    # on this exchange's host: 401, the key decides the tenant and does not match the host
    response = client.get("/api/v1/me", headers=api_headers(secret))
    assert response.status_code == 401
    # on its own exchange's host it works and sees its own exchange
    response = client.get("/api/v1/me", headers=api_headers(secret), HTTP_HOST="beta.test")
    assert response.status_code == 200
    assert response.json()["exchange"] == "beta"


def test_scope_is_required_for_writes(client, org):
    _, secret = make_api_key(organization=org, scopes=["read"])
    response = client.post("/api/v1/webhooks/endpoints", {"url": "https://example.com/h", "event_types":
                           ["order.state_changed"]}, content_type="application/json",
                           headers=api_headers(secret, **{"Accept-Language": "en"}))
    assert response.status_code == 403
    assert "webhooks" in response.json()["detail"]


def test_tenant_context_is_reset_after_the_request(api, tenant):
    with tenant_context(None):
        api.get("/api/v1/me")
        assert get_current_tenant() is None


def test_last_used_is_recorded(api, key_and_secret):
    key, _ = key_and_secret
    assert key.last_used_at is None
    api.get("/api/v1/me")
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_issue_api_key_command_prints_the_key_once(tenant, org):
    out, err = StringIO(), StringIO()
    with tenant_context(None):
        call_command("issue_api_key", "--tenant", tenant.slug, "--org", str(org.pk), "--scopes", "read,listings",
                     "--name", "cli", stdout=out, stderr=err)
    secret = out.getvalue().strip()
    key = PartnerAPIKey.objects.get_from_key(secret)
    assert key.organization == org
    assert key.scopes == ["listings", "read"]
    assert set(TenantRole.objects.filter(user=key.service_user).values_list("role", flat=True)) == {Role.SELLER}


def test_unknown_api_path_is_problem_404(api):
    response = api.get("/api/v1/nothing/here")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_service_users_get_no_notification_emails(api, org):
    from escrow.services.core import order_parties
    from tests.factories import escrow_listing

    key = PartnerAPIKey.objects.get(organization=org)
    assert not key.service_user.is_active
    seller_listing = escrow_listing()
    ref = api.post("/api/v1/orders", {"listing_id": seller_listing.pk, "terms_accepted": True}).json()["reference"]
    from escrow.models import Order

    assert key.service_user not in order_parties(Order.objects.get(reference=ref))


def test_organization_says_whether_it_may_sell(api, org):
    body = api.get("/api/v1/organization").json()
    assert body["id"] == org.pk
    assert body["can_sell"] is True
    assert body["seller_blockers"] == []
    org.verification_status = "pending"
    org.save(update_fields=["verification_status"])
    body = api.get("/api/v1/organization").json()
    assert body["can_sell"] is False
    assert body["seller_blockers"]
