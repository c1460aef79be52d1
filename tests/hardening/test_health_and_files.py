"""Issue 10: /healthz answers without a tenant and without internals, even with the database down;
no storage path is served directly; uploads carry the tenant in their path."""

from unittest import mock

import pytest
from django.db.utils import OperationalError
from django.urls import resolve
from django.urls.exceptions import Resolver404

pytestmark = pytest.mark.django_db

SECRET_ERROR = 'connection to server at "10.1.2.3", port 5432 failed: password authentication failed'


def _db_down(*args, **kwargs):
    raise OperationalError(SECRET_ERROR)


def test_healthz_with_the_database_down_is_503_json_without_internals(client, tenant):
    from core.models import Tenant

    Tenant.clear_host_cache()
    with mock.patch.object(Tenant, "for_host", side_effect=_db_down), \
            mock.patch("marketplace.views.connection.cursor", side_effect=_db_down), \
            mock.patch("marketplace.views._check_broker", return_value=("ok", None)):
        response = client.get("/healthz", HTTP_HOST="unknown.example")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    body = response.content.decode()
    assert response.json()["database"] == "down"
    assert "10.1.2.3" not in body
    assert "5432" not in body
    assert "password" not in body


def test_healthz_needs_no_tenant_lookup(client, tenant, django_assert_num_queries):
    with mock.patch("marketplace.views._check_broker", return_value=("ok", None)), \
            django_assert_num_queries(1):  # its own SELECT 1, nothing else
        response = client.get("/healthz", HTTP_HOST="nobody.example")
    assert response.status_code == 200


@pytest.mark.parametrize("debug", [True, False])
def test_no_setting_serves_the_storage_directly(settings, debug):
    import importlib

    from django.urls import clear_url_caches
    from django.views.static import serve

    import marketplace.urls

    settings.DEBUG = debug
    try:
        urls = importlib.reload(marketplace.urls)
        clear_url_caches()
        assert not [p for p in urls.urlpatterns if getattr(p, "callback", None) is serve]
        with pytest.raises(Resolver404):
            resolve("/media/t1/org/1/licence.pdf", urlconf="marketplace.urls")
    finally:
        settings.DEBUG = False
        importlib.reload(marketplace.urls)
        clear_url_caches()


def test_no_upload_path_lacks_the_tenant(tenant):
    from accounts.models import OrganizationDocument, org_document_path
    from escrow.models import DisputeEvidence, evidence_path
    from listings.models import Right, certificate_path
    from transfers.models import TransferDocument, document_path

    for make_path, instance in ((org_document_path, OrganizationDocument(organization_id=1)),
                                (evidence_path, DisputeEvidence(dispute_id=1)),
                                (certificate_path, Right(listing_id=1)),
                                (document_path, TransferDocument(order_id=1))):
        assert make_path(instance, "x.pdf").startswith(f"t{tenant.pk}/"), make_path
    from transfers.models import TransferFiling

    field = TransferFiling._meta.get_field("export_certificate")
    assert field.generate_filename(TransferFiling(order_id=1), "c.pdf").startswith(f"t{tenant.pk}/")


def test_uploaded_documents_carry_the_tenant_in_their_path(tenant):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.services import organization_add_document
    from tests.factories import seller_with_org

    seller, org = seller_with_org(verification_status="unverified")
    pdf = SimpleUploadedFile("licence.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
                             content_type="application/pdf")
    document = organization_add_document(organization=org, actor=seller, kind="business_licence", file=pdf)
    assert document.file.name.startswith(f"t{tenant.pk}/org/{org.pk}/"), document.file.name
    assert "tNone" not in document.file.name
