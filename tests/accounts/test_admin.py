"""Role checks in the back-office: each exchange's staff see only their exchange; superusers see all."""

import pytest

from accounts.models import Organization, Role, TenantRole
from core.models import AuditEvent, Notification
from core.tenancy import tenant_context
from tests.factories import OrganizationFactory, UserFactory, make_member

ORG_LIST = "/admin/accounts/organization/"


@pytest.fixture
def pending(tenant):
    owner = make_member(org=False)
    org = OrganizationFactory(legal_name="Alpha Pending Co", verification_status="pending")
    from accounts.models import Membership

    Membership.objects.create(user=owner, organization=org, is_admin=True, is_default=True)
    return org


@pytest.fixture
def beta_org(other_tenant):
    with tenant_context(other_tenant):
        return OrganizationFactory(legal_name="Beta Secret Co", verification_status="pending")


def staff(*roles):
    return make_member(roles=roles, org=False)


def test_verifier_verifies_from_the_change_page(client, pending):
    verifier = staff(Role.VERIFIER)
    client.force_login(verifier)
    page = client.get(f"{ORG_LIST}{pending.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Verify" in page.content.decode()
    response = client.post(f"{ORG_LIST}{pending.pk}/verify/")
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.verification_status == "verified"
    assert pending.verified_by == verifier
    assert Notification.objects.filter(kind="organization.verified").count() == 1


def test_reject_needs_a_reason(client, pending):
    client.force_login(staff(Role.VERIFIER))
    response = client.post(f"{ORG_LIST}{pending.pk}/reject/", {"note": "  "})
    assert response.status_code == 400
    pending.refresh_from_db()
    assert pending.verification_status == "pending"
    response = client.post(f"{ORG_LIST}{pending.pk}/reject/", {"note": "Licence expired"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.verification_status, pending.verification_note) == ("rejected", "Licence expired")


def test_finance_sees_the_queue_but_cannot_verify(client, pending):
    client.force_login(staff(Role.FINANCE))
    assert client.get(ORG_LIST).status_code == 200
    response = client.post(f"{ORG_LIST}{pending.pk}/verify/", follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Only the exchange&#x27;s verifiers may verify organizations." in response.content.decode()
    pending.refresh_from_db()
    assert pending.verification_status == "pending"
    assert client.post(f"{ORG_LIST}{pending.pk}/change/", {"legal_name": "Hacked"}).status_code == 403


def test_buyers_do_not_reach_the_admin(client, tenant):
    client.force_login(make_member())
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def test_queue_filters_by_status_and_lists_only_this_exchange(client, pending, beta_org, django_assert_max_num_queries):
    OrganizationFactory(legal_name="Alpha Verified Co")
    client.force_login(staff(Role.VERIFIER))
    with django_assert_max_num_queries(12):
        page = client.get(ORG_LIST, {"verification_status__exact": "pending"}).content.decode()
    assert "Alpha Pending Co" in page
    assert "Alpha Verified Co" not in page
    assert "Beta Secret Co" not in page


def test_staff_of_b_cannot_log_into_a_nor_see_its_rows(client, pending, beta_org, other_tenant):
    with tenant_context(other_tenant):
        beta_staff = staff(Role.TENANT_ADMIN)
    # not admitted on A's host
    response = client.post("/admin/login/", {"username": beta_staff.email, "password": "test-pass-123"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    # on B's own host, A's organization by id is a 404
    client.force_login(beta_staff)
    assert client.get("/admin/", HTTP_HOST="beta.test").status_code == 200
    assert client.get(f"{ORG_LIST}{pending.pk}/change/", HTTP_HOST="beta.test").status_code == 404
    assert client.post(f"{ORG_LIST}{pending.pk}/verify/", HTTP_HOST="beta.test").status_code == 404
    page = client.get(ORG_LIST, HTTP_HOST="beta.test").content.decode()
    assert "Beta Secret Co" in page
    assert "Alpha Pending Co" not in page
    # and on A's host they are not staff at all
    assert client.get(f"{ORG_LIST}{pending.pk}/change/").status_code == 302


def test_superuser_sees_every_exchange(client, pending, beta_org):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    page = client.get(ORG_LIST).content.decode()
    assert "Alpha Pending Co" in page
    assert "Beta Secret Co" in page
    assert client.get(f"{ORG_LIST}{beta_org.pk}/change/").status_code == 200


def test_audit_log_and_notifications_admin_show_only_this_exchange(client, tenant, other_tenant):
    mine = UserFactory(email="mine@example.com")
    AuditEvent.objects.create(actor_label="alpha-actor", action="alpha.act", object_type="x", object_id="1")
    Notification.objects.create(user=mine, kind="k", subject="alpha-subject")
    with tenant_context(other_tenant):
        AuditEvent.objects.create(actor_label="beta-actor", action="beta.act", object_type="x", object_id="2")
        Notification.objects.create(user=mine, kind="k", subject="beta-subject")
    client.force_login(staff(Role.TENANT_ADMIN))
    page = client.get("/admin/marketplace/auditevent/").content.decode()
    assert "alpha.act" in page
    assert "beta.act" not in page
    page = client.get("/admin/marketplace/notification/").content.decode()
    assert "alpha-subject" in page
    assert "beta-subject" not in page


def test_tenant_admin_grants_and_revokes_staff_roles(client, tenant, other_tenant):
    admin_user = staff(Role.TENANT_ADMIN)
    member = make_member()
    with tenant_context(other_tenant):
        outsider = make_member()
    client.force_login(admin_user)
    page = client.get("/admin/accounts/tenantrole/add/").content.decode()
    assert member.email in page
    assert outsider.email not in page
    response = client.post("/admin/accounts/tenantrole/add/", {"user": member.pk, "role": Role.VERIFIER})
    assert response.status_code == 302
    role = TenantRole.objects.get(user=member, role=Role.VERIFIER)
    assert AuditEvent.objects.filter(action="role.grant", object_id=str(member.pk)).exists()
    # granting to someone of another exchange is refused by the form, not a 500
    response = client.post("/admin/accounts/tenantrole/add/", {"user": outsider.pk, "role": Role.VERIFIER})
    assert response.status_code == 200
    assert not TenantRole.objects.filter(user=outsider, role=Role.VERIFIER).exists()
    response = client.post(f"/admin/accounts/tenantrole/{role.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TenantRole.objects.filter(pk=role.pk).exists()


def test_verifier_cannot_grant_roles(client, tenant):
    client.force_login(staff(Role.VERIFIER))
    assert client.get("/admin/accounts/tenantrole/add/").status_code == 403


def test_users_admin_lists_only_people_of_this_exchange(client, tenant, other_tenant):
    member = make_member()
    with tenant_context(other_tenant):
        outsider = make_member()
    client.force_login(staff(Role.TENANT_ADMIN))
    page = client.get("/admin/accounts/user/").content.decode()
    assert member.email in page
    assert outsider.email not in page
    assert client.get(f"/admin/accounts/user/{outsider.pk}/change/").status_code == 404
    assert client.get(f"/admin/accounts/user/{member.pk}/change/").status_code == 200


def test_unknown_status_filter_is_not_a_500(client, pending):
    client.force_login(staff(Role.VERIFIER))
    response = client.get(ORG_LIST, {"verification_status__exact": "bogus"})
    assert response.status_code == 200
    assert Organization.objects.count() == 1


def test_no_form_offers_the_exchange_and_payout_details_are_read_only(client, pending):
    client.force_login(staff(Role.TENANT_ADMIN))
    html = client.get(f"{ORG_LIST}{pending.pk}/change/").content.decode()
    assert 'name="tenant"' not in html
    assert 'name="payout_bank_account"' not in html
    role = TenantRole.objects.first()
    response = client.get(f"/admin/accounts/tenantrole/{role.pk}/change/")
    assert response.status_code == 200
    assert 'name="tenant"' not in client.get("/admin/accounts/tenantrole/add/").content.decode()


def test_notifications_are_read_only_in_the_admin(client, tenant):
    note = Notification.objects.create(user=make_member(), kind="k", subject="hello", url="/x/")
    client.force_login(staff(Role.TENANT_ADMIN))
    html = client.get(f"/admin/marketplace/notification/{note.pk}/change/").content.decode()
    assert 'name="url"' not in html
    assert 'name="user"' not in html


def test_tenant_admin_cannot_change_accounts_of_people_of_other_exchanges(client, tenant, other_tenant):
    with tenant_context(other_tenant):
        shared = make_member(org=False)
    TenantRole.objects.create(user=shared, role=Role.BUYER)
    local = make_member(org=False)
    client.force_login(staff(Role.TENANT_ADMIN))
    form = {"email": "attacker@example.com", "full_name": "x", "phone": "", "language": "", "is_active": "",
            "tenant_roles-TOTAL_FORMS": "0", "tenant_roles-INITIAL_FORMS": "0"}
    assert client.post(f"/admin/accounts/user/{shared.pk}/change/", form).status_code == 403
    client.post(f"/admin/accounts/user/{local.pk}/change/", form)
    local.refresh_from_db()
    shared.refresh_from_db()
    assert shared.is_active
    assert local.email != "attacker@example.com"  # the login is never edited by an exchange
    assert not local.is_active  # but an exchange may deactivate its own people
