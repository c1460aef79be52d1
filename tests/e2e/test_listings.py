"""A seller lists a patent by typing its number, staff approve it in the admin, a visitor finds it by
keyword and by number. Screenshots (desktop and phone) in test-results/."""

import re

from playwright.sync_api import expect

from accounts.models import Role
from listings.models import Listing
from tests.e2e.conftest import new_page
from tests.factories import OrganizationFactory, make_member, register_record

NUMBER = "201210379921.4"  # a real CN invention application number (check character 4)
TITLE = "一种基于深度学习的锂电池健康状态估计方法"


def test_seller_lists_staff_approve_visitor_finds(e2e_tenant, page, phone_page, browser, url, shot, login):
    org = OrganizationFactory(legal_name="清源大学技术转移中心", legal_name_en="Qingyuan University TTO")
    seller = make_member(roles=(Role.SELLER,), org=org, email="seller@e2e.test", language="en")
    staff = make_member(roles=(Role.VERIFIER,), org=False, email="verifier@e2e.test", language="en")
    register_record(owner_name=org.legal_name, number=NUMBER, title=TITLE, publication_number="CN103000000B",
                    abstract="本发明公开了一种基于深度学习的锂电池健康状态估计方法，精度高。", classes=["H01M 10/48"])

    # The seller types the number the way it is printed on the certificate.
    login(page, seller.email)
    page.goto(url("/sell/"))
    page.fill("#id_number", "ZL 2012 1 0379921.5")  # wrong check character first
    page.click("#lookup-btn")
    expect(page.locator(".lookup-error")).to_contain_text("should be 4")
    page.fill("#id_number", "ZL 2012 1 0379921.4")
    page.click("#lookup-btn")
    expect(page.locator("#package .pkg-item")).to_have_count(1)
    expect(page.locator("#package")).to_contain_text(TITLE)
    expect(page.locator("#id_title")).to_have_value(TITLE)
    page.fill("#id_price", "560,000")
    page.fill("#id_description", "已在中试线验证，可整体转让。")
    page.fill("#id_industry_tags", "新能源, 电池")
    shot(page, "1-wizard-desktop")
    page.click("#save-btn")
    expect(page.locator("h1")).to_contain_text(TITLE)
    shot(page, "2-preview-desktop")
    page.click("#submit-btn")
    expect(page.locator(".page-head .status")).to_contain_text("Submitted")
    listing = Listing.objects.get(seller_org=org)
    assert listing.price_minor == 56_000_000

    # Staff verify it in the admin: claims next to the register, checklist confirmed, approve.
    staff_page = new_page(browser)
    login(staff_page, staff.email)
    staff_page.goto(url("/admin/listings/listingtoverify/"))
    staff_page.get_by_role("link", name=TITLE).click()
    expect(staff_page.locator("#verification")).to_contain_text(NUMBER)
    for box in staff_page.locator("#decision-form input[type=checkbox]").all():
        box.check()
    shot(staff_page, "3-admin-verification")
    staff_page.click("button[value=approve]")
    expect(staff_page.locator(".messagelist")).to_contain_text("approved")
    staff_page.context.close()
    listing.refresh_from_db()
    assert listing.state == Listing.State.PUBLISHED

    # A visitor finds it by keyword and by number, on a desktop and on a phone.
    visitor = new_page(browser)
    visitor.goto(url("/"))
    visitor.fill("#hero-q", "锂电池")
    visitor.press("#hero-q", "Enter")
    expect(visitor.locator(".result-title")).to_contain_text([TITLE])
    shot(visitor, "4-search-keyword-desktop")
    visitor.goto(url("/search/?q=" + "ZL2012 1 0379921.4"))
    expect(visitor.locator(".result-title")).to_have_count(1)
    visitor.locator(".result-title a").click()
    expect(visitor.locator("h1")).to_contain_text(TITLE)
    expect(visitor.locator(f'a[href="/orders/new/{listing.pk}/"]')).to_be_visible()
    shot(visitor, "5-listing-desktop")
    visitor.context.close()

    phone_page.goto(url("/"))
    shot(phone_page, "6-home-phone")
    phone_page.goto(url("/search/?q=201210379921"))
    expect(phone_page.locator(".result-title")).to_have_count(1)
    shot(phone_page, "7-search-number-phone")
    phone_page.locator(".result-title a").click()
    expect(phone_page.locator("h1")).to_contain_text(re.compile("锂电池"))
    shot(phone_page, "8-listing-phone")
