"""Every page of issue 17 on a 390 px phone, in Chinese and in English: no sideways scrolling, no text
of the other language in the chrome, search chips / did-you-mean / newest-when-empty, the seller's
proceeds, money above the event log. Screenshots under test-results/test_phone_pages_*/."""

import pytest

from accounts.models import Role
from escrow.models import OrderState
from listings.search import vocabulary_refresh
from tests.e2e.conftest import PHONE
from tests.factories import (
    OrganizationFactory,
    draft_listing,
    make_member,
    order_in_state,
    published_listing,
    register_record,
)


def phone(browser, language):
    context = browser.new_context(**{**PHONE, "locale": "zh-CN" if language == "zh-hans" else "en-US"})
    context.set_default_timeout(20000)
    return context.new_page()


def no_sideways_scroll(page):
    page.wait_for_load_state()  # a click may still be navigating: measure the page that arrives
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_phone_pages(browser, e2e_tenant, url, shot, login, language):
    # given an exchange with listings, a seller with a draft, and an order paid into escrow
    org = OrganizationFactory(legal_name="清源大学技术转移中心", legal_name_en="Qingyuan University TTO")
    seller = make_member(roles=(Role.SELLER,), org=org, email=f"seller-{language}@screens.test", language=language)
    for i, title in enumerate(["一种基于深度学习的锂电池健康状态估计方法", "一种钠离子电池正极材料及其制备方法",
                               "Wireless charging coil alignment device"]):
        published_listing(org=org, title=title, featured=i == 0, industry_tags=["新能源"], records=[register_record(
            owner_name=org.legal_name, title=title, classes=["H01M 10/48"])])
    draft_listing(seller=seller, org=org, title="一种便携式电动工具电池包散热结构（超长标题用于检查手机上的换行效果）")
    order, _, buyer = order_in_state(OrderState.FUNDED)
    buyer.language = language
    buyer.save(update_fields=["language"])
    vocabulary_refresh(e2e_tenant)
    zh = language == "zh-hans"

    # a visitor: home, search with filters, a misspelt search, a listing
    page = phone(browser, language)
    page.goto(url("/"))
    no_sideways_scroll(page)
    placeholder = page.get_attribute("#hero-q", "placeholder")
    assert ("例如" in placeholder) if zh else ("e.g." in placeholder and "锂" not in placeholder)
    shot(page, f"{language}-home")
    assert ("发" in page.inner_text("main")) == zh
    page.goto(url("/search/?q=电池&kind=invention"))
    no_sideways_scroll(page)
    assert page.locator(".chips .chip").count() >= 2
    shot(page, f"{language}-search-chips")
    page.goto(url("/search/?q=锂电地"))
    assert page.locator(".did-you-mean a").count() == 1
    assert page.locator(".newest-instead .lcard").count() >= 1
    no_sideways_scroll(page)
    shot(page, f"{language}-search-did-you-mean")
    page.goto(url("/search/?q=ZL 2012 1 0379921.5"))
    assert "0379921.4" in page.inner_text(".callout-warn")
    shot(page, f"{language}-search-check-character")
    page.goto(url("/search/?q=锂电池"))
    page.click(".result-title a")
    no_sideways_scroll(page)
    assert ("New energy" in page.inner_text("main")) != zh
    shot(page, f"{language}-listing")
    page.context.close()

    # the seller: my listings, the draft with what they will receive, the wizard
    page = phone(browser, language)
    login(page, seller.email)
    page.goto(url("/sell/listings/"))
    no_sideways_scroll(page)
    shot(page, f"{language}-my-listings")
    draft_link = page.locator("table.my-listings a", has_text="便携式")
    draft_link.click()
    no_sideways_scroll(page)
    assert page.locator("#proceeds").count() == 1
    shot(page, f"{language}-draft-proceeds")
    page.goto(url("/sell/"))
    no_sideways_scroll(page)
    shot(page, f"{language}-wizard")
    page.context.close()

    # the buyer: the order page (money above the event log), the dispute form open
    page = phone(browser, language)
    login(page, buyer.email)
    page.goto(url(f"/orders/{order.reference}/"))
    no_sideways_scroll(page)
    money_y = page.locator("#money-h").bounding_box()["y"]
    log_y = page.locator("#log-h").bounding_box()["y"]
    assert money_y < log_y
    shot(page, f"{language}-order")
    page.locator("summary", has_text="争议" if zh else "dispute").click()
    no_sideways_scroll(page)
    shot(page, f"{language}-dispute-form")
    page.context.close()
