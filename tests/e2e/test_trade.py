"""Journey: the whole trade from listing to payout on the simulated providers, in a real Chromium,
with a real Celery worker (payment webhook, office poll, payout, emails): the buyer orders, the
seller confirms, the buyer pays on the simulated page, both parties sign the papers, the escrow
officer files, the worker brings the office's approval, the buyer confirms the certificate and the
seller is paid. A screenshot of each step (desktop; the seller signs on a phone), and at the key steps
the order page and both dashboards in English on a desktop and in Chinese on a phone."""

import re

import pytest

from accounts.models import Role, User
from escrow.models import Disbursement, Order, OrderState
from listings.models import Listing
from tests.e2e.conftest import new_page
from tests.factories import PASSWORD, OrganizationFactory, make_member, register_right
from tests.transfers.workers import REDIS_URL, Worker, client_app, redis_up, wait_until

pytestmark = pytest.mark.worker


@pytest.fixture
def worker_broker(monkeypatch, settings, tmp_path):
    """Queued work goes to the real Redis and a real worker runs it (same database, same media)."""
    import marketplace.celery

    if not redis_up():
        pytest.skip(f"The trade journey needs Redis at {REDIS_URL} for its worker.")
    app = client_app("e2e-client")
    monkeypatch.setattr(marketplace.celery, "app", app)
    worker = Worker(tmp_path / "worker.log", settings.MEDIA_ROOT)
    yield app
    worker.stop()




def _login(page, url, email):
    page.goto(url("/accounts/login/"))
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def _state(order):
    return Order.objects.get(pk=order.pk).state


def _sign_all(page, url, order, name, shot, prefix):
    page.goto(url(order.get_absolute_url()))
    page.locator(".tp-paper-actions a", has_text=re.compile("Read and sign|阅读并签署")).first.click()
    for n in range(3):
        page.wait_for_selector(".tp-sign-form")
        page.fill("input[name=typed_name]", name)
        page.check("#id_consent")
        if n == 0:
            shot(page, f"{prefix}-paper")
        page.locator(".tp-sign-form button[type=submit]").click()
        page.wait_for_load_state()
    assert order.get_absolute_url() in page.url


def _both_views(pages, user, path, shot, name):
    """The page as `user` sees it in English on a desktop and in Chinese on a phone (their saved
    language decides, as for every signed-in person)."""
    desktop, phone = pages
    for language, page, suffix in (("en", desktop, "en-desktop"), ("zh-hans", phone, "zh-phone")):
        User.objects.filter(pk=user.pk).update(language=language)
        page.goto("about:blank")  # a real load even when only the #fragment differs
        page.goto(path)
        page.wait_for_load_state()
        shot(page, f"{name}-{suffix}")
        # nothing sticks out sideways on the phone
        if page is phone:
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{name}: the phone page scrolls sideways by {overflow}px"


def test_whole_trade_from_listing_to_payout(browser, e2e_tenant, url, shot, worker_broker):
    # given a verified seller's published listing of a registered Chinese invention patent
    seller_org = OrganizationFactory(legal_name="清源大学技术转移中心", legal_name_en="Qingyuan University TTO",
                                     registration_number="12100000400000624D", address="北京市海淀区清华园1号")
    seller = make_member(roles=(Role.SELLER,), org=seller_org, full_name="陈静 Chen Jing", email="seller@e2e.test",
                         language="zh-hans")
    buyer_org = OrganizationFactory(legal_name="北京星河智能科技有限公司", legal_name_en="Starriver Intelligent Tech",
                                    registration_number="91110108MA01R2QF9G", address="北京市朝阳区望京街10号")
    buyer = make_member(roles=(Role.BUYER,), org=buyer_org, full_name="Liu Yang", email="buyer@e2e.test")
    officer = make_member(roles=(Role.ESCROW_OFFICER,), org=False, full_name="Zhang Wei", email="escrow@e2e.test")
    listing = Listing.objects.create(seller_org=seller_org, created_by=seller, title="一种低功耗图像压缩方法",
                                     description="Low-power image compression for edge cameras.",
                                     price_minor=12_000_000, currency="CNY", state=Listing.State.PUBLISHED)
    register_right(listing=listing, number="ZL202310001234.5", title="一种低功耗图像压缩方法")

    buyer_page = new_page(browser)
    seller_page = new_page(browser)
    phone = new_page(browser, phone=True)
    officer_page = new_page(browser)
    buyer_phone = new_page(browser, phone=True)
    buyer_views = (buyer_page, buyer_phone)
    seller_views = (seller_page, phone)

    # the buyer finds the listing and orders it
    _login(buyer_page, url, buyer.email)
    buyer_page.goto(url(f"/listings/{listing.pk}/"))
    shot(buyer_page, "01-listing")
    _login(buyer_phone, url, buyer.email)
    _both_views(buyer_views, buyer, url(f"/orders/new/{listing.pk}/"), shot, "k1-contract-summary")
    User.objects.filter(pk=buyer.pk).update(language="en")
    buyer_page.goto(url(f"/orders/new/{listing.pk}/"))
    buyer_page.check("input[name=terms]")
    shot(buyer_page, "02-order-new")
    buyer_page.locator("main form button[type=submit]").last.click()
    buyer_page.wait_for_load_state()
    order = Order.objects.get(listing=listing)
    assert order.state == OrderState.PLACED
    shot(buyer_page, "03-order-placed")

    # the seller confirms
    _login(seller_page, url, seller.email)
    seller_page.goto(url(order.get_absolute_url()))
    seller_page.locator("form[action$='/confirm/'] button").click()
    seller_page.wait_for_load_state()
    assert _state(order) == OrderState.SELLER_CONFIRMED
    shot(seller_page, "04-seller-confirmed")

    # the buyer pays on the simulated provider's page; the worker delivers the webhook
    buyer_page.goto(url(order.get_absolute_url()))
    buyer_page.locator("form.pay-form button[type=submit]").click()
    buyer_page.wait_for_load_state()
    shot(buyer_page, "05-simulated-payment")
    buyer_page.locator("button[value=approve]").click()
    buyer_page.wait_for_load_state()
    wait_until(lambda: _state(order) == OrderState.FUNDED, timeout=30, what="payment confirmed by the worker")
    # the worker prepares the papers as soon as the payment is held (nobody has to open the page)
    from transfers.models import TransferDocument

    wait_until(lambda: TransferDocument.objects.filter(order=order).count() == 3, timeout=30,
               what="papers prepared by the worker")
    _both_views(buyer_views, buyer, url(order.get_absolute_url()), shot, "k2-payment-held")
    User.objects.filter(pk=buyer.pk).update(language="en")
    buyer_page.goto(url(order.get_absolute_url()))
    buyer_page.wait_for_selector("#transfer .tp-paper")
    shot(buyer_page, "06-funded-papers-ready")

    # both parties sign every paper (the seller on a phone, in Chinese)
    _sign_all(buyer_page, url, order, "Liu Yang", shot, "07-buyer-signs")
    _login(phone, url, seller.email)
    _both_views(seller_views, seller, url(order.get_absolute_url()) + "#transfer", shot, "k3-signing-seller")
    User.objects.filter(pk=seller.pk).update(language="zh-hans")
    _sign_all(phone, url, order, "陈静", shot, "08-seller-signs-phone")
    phone.goto(url(order.get_absolute_url()) + "#transfer")
    shot(phone, "09-all-signed-phone")

    # the escrow officer files with the office
    _login(officer_page, url, officer.email)
    officer_page.goto(url(order.get_absolute_url()) + "#transfer")
    shot(officer_page, "10-officer-before-filing")
    officer_page.locator("#file-with-office").click()
    officer_page.wait_for_load_state()
    shot(officer_page, "10b-file-summary")
    officer_phone = new_page(browser, phone=True)  # the same summary on a phone, in Chinese
    _login(officer_phone, url, officer.email)
    _both_views((officer_page, officer_phone), officer, officer_page.url, shot, "k3b-file-summary")
    assert officer_phone.locator("#confirm-file form button").is_visible()
    User.objects.filter(pk=officer.pk).update(language="en")
    officer_page.goto(url(f"/transfers/orders/{order.pk}/file/"))
    assert _state(order) == OrderState.FUNDED  # a summary first
    officer_page.locator("#confirm-file form button").click()
    officer_page.wait_for_load_state()
    assert _state(order) == OrderState.TRANSFER_FILED
    shot(officer_page, "11-filed")

    # the worker polls the office, which approves
    worker_broker.send_task("transfers.tasks.poll_offices")
    wait_until(lambda: _state(order) == OrderState.TRANSFER_APPROVED, timeout=30, what="office approval")
    _both_views(buyer_views, buyer, url(order.get_absolute_url()), shot, "k4-approved-confirm-certificate")
    assert buyer_phone.locator("a[href$='/confirm-release/']").is_visible()
    User.objects.filter(pk=buyer.pk).update(language="en")
    buyer_page.goto(url(order.get_absolute_url()))
    shot(buyer_page, "12-approved-buyer")

    # the buyer confirms receipt of the certificate and the notice; the seller is paid
    # first a summary: amount, who, which account, cannot be undone; then the explicit confirmation
    buyer_page.locator("a[href$='/confirm-release/']").click()
    buyer_page.wait_for_load_state()
    shot(buyer_page, "12b-confirm-release-summary")
    _both_views(buyer_views, buyer, buyer_page.url, shot, "k4b-confirm-release-summary")
    assert "不可撤销" in buyer_phone.locator("#confirm-release").inner_text()
    User.objects.filter(pk=buyer.pk).update(language="en")
    buyer_page.goto(url(f"/orders/{order.reference}/confirm-release/"))
    assert _state(order) == OrderState.TRANSFER_APPROVED
    buyer_page.locator("#confirm-release input[name=understood]").check()
    buyer_page.locator("form[action$='/certificate/'] button").click()
    buyer_page.wait_for_load_state()
    assert _state(order) == OrderState.COMPLETED
    wait_until(lambda: Disbursement.objects.filter(order=order, kind="payout", state="paid").exists(), timeout=30,
               what="payout by the worker")
    buyer_page.goto(url(order.get_absolute_url()))
    shot(buyer_page, "13-completed-buyer")
    seller_page.goto(url(order.get_absolute_url()))
    shot(seller_page, "14-seller-paid")
    phone.goto(url(order.get_absolute_url()))
    shot(phone, "15-seller-paid-phone")
    _both_views(buyer_views, buyer, url(order.get_absolute_url()), shot, "k5-completed-buyer")
    _both_views(seller_views, seller, url(order.get_absolute_url()), shot, "k5-completed-seller")
    # the dashboards of both parties, in both languages
    _both_views(buyer_views, buyer, url("/orders/"), shot, "k6-dashboard-buyer")
    _both_views(seller_views, seller, url("/orders/"), shot, "k6-dashboard-seller")


def test_officer_handles_a_correction_and_a_rejection(browser, e2e_tenant, url, shot):
    """Staff pages: the filing queue, a correction request sent back, a rejection refiled (the poll runs
    in-process here)."""
    from tests.factories import filed_order
    from transfers.services import transfer_poll_due

    corrected, seller, buyer, officer, correction_filing = filed_order(outcome="correction")
    rejected, *_rest, rejected_filing = filed_order(outcome="reject")
    transfer_poll_due()
    page = new_page(browser)
    _login(page, url, officer.email)
    page.goto(url("/transfers/staff/"))
    shot(page, "1-staff-queue")
    # the correction request: the parties see what to fix and by when
    buyer_page = new_page(browser, phone=True)
    _login(buyer_page, url, buyer.email)
    buyer_page.goto(url(corrected.get_absolute_url()) + "#transfer")
    buyer_page.wait_for_selector(".tp-correction")
    shot(buyer_page, "2-correction-buyer-phone")
    # the officer sends the correction
    page.goto(url(f"/transfers/staff/{correction_filing.pk}/"))
    shot(page, "3-correction-staff")
    page.fill("textarea[name=note]", "Re-signed agreement with the registered name of the patentee.")
    page.locator("form:has(input[value=correction]) button").click()
    page.wait_for_load_state()
    assert Order.objects.get(pk=corrected.pk).state == OrderState.TRANSFER_FILED
    # the rejection: the officer refiles
    page.goto(url(f"/transfers/staff/{rejected_filing.pk}/"))
    shot(page, "4-rejected-staff")
    page.locator("form:has(input[value=refile]) button").click()
    page.wait_for_load_state()
    assert Order.objects.get(pk=rejected.pk).state == OrderState.TRANSFER_FILED
    shot(page, "5-refiled")


def test_seller_uploads_the_export_certificate(browser, e2e_tenant, url, shot, tmp_path):
    """A Chinese invention sold to a Hong Kong buyer: filing is blocked until the seller uploads the
    technology-export contract registration certificate (checked by content)."""
    from tests.factories import transfer_order
    from transfers.selectors import current_filing
    from transfers.tasks import prepare_transfer

    order, seller, buyer = transfer_order(buyer_country="HK")
    prepare_transfer(tenant_id=order.tenant_id, order_id=order.pk)  # the worker's job (issue 10)
    page = new_page(browser)
    _login(page, url, seller.email)
    page.goto(url(order.get_absolute_url()) + "#transfer")
    page.wait_for_selector(".tp-upload")
    shot(page, "1-export-certificate-needed")
    fake = tmp_path / "certificate.pdf"
    fake.write_bytes(b"this is not a PDF")
    page.set_input_files("#id_export_file", str(fake))
    page.locator(".tp-upload button").click()
    page.wait_for_load_state()
    assert page.locator(".msg-error").count() == 1
    shot(page, "2-wrong-file-refused")
    real = tmp_path / "certificate-real.pdf"
    real.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF")
    page.set_input_files("#id_export_file", str(real))
    page.locator(".tp-upload button").click()
    page.wait_for_load_state()
    assert current_filing(order).export_certificate
    shot(page, "3-uploaded")


def test_parties_see_what_happens_at_the_signing_deadline(browser, e2e_tenant, url, shot):
    """Before the deadline both parties read the rule; after it, with the seller signed and the buyer
    not, both see that the buyer is refunded on a given date unless they sign (EN desktop, ZH phone)."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import transfer_order
    from transfers.models import SIGNED_KINDS, TransferDocument
    from transfers.services import document_sign, transfer_prepare

    order, seller, buyer = transfer_order()
    transfer_prepare(order=order)
    desktop, phone = new_page(browser), new_page(browser, phone=True)
    _login(desktop, url, buyer.email)
    _login(phone, url, buyer.email)
    _both_views((desktop, phone), buyer, url(order.get_absolute_url()) + "#signing-deadline", shot, "1-before")
    assert phone.locator("#signing-deadline").is_visible()
    for document in TransferDocument.objects.filter(order=order, kind__in=SIGNED_KINDS):
        document_sign(document=document, user=seller, typed_name=seller.full_name, consent=True)
    Order.objects.filter(pk=order.pk).update(filing_due=timezone.now() - timedelta(hours=2))
    _both_views((desktop, phone), buyer, url(order.get_absolute_url()) + "#signing-deadline", shot, "2-buyer-late")
    assert phone.locator(".tp-deadline-buyer_late").is_visible()
