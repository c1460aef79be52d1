"""A seller lists a software copyright (no public register: entered from the certificate, scan
attached), the verifier approves it, a buyer finds it by its registration number and by an English
word on the Chinese exchange. Screenshots (desktop and phone, en and zh) in test-results/."""

from playwright.sync_api import expect

from accounts.models import Role
from listings.models import Listing
from rights.models import RegisterRecord
from tests.e2e.conftest import new_page
from tests.factories import OrganizationFactory, make_member

NUMBER = "2021SR0456789"
TITLE = "储能电池管理系统软件"
TITLE_EN = "Energy storage battery management software"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_seller_lists_software_copyright_verifier_approves_buyer_finds(e2e_tenant, page, phone_page, browser, url,
                                                                       shot, login):
    org = OrganizationFactory(legal_name="北辰软件有限公司", legal_name_en="Beichen Software Co., Ltd.")
    seller = make_member(roles=(Role.SELLER,), org=org, email="cr-seller@e2e.test", language="en")
    staff = make_member(roles=(Role.VERIFIER,), org=False, email="cr-verifier@e2e.test", language="en")

    login(page, seller.email)
    page.goto(url("/sell/"))
    page.click("#by-hand-entry")
    page.select_option("#id_kind", "software_copyright")
    page.fill("#id_number", "2021SR45")  # too short first: the form says what a number looks like
    page.fill("#id_title", TITLE)
    page.fill("#id_completion_date", "2020-11-02")
    page.click("#by-hand-save")
    expect(page.locator(".errorlist")).to_contain_text("2020SR0123456")
    page.fill("#id_number", NUMBER)
    page.fill("#id_certificate_number", "软著登字第7654321号")
    page.fill("#id_title_en", TITLE_EN)
    page.fill("#id_version", "V3.1")
    page.fill("#id_publication_date", "2021-01-15")
    shot(page, "cr-1-by-hand-desktop-en")
    page.click("#by-hand-save")
    expect(page.locator("#package .pkg-item")).to_have_count(1)
    record = RegisterRecord.objects.get(number=NUMBER)
    page.set_input_files(f"#cert-{record.pk}", files=[{"name": "certificate.pdf", "mimeType": "application/pdf",
                                                       "buffer": PDF}])
    page.fill("#id_price", "380,000")
    shot(page, "cr-2-wizard-desktop-en")
    page.click("#save-btn")
    expect(page.locator("h1")).to_contain_text(TITLE)
    page.click("#submit-btn")
    expect(page.locator(".page-head .status")).to_contain_text("Submitted")
    listing = Listing.objects.get(seller_org=org)
    assert listing.rights.get().certificate

    staff_page = new_page(browser)
    login(staff_page, staff.email)
    staff_page.goto(url("/admin/listings/listingtoverify/"))
    staff_page.get_by_role("link", name=TITLE).click()
    expect(staff_page.locator("#verification")).to_contain_text(NUMBER)
    for box in staff_page.locator("#decision-form input[type=checkbox]").all():
        box.check()
    shot(staff_page, "cr-3-admin-verification")
    staff_page.click("button[value=approve]")
    expect(staff_page.locator(".messagelist")).to_contain_text("approved")
    staff_page.context.close()
    listing.refresh_from_db()
    record.refresh_from_db()
    assert listing.state == Listing.State.PUBLISHED
    assert not record.awaiting_verification

    # A buyer finds it by its number and by an English word; the page shows the English title in English.
    buyer = new_page(browser)
    buyer.goto(url("/search/?q=" + NUMBER))
    expect(buyer.locator(".result-title")).to_have_count(1)
    buyer.goto(url("/search/?q=battery"))
    expect(buyer.locator(".result-title")).to_have_count(1)
    buyer.locator(".result-title a").click()
    expect(buyer.locator("body")).to_contain_text(NUMBER)
    shot(buyer, "cr-4-listing-desktop-default-language")
    buyer.context.close()

    phone_page.goto(url("/search/?q=" + "2021 SR 0456789"))
    expect(phone_page.locator(".result-title")).to_have_count(1)
    phone_page.locator(".result-title a").click()
    shot(phone_page, "cr-5-listing-phone")
