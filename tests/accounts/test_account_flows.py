import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts.models import Role, TenantRole, User
from core.permissions import user_roles
from tests.factories import PASSWORD, UserFactory


def _link(message):
    return re.search(r"http://testserver(/\S+)", message.body).group(1)


def test_sign_up_confirm_and_log_in(client, tenant):
    # given a visitor on the exchange
    # when they sign up
    response = client.post("/accounts/signup/", {"email": "New@Example.com", "password1": "a-Long-pass-2026",
                                                 "password2": "a-Long-pass-2026"})
    # then they are asked to confirm their email, which they receive with a link
    assert response.status_code == 302
    assert response.url == "/accounts/confirm-email/"
    user = User.objects.get(email="new@example.com")
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    assert tenant.name_en in mail.outbox[0].subject or tenant.name in mail.outbox[0].subject
    # they are a buyer of this exchange only
    assert user_roles(user, tenant) == {Role.BUYER}
    # and cannot log in before confirming
    client.post("/accounts/logout/")
    response = client.post("/accounts/login/", {"login": "new@example.com", "password": "a-Long-pass-2026"})
    assert response.status_code == 302
    assert response.url == "/accounts/confirm-email/"
    # when they open the link and confirm
    link = _link(mail.outbox[-1])
    assert client.get(link).status_code == 200
    response = client.post(link)
    # then the address is verified and they are logged in
    assert EmailAddress.objects.get(user=user).verified
    assert client.get("/account/").status_code == 200


def test_sign_up_remembers_the_language(client, tenant):
    client.cookies["django_language"] = "en"
    client.post("/accounts/signup/", {"email": "lang@example.com", "password1": "a-Long-pass-2026",
                                      "password2": "a-Long-pass-2026"})
    assert User.objects.get(email="lang@example.com").language == "en"


def test_sign_up_errors_are_shown_not_raised(client, tenant):
    UserFactory(email="taken@example.com")
    response = client.post("/accounts/signup/", {"email": "taken@example.com", "password1": "x", "password2": "y"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


def test_log_in_and_out(client, tenant):
    user = UserFactory()
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == "/account/"
    assert client.get("/account/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/account/").status_code == 302


def test_wrong_password_is_a_form_error(client, tenant):
    user = UserFactory()
    response = client.post("/accounts/login/", {"login": user.email, "password": "nope"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


def test_password_reset_by_email_link(client, tenant):
    user = UserFactory(email="forgot@example.com")
    response = client.post("/accounts/password/reset/", {"email": "forgot@example.com"})
    assert response.status_code == 302
    link = _link(mail.outbox[-1])
    response = client.get(link)  # allauth moves the key into the session and redirects
    assert response.status_code == 302
    form_url = response.url
    response = client.post(form_url, {"password1": "brand-New-pass-77", "password2": "brand-New-pass-77"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("brand-New-pass-77")


def test_password_change(client, tenant):
    user = UserFactory()
    client.force_login(user)
    response = client.post("/accounts/password/change/", {"oldpassword": PASSWORD, "password1": "another-Pass-55",
                                                          "password2": "another-Pass-55"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-Pass-55")


def test_profile_update_saves_name_phone_and_language(client, tenant):
    user = UserFactory(language="en")
    client.force_login(user)
    response = client.post("/account/profile/", {"full_name": "张三 Zhang San", "phone": "+86 138 0000 0000",
                                                 "language": "zh-hans"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.full_name, user.phone, user.language) == ("张三 Zhang San", "+86 138 0000 0000", "zh-hans")
    assert "个人资料" in client.get("/account/profile/").content.decode()


def test_dashboard_shows_roles_organizations_and_why_not_selling(client, tenant):
    from tests.factories import OrganizationFactory, make_member

    org = OrganizationFactory(legal_name="Pending Labs", verification_status="pending")
    user = make_member(roles=[Role.BUYER, Role.SELLER], org=org)
    client.force_login(user)
    page = client.get("/account/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Pending Labs" in page
    assert "awaiting verification" in page
    assert "Seller" in page
    assert "Buyer" in page
    for link in ("/search/", "/sell/", "/orders/"):
        assert f'href="{link}"' in page


def test_account_pages_need_login(client, tenant):
    for path in ("/account/", "/account/profile/", "/account/organizations/", "/account/organizations/new/"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/accounts/login/" in response.url


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_allauth_pages_use_the_exchange_layout(client, tenant, path):
    page = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert tenant.name_en in page
    assert 'class="site-header"' in page
    assert 'class="auth-card card"' in page


def test_signup_grants_no_role_in_other_exchanges(client, tenant, other_tenant):
    client.post("/accounts/signup/", {"email": "only@example.com", "password1": "a-Long-pass-2026",
                                      "password2": "a-Long-pass-2026"})
    user = User.objects.get(email="only@example.com")
    assert list(TenantRole.objects.unscoped().filter(user=user).values_list("tenant__slug", flat=True)) == ["alpha"]


def test_confirmation_email_is_in_the_visitors_language_and_names_the_exchange(client, tenant):
    client.post("/accounts/signup/", {"email": "zh@example.com", "password1": "a-Long-pass-2026",
                                      "password2": "a-Long-pass-2026"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    message = mail.outbox[-1]
    assert tenant.name in message.subject
    assert tenant.name in message.body
    assert "testserver" in message.body
    assert "确认" in message.body or "验证" in message.body


def test_person_of_another_exchange_becomes_a_buyer_here_when_logging_in(client, tenant, other_tenant):
    from core.tenancy import tenant_context
    from tests.factories import make_member

    with tenant_context(other_tenant):
        user = make_member(org=False)
    assert user_roles(user, tenant) == frozenset()
    client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    user.__dict__.pop("_roles_cache", None)
    assert user_roles(user, tenant) == {Role.BUYER}
