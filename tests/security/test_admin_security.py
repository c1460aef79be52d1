"""Security review of the back-office: staff of another exchange, staff roles, and role grants.

Given rows of exchange A for every tenant-owned admin, when exchange B's administrator (who holds every
staff role in B) opens A's change pages on B's host, then each is a 404/redirect and B's lists never show
A's rows; on A's host B's staff cannot even log in. Within A, a verifier cannot move money, finance cannot
verify, and a tenant administrator cannot reach the platform's powers."""

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Organization, OrganizationDocument, Role, TenantRole, User
from accounts.services import organization_add_document
from core.audit import audit_record
from core.models import Notification
from core.tenancy import TenantOwned, tenant_context
from escrow.models import Disbursement, Order, OrderState, Payment
from escrow.services import payment_start
from listings.models import Listing
from listings.services import listing_submit
from tests.factories import (
    PASSWORD,
    OrganizationFactory,
    TenantRoleFactory,
    UserFactory,
    WebhookEndpointFactory,
    draft_listing,
    finance_partner,
    make_api_key,
    make_member,
    open_application,
    order_in_state,
    seller_with_org,
    transfer_order,
)
from transfers.services import transfer_prepare

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def a_rows(tenant, other_tenant, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    funded, seller, buyer = order_in_state(OrderState.FUNDED)
    refunded, *_ = order_in_state(OrderState.REFUNDED)
    disputed, *_ = order_in_state(OrderState.DISPUTED)
    confirmed, _s, confirmed_buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    bank = payment_start(order=confirmed, actor=confirmed_buyer, provider="bank_transfer")
    papers_order, *_ = transfer_order(state=OrderState.FUNDED)
    transfer_prepare(order=papers_order)
    pending_seller, pending_org = seller_with_org(verification_status=Organization.Verification.UNVERIFIED)
    organization_add_document(organization=pending_org, actor=pending_seller,
                              kind=OrganizationDocument.Kind.choices[0][0],
                              file=SimpleUploadedFile("l.pdf", PDF), content_type="application/pdf")
    Organization.objects.filter(pk=pending_org.pk).update(verification_status=Organization.Verification.PENDING)
    listing_seller, listing_org = seller_with_org()
    submitted = draft_listing(seller=listing_seller, org=listing_org)
    listing_submit(listing=submitted, actor=listing_seller)
    Notification.objects.create(user=buyer, kind="t", subject="s", body="b", url="/")
    audit_record(actor=buyer, action="test.event", obj=funded)
    make_api_key(organization=funded.buyer_org)
    WebhookEndpointFactory(organization=funded.buyer_org, url="https://a.example.com/hook")
    from financing.models import PartnerKind
    from financing.services import appraisal_order

    application, holder, records = open_application()
    appraiser, _u = finance_partner(kind=PartnerKind.APPRAISER, fee_minor=10_00)
    appraisal_order(actor=holder, organization=application.applicant_org, appraiser=appraiser,
                    record_ids=[records[0].pk])
    from financing.models import FinancingTerms

    FinancingTerms.objects.create(service_fee_bps=75)

    # demand: a want, an auction with a bid and a held deposit
    from demand.auctions import bid_place
    from tests.factories import open_auction, post_want

    post_want()
    auction, _seller, (bidder,) = open_auction(1)
    bid_place(auction=auction, actor=bidder, amount_minor=auction.start_price_minor)

    # negotiated deals: an accepted licence offer (offer, rounds, licence) and a question
    from negotiation.services import offer_accept, offer_make, question_ask
    from tests.factories import licence_listing

    licensed, licensor = licence_listing(exclusive=False)
    offer_accept(offer=offer_make(listing=licensed, actor=buyer, price_minor=400_000, currency=licensed.currency),
                 actor=licensor)
    question_ask(listing=licensed, actor=buyer, text="Is there a licence in force?")
    with tenant_context(other_tenant):
        b_admin = make_member(roles=(Role.TENANT_ADMIN, Role.VERIFIER, Role.ESCROW_OFFICER, Role.FINANCE), org=False)
    return dict(funded=funded, refunded=refunded, disputed=disputed, bank=bank, pending_org=pending_org,
                submitted=submitted, b_admin=b_admin, buyer=buyer, tenant=tenant)


def tenant_admins():
    for model, model_admin in admin.site._registry.items():
        if issubclass(model, TenantOwned):
            yield model, model_admin


def test_every_tenant_owned_admin_has_a_row_of_exchange_a(a_rows, tenant):
    """The checks below only prove something for models with a row; list those without (keep it short)."""
    missing = [m._meta.label for m, _a in tenant_admins()
               if not m.objects.unscoped().filter(tenant=tenant).exists()]
    assert set(missing) <= {"partners.WebhookDelivery"}, missing


def test_staff_of_another_exchange_reach_no_row_of_a_by_id(client, a_rows, tenant):
    client.force_login(a_rows["b_admin"])
    leaks = []
    for model, _model_admin in tenant_admins():
        opts = model._meta
        for pk in model.objects.unscoped().filter(tenant=tenant).values_list("pk", flat=True)[:3]:
            for suffix in ("change/", "delete/", "history/"):
                url = f"/admin/{opts.app_label}/{opts.model_name}/{pk}/{suffix}"
                response = client.get(url, HTTP_HOST="beta.test")
                if response.status_code == 200:
                    leaks.append(url)
                elif response.status_code == 302 and f"/{pk}/" in response["Location"]:
                    leaks.append(url)
    o = a_rows
    extra = [("GET", f"/admin/escrow/order/{o['funded'].pk}/refund/"),
             ("POST", f"/admin/escrow/order/{o['funded'].pk}/refund/"),
             ("POST", f"/admin/escrow/order/{o['funded'].pk}/cancel/"),
             ("POST", f"/admin/escrow/order/{o['disputed'].pk}/resolve/refund/"),
             ("POST", f"/admin/escrow/payment/{o['bank'].pk}/receipt/"),
             ("POST", f"/admin/accounts/organization/{o['pending_org'].pk}/verify/"),
             ("POST", f"/admin/accounts/organization/{o['pending_org'].pk}/reject/"),
             ("GET", f"/admin/accounts/organization/{o['pending_org'].pk}/documents/"
                     f"{o['pending_org'].documents.first().pk}/"),
             ("POST", f"/admin/listings/listing/{o['submitted'].pk}/decide/"),
             ("POST", f"/admin/listings/listingtoverify/{o['submitted'].pk}/decide/")]
    for disb in Disbursement.objects.all():
        extra.append(("POST", f"/admin/escrow/disbursement/{disb.pk}/paid/"))
    for method, url in extra:
        response = (client.get(url, HTTP_HOST="beta.test") if method == "GET" else
                    client.post(url, {"reason": "x", "decision": "approve", "amount": "1", "bank_reference": "r",
                                      "note": "x"}, HTTP_HOST="beta.test"))
        if response.status_code != 404:
            leaks.append((method, url, response.status_code))
    assert leaks == []
    with tenant_context(tenant):
        assert Order.objects.get(pk=o["funded"].pk).state == OrderState.FUNDED
        assert Organization.objects.get(pk=o["pending_org"].pk).verification_status == "pending"
        assert Listing.objects.get(pk=o["submitted"].pk).state == Listing.State.SUBMITTED
        assert Payment.objects.get(pk=o["bank"].pk).state == Payment.State.PENDING


def test_changelists_of_another_exchange_do_not_list_a_s_rows(client, a_rows):
    client.force_login(a_rows["b_admin"])
    for url, secret in (("/admin/escrow/order/", a_rows["funded"].reference),
                        ("/admin/escrow/payment/", a_rows["bank"].reference),
                        ("/admin/accounts/organization/", a_rows["pending_org"].legal_name),
                        ("/admin/listings/listing/", a_rows["submitted"].title),
                        ("/admin/listings/listingtoverify/", a_rows["submitted"].title),
                        ("/admin/accounts/user/", a_rows["buyer"].email),
                        ("/admin/accounts/tenantrole/", a_rows["buyer"].email),
                        (f"/admin/escrow/order/?q={a_rows['funded'].reference}",
                         f"/admin/escrow/order/{a_rows['funded'].pk}/change/")):
        response = client.get(url, HTTP_HOST="beta.test")
        assert response.status_code == 200, url
        assert secret not in response.content.decode(), url


def test_staff_of_another_exchange_cannot_log_in_to_a_s_admin(client, a_rows):
    response = client.post("/admin/login/", {"username": a_rows["b_admin"].email, "password": PASSWORD})
    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session
    client.force_login(a_rows["b_admin"])  # even with a session from B's host
    assert client.get("/admin/").status_code == 302
    assert client.get(f"/admin/escrow/order/{a_rows['funded'].pk}/change/").status_code == 302


def test_superuser_reaches_a_s_rows_from_any_host(client, a_rows):
    root = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(root)
    for host in ("testserver", "beta.test"):
        assert client.get(f"/admin/escrow/order/{a_rows['funded'].pk}/change/", HTTP_HOST=host).status_code == 200


def _staff(*roles):
    return make_member(roles=roles, org=False)


def test_a_verifier_cannot_move_money(client, a_rows, tenant):
    client.force_login(_staff(Role.VERIFIER))
    o = a_rows
    for url in (f"/admin/escrow/order/{o['funded'].pk}/refund/", f"/admin/escrow/order/{o['funded'].pk}/cancel/",
                f"/admin/escrow/order/{o['disputed'].pk}/resolve/refund/",
                f"/admin/escrow/payment/{o['bank'].pk}/receipt/",
                *[f"/admin/escrow/disbursement/{d.pk}/paid/" for d in Disbursement.objects.all()]):
        assert client.post(url, {"reason": "x", "amount": "100000", "bank_reference": "r"}).status_code == 404, url
    for url in ("/admin/escrow/disbursement/", "/admin/escrow/payment/", "/admin/escrow/order/"):
        assert client.get(url).status_code == 403, url
    assert Order.objects.get(pk=o["funded"].pk).state == OrderState.FUNDED
    assert Payment.objects.get(pk=o["bank"].pk).state == Payment.State.PENDING


def test_finance_cannot_verify_listings_or_organizations(client, a_rows):
    client.force_login(_staff(Role.FINANCE))
    o = a_rows
    for url in (f"/admin/listings/listing/{o['submitted'].pk}/decide/",
                f"/admin/listings/listingtoverify/{o['submitted'].pk}/decide/"):
        assert client.post(url, {"decision": "approve"}).status_code == 404, url
    client.post(f"/admin/accounts/organization/{o['pending_org'].pk}/verify/")
    client.post(f"/admin/accounts/organization/{o['pending_org'].pk}/reject/", {"note": "no"})
    client.post("/admin/accounts/organization/", {"action": "verify_selected",
                                                  "_selected_action": [o["pending_org"].pk]})
    assert Listing.objects.get(pk=o["submitted"].pk).state == Listing.State.SUBMITTED
    assert Organization.objects.get(pk=o["pending_org"].pk).verification_status == "pending"


def test_an_escrow_officer_cannot_record_receipts_or_mark_payouts_paid(client, a_rows):
    client.force_login(_staff(Role.ESCROW_OFFICER))
    o = a_rows
    assert client.post(f"/admin/escrow/payment/{o['bank'].pk}/receipt/",
                       {"amount": "999999999", "bank_reference": "r"}).status_code == 404
    for d in Disbursement.objects.all():
        assert client.post(f"/admin/escrow/disbursement/{d.pk}/paid/", {"bank_reference": "r"}).status_code == 404
    assert Payment.objects.get(pk=o["bank"].pk).state == Payment.State.PENDING


def _user_form(user, **extra):
    data = {"email": user.email, "full_name": user.full_name or "x", "phone": "", "language": "en",
            "is_active": "on", "tenant_roles-TOTAL_FORMS": "0", "tenant_roles-INITIAL_FORMS": "0",
            "tenant_roles-MIN_NUM_FORMS": "0", "tenant_roles-MAX_NUM_FORMS": "1000"}
    data.update(extra)
    return data


def test_a_tenant_admin_cannot_make_anyone_superuser(client, tenant):
    boss = _staff(Role.TENANT_ADMIN)
    client.force_login(boss)
    client.post(f"/admin/accounts/user/{boss.pk}/change/", _user_form(boss, is_superuser="on", is_staff="on"))
    boss.refresh_from_db()
    assert not boss.is_superuser
    assert client.get("/admin/accounts/user/add/").status_code == 403
    # an exchange administrator edits their own exchange (issue 11), never adds or reaches another one
    assert client.get("/admin/marketplace/tenant/add/").status_code == 403


def test_a_tenant_admin_cannot_open_or_change_a_superuser(client, tenant):
    root = UserFactory(is_superuser=True)
    TenantRoleFactory(user=root, role=Role.BUYER)
    client.force_login(_staff(Role.TENANT_ADMIN))
    client.post(f"/admin/accounts/user/{root.pk}/change/", _user_form(root, email="evil@example.com"))
    root.refresh_from_db()
    assert root.email != "evil@example.com"


def test_a_tenant_admin_grants_roles_only_to_people_of_the_exchange_and_only_there(client, tenant, other_tenant):
    boss = _staff(Role.TENANT_ADMIN)
    with tenant_context(other_tenant):
        only_b = make_member(roles=(Role.BUYER,))
    client.force_login(boss)
    response = client.post("/admin/accounts/tenantrole/add/", {"user": only_b.pk, "role": Role.TENANT_ADMIN})
    assert response.status_code == 200  # form error: not a person of this exchange
    assert not TenantRole.objects.unscoped().filter(user=only_b, role=Role.TENANT_ADMIN).exists()
    # on B's host A's administrator holds no role at all
    assert client.get("/admin/accounts/tenantrole/add/", HTTP_HOST="beta.test").status_code == 302
    client.post("/admin/accounts/tenantrole/add/", {"user": boss.pk, "role": Role.TENANT_ADMIN}, HTTP_HOST="beta.test")
    assert not TenantRole.objects.unscoped().filter(user=boss, tenant=other_tenant).exists()


def test_non_admin_staff_cannot_grant_roles(client, tenant):
    for role in (Role.VERIFIER, Role.ESCROW_OFFICER, Role.FINANCE):
        someone = _staff(role)
        client.force_login(someone)
        client.post("/admin/accounts/tenantrole/add/", {"user": someone.pk, "role": Role.TENANT_ADMIN})
        assert not TenantRole.objects.filter(user=someone, role=Role.TENANT_ADMIN).exists(), role


def test_a_tenant_admin_cannot_change_the_account_of_a_person_of_another_exchange(client, tenant, other_tenant):
    """Found in review: a tenant admin could change the email / deactivate a person who is staff elsewhere
    (account takeover on the other exchange). Fixed in accounts/admin.py UserAdmin."""
    with tenant_context(other_tenant):
        b_boss = make_member(roles=(Role.TENANT_ADMIN,), org=False)
    TenantRoleFactory(user=b_boss, role=Role.BUYER)  # B's admin also signed in once on A: a buyer there
    client.force_login(_staff(Role.TENANT_ADMIN))
    client.post(f"/admin/accounts/user/{b_boss.pk}/change/",
                _user_form(b_boss, email="attacker@example.com", is_active=""))
    b_boss = User.objects.get(pk=b_boss.pk)
    assert b_boss.email != "attacker@example.com"
    assert b_boss.is_active


def test_an_organization_document_is_not_served_to_other_exchanges_staff(client, a_rows):
    org = a_rows["pending_org"]
    doc = org.documents.first()
    client.force_login(a_rows["b_admin"])
    url = f"/admin/accounts/organization/{org.pk}/documents/{doc.pk}/"
    assert client.get(url, HTTP_HOST="beta.test").status_code == 404
    verifier = _staff(Role.VERIFIER)
    client.force_login(verifier)
    assert client.get(url).status_code == 200
    client.force_login(make_member(roles=(Role.SELLER,), org=OrganizationFactory()))
    assert client.get(url).status_code == 302  # to the admin login


def test_no_admin_form_lets_staff_move_a_row_to_another_exchange(client, a_rows, tenant):
    """No change or add form of a tenant-owned model offers its `tenant` field (that would be a cross-tenant
    write). Found in review on Payment, Disbursement, Dispute and Notification; fixed in TenantModelAdmin."""
    client.force_login(_staff(Role.TENANT_ADMIN, Role.VERIFIER, Role.ESCROW_OFFICER, Role.FINANCE))
    offered = []
    for model, _model_admin in tenant_admins():
        opts = model._meta
        pk = model.objects.unscoped().filter(tenant=tenant).values_list("pk", flat=True).first()
        urls = [f"/admin/{opts.app_label}/{opts.model_name}/add/"]
        if pk is not None:
            urls.append(f"/admin/{opts.app_label}/{opts.model_name}/{pk}/change/")
        for url in urls:
            response = client.get(url)
            if response.status_code == 200 and 'name="tenant"' in response.content.decode():
                offered.append(url)
    assert offered == []


def test_a_tenant_admin_cannot_rewrite_notifications_into_another_exchange(client, a_rows, tenant, other_tenant):
    """Found in review: NotificationAdmin offered tenant, user, url; now read-only (marketplace/admin.py)."""
    note = Notification.objects.filter(tenant=tenant).first()
    client.force_login(_staff(Role.TENANT_ADMIN))
    response = client.get(f"/admin/marketplace/notification/{note.pk}/change/")
    html = response.content.decode()
    assert 'name="tenant"' not in html
    assert 'name="url"' not in html
    assert 'name="user"' not in html


def test_a_verifier_cannot_change_where_an_organization_is_paid(client, a_rows):
    """Found in review: a verifier could edit payout accounts; now read-only in accounts/admin.py."""
    org = a_rows["funded"].seller_org
    client.force_login(_staff(Role.VERIFIER))
    html = client.get(f"/admin/accounts/organization/{org.pk}/change/").content.decode()
    assert 'name="payout_bank_account"' not in html
    assert 'name="stripe_account_id"' not in html


def test_a_tenant_admin_can_open_a_role_row(client, tenant):
    """Found in review: this page was a 500 (KeyError in TenantRoleForm); fixed in accounts/admin.py."""
    boss = _staff(Role.TENANT_ADMIN)
    client.force_login(boss)
    role = TenantRole.objects.filter(user=boss).first()
    assert client.get(f"/admin/accounts/tenantrole/{role.pk}/change/").status_code == 200


def test_saving_an_admin_form_never_moves_a_row_to_another_exchange(client, a_rows, tenant, other_tenant):
    """Found in review: finance could POST tenant=<B> and move a payment to exchange B; TenantModelAdmin now
    excludes `tenant` from every form (marketplace/admin_site.py)."""
    client.force_login(_staff(Role.FINANCE))
    payment = a_rows["bank"]
    client.post(f"/admin/escrow/payment/{payment.pk}/change/", {"tenant": other_tenant.pk})
    assert Payment.objects.unscoped().get(pk=payment.pk).tenant_id == tenant.pk


def test_superuser_acts_on_another_exchanges_row_from_any_host(client, tenant, other_tenant):
    # found in review: verifying B's organization from A's host was a 500 (the service looked in A)
    from accounts.models import Organization
    from core.tenancy import tenant_context
    from tests.factories import OrganizationFactory

    with tenant_context(other_tenant):
        org_b = OrganizationFactory(verification_status=Organization.Verification.PENDING)
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get(f"/admin/accounts/organization/{org_b.pk}/change/").status_code == 200
    response = client.post(f"/admin/accounts/organization/{org_b.pk}/verify/")
    assert response.status_code == 302
    with tenant_context(other_tenant):
        assert Organization.objects.get(pk=org_b.pk).is_verified


def test_an_exchange_admin_edits_only_their_own_exchange_and_not_its_host_names(client, tenant, other_tenant):
    boss = _staff(Role.TENANT_ADMIN)
    client.force_login(boss)
    listing = client.get("/admin/marketplace/tenant/").content.decode()
    assert tenant.name in listing
    assert other_tenant.name not in listing
    assert client.get(f"/admin/marketplace/tenant/{other_tenant.pk}/change/").status_code in (302, 404)
    page = client.get(f"/admin/marketplace/tenant/{tenant.pk}/change/")
    assert page.status_code == 200
    assert 'name="hosts"' not in page.content.decode()  # platform-only fields are read-only
