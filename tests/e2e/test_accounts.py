"""Journey: sign up, confirm the email, log in, switch language, see each exchange's own branding."""

import re

import pytest
from django.core import mail

from accounts.models import Role, User
from core.permissions import user_roles
from tests.factories import TenantFactory

PASSWORD = "Strong-pass-2026"


@pytest.fixture
def gba_tenant(e2e_tenant):
    return TenantFactory(slug="gba-e2e", name="大湾区知识产权交易中心", name_en="Greater Bay Area IP Exchange",
                         hosts=["gba.localhost"], logo="img/tenants/gba.svg", primary_color="#0f766e",
                         accent_color="#fbbf24", currency="HKD", languages=["en", "zh-hans"], default_language="en")


def _confirm_link(email):
    message = next(m for m in reversed(mail.outbox) if email in m.to)
    return re.search(r"https?://\S+/accounts/confirm-email/\S+", message.body).group(0)


def _open_menu(page):
    toggle = page.locator("button.nav-toggle")
    if toggle.is_visible():
        toggle.click()


def _switch_language(page, code):
    _open_menu(page)
    with page.expect_navigation():
        page.select_option("#lang-select", code)


def test_sign_up_confirm_log_in_and_switch_language(page, e2e_tenant, url, shot, login):
    # given a visitor on the exchange (desktop, English browser)
    page.goto(url("/accounts/signup/"))
    assert page.locator("html").get_attribute("lang") == "en"
    shot(page, "1-signup-en")
    # when they sign up
    page.fill("input[name=email]", "ada@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_load_state()
    # then they are asked to confirm their email
    assert "/accounts/confirm-email/" in page.url
    shot(page, "2-verification-sent-en")
    # and the email link confirms the address and logs them in
    page.goto(_confirm_link("ada@example.com"))
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_load_state()
    assert page.url.endswith("/account/")
    user = User.objects.get(email="ada@example.com")
    assert user_roles(user, e2e_tenant) == {Role.BUYER}
    shot(page, "3-dashboard-en")
    # they log out and back in
    page.locator("form[action='/accounts/logout/'] button").first.click()
    page.wait_for_load_state()
    login(page, "ada@example.com", PASSWORD)
    assert page.url.endswith("/account/")
    # switching to Chinese translates the page and is saved on the profile
    _switch_language(page, "zh-hans")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.locator("h1").first.inner_text() == "我的账户"
    user.refresh_from_db()
    assert user.language == "zh-hans"
    shot(page, "4-dashboard-zh")
    _switch_language(page, "en")
    assert page.locator("h1").first.inner_text() == "My account"


def test_phone_sign_in_pages_and_language_menu(phone_page, e2e_tenant, url, shot, login):
    page = phone_page
    page.goto(url("/accounts/login/"))
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.locator("h1").inner_text() == "登录"
    # nothing is wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "1-login-zh")
    _open_menu(page)
    shot(page, "2-menu-open-zh", full_page=False)
    with page.expect_navigation():
        page.select_option("#lang-select", "en")
    assert page.locator("h1").inner_text() == "Sign In"
    shot(page, "3-login-en")
    page.goto(url("/accounts/signup/"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "4-signup-en")


def _header_colour(page):
    return page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_each_exchange_shows_its_own_branding(request, viewport, e2e_tenant, gba_tenant, url, shot):
    page = request.getfixturevalue("page" if viewport == "desktop" else "phone_page")
    page.goto(url("/accounts/login/"))
    brand = page.locator(".site-header .brand")
    assert brand.locator(".brand-name").inner_text() in (e2e_tenant.name, e2e_tenant.name_en)
    assert brand.locator("img").get_attribute("src").endswith("img/tenants/ipex.svg")
    assert _header_colour(page) == "rgb(29, 78, 216)"
    shot(page, f"zgc-{viewport}")
    page.goto(url("/accounts/login/", host="gba.localhost"))
    name = brand.locator(".brand-name").inner_text()
    assert name in (gba_tenant.name, gba_tenant.name_en)
    assert e2e_tenant.name not in page.content()
    assert brand.locator("img").get_attribute("src").endswith("img/tenants/gba.svg")
    assert _header_colour(page) == "rgb(15, 118, 110)"
    shot(page, f"gba-{viewport}")
    _switch_language(page, "zh-hans" if page.locator("html").get_attribute("lang") == "en" else "en")
    assert brand.locator(".brand-name").inner_text() != name
    shot(page, f"gba-{viewport}-switched")
