"""Journey: escrow with a real Chromium and a real Celery worker — the buyer orders (contract
summary), the seller confirms on a phone, the buyer pays on the simulated provider's page, the
payment comes back through the signed webhook and the order shows the payment held; then the buyer
opens a dispute with evidence and the escrow officer refunds in the back-office. Screenshots of each
step, desktop and phone."""

import os

import pytest

from accounts.models import Role
from escrow.models import Disbursement, Order, OrderState
from listings.models import Listing
from tests.e2e.conftest import new_page
from tests.factories import OrganizationFactory, escrow_listing, make_member

pytestmark = pytest.mark.worker
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/3"


@pytest.fixture
def escrow_worker(monkeypatch, settings, tmp_path):
    """Outbox messages go to the real Redis (this session's own queue) and a real worker process runs them."""
    import marketplace.celery
    from tests.transfers import workers

    monkeypatch.setattr(workers, "REDIS_URL", REDIS_URL)
    if not workers.redis_up():
        pytest.skip(f"The escrow journey needs Redis at {REDIS_URL} for its worker.")
    monkeypatch.setattr(marketplace.celery, "app", workers.client_app("e2e-escrow", broker=REDIS_URL))
    worker = workers.Worker(tmp_path / "worker.log", settings.MEDIA_ROOT)
    yield worker
    worker.stop()




def _state(order):
    return Order.objects.get(pk=order.pk).state


def test_order_pay_dispute_refund(browser, e2e_tenant, url, shot, login, escrow_worker):
    from tests.transfers.workers import wait_until

    # given a seller's published listing and a buyer of another organization
    seller_org = OrganizationFactory(legal_name="清源大学技术转移中心", legal_name_en="Qingyuan University TTO")
    seller = make_member(roles=(Role.SELLER,), org=seller_org, full_name="陈静", email="seller@escrow-e2e.test",
                         language="zh-hans")
    buyer_org = OrganizationFactory(legal_name="北京星河智能科技有限公司")
    buyer = make_member(roles=(Role.BUYER,), org=buyer_org, full_name="Liu Yang", email="buyer@escrow-e2e.test",
                        language="en")
    staff = make_member(roles=(Role.ESCROW_OFFICER, Role.FINANCE), org=False, full_name="Zhang Wei",
                        email="escrow@escrow-e2e.test", language="en")
    listing = escrow_listing(seller_org=seller_org, created_by=seller, price_minor=12_800_000,
                             title="一种基于深度学习的锂电池健康状态估计方法")

    # when the buyer opens the order page of the listing: the contract summary
    buyer_page = new_page(browser)
    login(buyer_page, buyer.email)
    buyer_page.goto(url(f"/orders/new/{listing.pk}/"))
    assert "128,000.00" in buyer_page.content()
    assert "130,560.00" in buyer_page.content()  # price + 2% buyer fee
    shot(buyer_page, "1-contract-summary-desktop")
    buyer_page.check("#id_terms")
    buyer_page.locator("form.stack button[type=submit]").click()
    buyer_page.wait_for_load_state()
    order = Order.objects.get(listing=listing)
    assert order.get_absolute_url() in buyer_page.url
    assert Listing.objects.get(pk=listing.pk).state == Listing.State.RESERVED
    shot(buyer_page, "2-order-placed-desktop")

    # and the seller confirms on a phone
    seller_page = new_page(browser, phone=True)
    login(seller_page, seller.email)
    seller_page.goto(url(order.get_absolute_url()))
    shot(seller_page, "3-seller-confirms-phone")
    seller_page.locator(f"form[action$='/orders/{order.reference}/act/confirm/'] button").click()
    seller_page.wait_for_load_state()
    assert _state(order) == OrderState.SELLER_CONFIRMED

    # and the buyer pays on the simulated provider's page
    buyer_page.goto(url(order.get_absolute_url()))
    shot(buyer_page, "4-pay-now-desktop")
    buyer_page.locator("form.pay-form button[type=submit]").click()
    buyer_page.wait_for_load_state()
    assert "/pay/simulated/" in buyer_page.url
    shot(buyer_page, "5-simulated-provider-desktop")
    buyer_page.locator("button[name=decision][value=approve]").click()
    buyer_page.wait_for_load_state()

    # then the worker delivers the signed webhook and the order shows the payment held
    wait_until(lambda: _state(order) == OrderState.FUNDED, timeout=30, what="order funded by the webhook")
    buyer_page.wait_for_selector(".status-lg:has-text('Payment held')", timeout=20000)
    shot(buyer_page, "6-payment-held-desktop")
    seller_page.goto(url(order.get_absolute_url()))
    shot(seller_page, "7-payment-held-phone")

    # when the buyer opens a dispute with evidence
    buyer_page.locator("details.secondary-action summary", has_text="dispute").click()
    buyer_page.fill("#id_dispute_reason", "The patent's annual fee appears unpaid since March; the seller does not answer.")
    buyer_page.set_input_files("#id_files", files=[{"name": "fee-notice.pdf", "mimeType": "application/pdf",
                                                    "buffer": b"%PDF-1.4\n% fee notice\n"}])
    buyer_page.locator("form[action$='/act/dispute/'] button[type=submit]").click()
    buyer_page.wait_for_load_state()
    assert _state(order) == OrderState.DISPUTED
    shot(buyer_page, "8-disputed-desktop")

    # and the escrow officer resolves it in the back-office by refunding the buyer
    staff_page = new_page(browser)
    login(staff_page, staff.email)
    staff_page.goto(url(f"/admin/escrow/order/{order.pk}/change/"))
    shot(staff_page, "9-admin-order-desktop")
    staff_page.goto(url(f"/admin/escrow/order/{order.pk}/resolve/refund/"))
    staff_page.fill("textarea[name=reason]", "Register shows the patent lapsed: the trade cannot complete.")
    staff_page.locator("input[type=submit]").click()
    staff_page.wait_for_load_state()
    assert _state(order) == OrderState.DISPUTED  # a summary first, then the second confirmation
    shot(staff_page, "9b-admin-refund-summary")
    staff_page.locator("input[type=submit]").click()
    staff_page.wait_for_load_state()
    assert _state(order) == OrderState.REFUNDED

    # then the refund is sent through the simulated provider by the worker and both parties see it
    wait_until(lambda: Disbursement.objects.filter(order=order, kind="refund", state="paid").exists(), timeout=30,
               what="refund paid by the worker")
    assert Listing.objects.get(pk=listing.pk).state == Listing.State.PUBLISHED
    buyer_page.goto(url(order.get_absolute_url()))
    assert "130,560.00" in buyer_page.locator("dl.statement").inner_text()
    shot(buyer_page, "10-refunded-desktop")
    seller_page.goto(url(order.get_absolute_url()))
    shot(seller_page, "11-refunded-phone")
    seller_page.goto(url("/orders/"))
    shot(seller_page, "12-dashboard-phone")
    buyer_page.goto(url("/orders/"))
    shot(buyer_page, "13-dashboard-desktop")
