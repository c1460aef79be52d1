"""The return panel in a real Chromium (issue 11): the assignment back, who signed, its signing deadline;
desktop English and phone Chinese, screenshots under test-results/."""

from escrow import services as s
from tests.e2e.conftest import new_page
from tests.factories import escrow_staff
from tests.transfers.test_transfer_back import recorded_order
from transfers.selectors import return_sign_deadline


def test_return_panel_shows_the_signing_deadline(browser, e2e_tenant, url, shot, login):
    order, seller, buyer, officer = recorded_order()
    s.order_refund(order=order, actor=escrow_staff(), reason="The patent is licensed to a third party.")
    order.refresh_from_db()
    due = return_sign_deadline(order).due
    desktop = new_page(browser)
    login(desktop, buyer.email)
    desktop.goto(url(order.get_absolute_url()))
    panel = desktop.locator("#transfer-back")
    panel.scroll_into_view_if_needed()
    assert "Both parties sign the assignment back by" in panel.inner_text()
    shot(desktop, "desktop-en-return-panel")
    type(seller).objects.filter(pk=seller.pk).update(language="zh-hans")
    phone = new_page(browser, phone=True)
    login(phone, seller.email)
    phone.goto(url(order.get_absolute_url()))
    panel = phone.locator("#transfer-back")
    panel.scroll_into_view_if_needed()
    text = panel.inner_text()
    assert "双方须在" in text
    assert "assignment back" not in text
    assert str(due.year) in text
    panel.screenshot(path=str(shot(phone, "phone-zh-page")).replace("page.png", "panel.png"))
    desktop.context.close()
    phone.context.close()
