"""Security review: each side of an order can only take its own steps; tasks act in the tenant of their
`tenant_id` only; notifications, API service users and API keys stay inside their exchange."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from core.models import Notification
from core.tenancy import tenant_context
from escrow.models import Disbursement, Order, OrderState, Payment
from partners.models import PartnerAPIKey
from tests.factories import (
    PASSWORD,
    OrganizationFactory,
    escrow_staff,
    make_api_key,
    make_member,
    order_in_state,
    seller_with_org,
    transfer_order,
)
from transfers.models import TransferDocument

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _state(order):
    return Order.objects.get(pk=order.pk).state


def test_each_side_takes_only_its_own_steps(client, tenant):
    placed, seller, buyer = order_in_state(OrderState.PLACED)
    officer = escrow_staff()
    for who, action in ((buyer, "confirm"), (buyer, "decline"), (seller, "cancel"), (seller, "certificate"),
                        (officer, "confirm"), (officer, "cancel"), (officer, "decline"), (officer, "dispute")):
        client.force_login(who)
        client.post(f"/orders/{placed.reference}/act/{action}/", {"reason": "x"})
        assert _state(placed) == OrderState.PLACED, (who, action)
    confirmed, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    for who in (seller, officer):
        client.force_login(who)
        client.post(f"/orders/{confirmed.reference}/pay/", {"provider": "simulated"})
        assert not Payment.objects.filter(order=confirmed).exists()


def test_only_the_seller_uploads_the_export_certificate(client, tenant):
    order, _seller, buyer = transfer_order(state=OrderState.FUNDED)
    client.force_login(buyer)
    client.post(f"/transfers/orders/{order.pk}/export-certificate/",
                {"file": SimpleUploadedFile("c.pdf", PDF, content_type="application/pdf")})
    from transfers.models import TransferFiling

    assert not TransferFiling.objects.filter(order=order).exclude(export_certificate="").exists()


def test_tasks_with_another_tenants_id_touch_nothing_of_a(tenant, other_tenant, settings):
    """A task runs in the tenant of its `tenant_id`: given B's id and A's row ids, it finds nothing."""
    from core.tasks import send_notification_email
    from escrow.tasks import execute_disbursement
    from partners.tasks import deliver_webhook
    from transfers.tasks import prepare_transfer

    refunded, _s, buyer = order_in_state(OrderState.REFUNDED)
    order, *_ = transfer_order(state=OrderState.FUNDED)
    note = Notification.objects.create(user=buyer, kind="t", subject="secret of A", body="b", url="/")
    disb_states = sorted(Disbursement.objects.values_list("pk", "state", "attempts"))
    mail.outbox.clear()
    for disb_id, *_rest in disb_states:
        execute_disbursement.run(disbursement_id=disb_id, tenant_id=other_tenant.pk)
    send_notification_email.run(notification_id=note.pk, tenant_id=other_tenant.pk)
    prepare_transfer.run(tenant_id=other_tenant.pk, order_id=order.pk)
    deliver_webhook.run(delivery_id=1, tenant_id=other_tenant.pk)
    assert sorted(Disbursement.objects.values_list("pk", "state", "attempts")) == disb_states
    assert mail.outbox == []
    assert not TransferDocument.objects.filter(order=order).exists()
    # control: with A's id the e-mail does go out
    send_notification_email.run(notification_id=note.pk, tenant_id=tenant.pk)
    assert len(mail.outbox) == 1


def test_notifications_and_watchlist_pages_show_only_this_exchanges_rows(client, tenant, other_tenant):
    user = make_member()
    with tenant_context(other_tenant):
        Notification.objects.create(user=user, kind="t", subject="SECRET-OF-B", body="b", url="/")
    Notification.objects.create(user=user, kind="t", subject="visible-in-A", body="b", url="/")
    client.force_login(user)
    page = client.get("/notifications/").content.decode()
    assert "visible-in-A" in page
    assert "SECRET-OF-B" not in page
    client.post("/notifications/read-all/")
    with tenant_context(other_tenant):
        assert Notification.objects.get(subject="SECRET-OF-B").read_at is None


def test_an_api_keys_service_user_cannot_log_in_to_the_website_or_the_admin(client, tenant):
    key, _secret = make_api_key()
    user = PartnerAPIKey.objects.get(pk=key.pk).service_user
    assert not user.has_usable_password()
    for url in ("/accounts/login/", "/admin/login/"):
        client.post(url, {"login": user.email, "username": user.email, "password": PASSWORD})
        assert "_auth_user_id" not in client.session


def test_a_tenant_admin_cannot_issue_an_api_key_for_another_exchanges_organization(client, tenant, other_tenant):
    with tenant_context(other_tenant):
        theirs = OrganizationFactory()
    client.force_login(make_member(roles=(Role.TENANT_ADMIN,), org=False))
    response = client.post("/admin/partners/partnerapikey/add/",
                           {"name": "k", "organization": theirs.pk, "scopes": ["read"]})
    assert response.status_code == 200  # the form again: not a choice here
    assert not PartnerAPIKey.objects.unscoped().filter(organization=theirs).exists()


# found in review: the simulated provider (the payer approves their own payment) was offered in production
def test_the_self_approved_simulated_payment_is_off_when_a_real_provider_is_configured(tenant, settings):
    from escrow.payments import available_providers

    settings.DEBUG = False
    settings.ESCROW_SIMULATED_PAYMENTS = False  # the production default (settings/production.py)
    settings.STRIPE_SECRET_KEY = "sk_live_x"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    names = {p.name for p in available_providers(tenant)}
    assert "stripe" in names
    assert "simulated" not in names


def test_a_member_who_is_not_a_manager_cannot_manage_the_organization(client, tenant):
    from accounts.models import Membership, OrganizationDocument
    from accounts.services import organization_add_document

    manager, org = seller_with_org(verification_status="unverified")
    doc = organization_add_document(organization=org, actor=manager, kind=OrganizationDocument.Kind.choices[0][0],
                                    file=SimpleUploadedFile("l.pdf", PDF), content_type="application/pdf")
    plain = make_member(org=org)
    Membership.objects.filter(user=plain, organization=org).update(is_admin=False)
    client.force_login(plain)
    for url, data in ((f"/account/organizations/{org.pk}/edit/", {"legal_name": "Hijacked"}),
                      (f"/account/organizations/{org.pk}/documents/{doc.pk}/remove/", {}),
                      (f"/account/organizations/{org.pk}/submit/", {}),
                      (f"/account/organizations/{org.pk}/members/", {"email": "x@example.com", "is_admin": "on"}),
                      (f"/account/organizations/{org.pk}/documents/",
                       {"kind": OrganizationDocument.Kind.choices[0][0], "file": SimpleUploadedFile("x.pdf", PDF)})):
        assert client.post(url, data).status_code == 403, url
    org.refresh_from_db()
    assert org.legal_name != "Hijacked"
    assert org.documents.count() == 1
    assert client.get(f"/account/organizations/{org.pk}/").status_code == 200  # members may look


def test_switched_off_simulated_provider_refuses_its_page_and_webhook(client, tenant, settings):
    from escrow.payments import WebhookRejected, get_provider

    settings.ESCROW_SIMULATED_PAYMENTS = False
    with pytest.raises(WebhookRejected):
        get_provider("simulated").parse_webhook(b"{}", {})
