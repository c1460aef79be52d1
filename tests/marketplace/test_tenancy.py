import pytest

from accounts.models import Organization
from core.errors import TenantNotSet
from core.tenancy import tenant_context
from tests.factories import OrganizationFactory


def test_unknown_host_gets_plain_404_not_another_tenants_site(client, tenant):
    response = client.get("/", HTTP_HOST="nobody.example")
    assert response.status_code == 404
    assert tenant.name not in response.content.decode()


def test_each_host_serves_its_own_tenant(client, tenant, other_tenant):
    assert tenant.name in client.get("/").content.decode()
    page = client.get("/", HTTP_HOST="beta.test", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert other_tenant.name in page
    assert tenant.name not in page


def test_scoped_manager_never_returns_another_tenants_rows(tenant, other_tenant):
    mine = OrganizationFactory(legal_name="Mine")
    with tenant_context(other_tenant):
        theirs = OrganizationFactory(legal_name="Theirs")
        assert list(Organization.objects.all()) == [theirs]
    assert list(Organization.objects.all()) == [mine]
    assert not Organization.objects.filter(pk=theirs.pk).exists()


def test_query_without_tenant_fails_closed(db):
    with pytest.raises(TenantNotSet):
        list(Organization.objects.all())
    assert Organization.objects.unscoped().count() == 0


def test_healthz_reports_database_and_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["broker"] == "ok"


def test_healthz_is_503_when_broker_is_down(client, db, settings):
    from marketplace.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    assert response.json()["broker"] == "down"
