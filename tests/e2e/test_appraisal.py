"""Journey: an appraisal. The client pays the fee on its payment page (summary + second confirmation,
then the simulated provider's page), the appraiser uploads a signed report (the signature is checked
and its signer shown), the client disputes it, the appraiser answers, the exchange's staff settle it
with a split after a summary. Desktop in English and phone in Chinese; screenshots of each step."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.utils import timezone

from escrow.models import Payment
from financing import services
from financing.models import Appraisal, PartnerKind
from tests.e2e.conftest import new_page
from tests.factories import (
    PASSWORD,
    deliver_payment,
    finance_partner,
    finance_staff,
    rights_holder,
    signed_report,
    throwaway_ca,
)


def _login(page, url, email):
    page.goto(url("/accounts/login/"))
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


@pytest.mark.parametrize("phone", [False, True], ids=["desktop-en", "phone-zh"])
def test_appraisal_journey(browser, e2e_tenant, url, shot, phone, settings, tmp_path):
    settings.ESCROW_SIMULATED_PAYMENTS = True
    cert, key = throwaway_ca(tmp_path, common_name="Zhongguancun Appraisers CA")
    settings.APPRAISAL_TRUST_ROOTS = [str(cert)]
    language = "zh-hans" if phone else "en"
    org, client_user, records = rights_holder(n=1, title="一种基于区块链的数据存证方法")
    appraiser, appraiser_user = finance_partner(kind=PartnerKind.APPRAISER, fee_minor=20_000_00,
                                                legal_name="中关村资产评估有限公司")
    staff = finance_staff()
    for user in (client_user, appraiser_user, staff):
        user.language = language
        user.save(update_fields=["language"])
    appraisal = services.appraisal_order(actor=client_user, organization=org, appraiser=appraiser,
                                         record_ids=[records[0].pk])
    base = f"/financing/appraisals/{appraisal.reference}/"

    page = new_page(browser, phone=phone)
    _login(page, url, client_user.email)
    page.goto(url(base))
    shot(page, "01-ordered")
    page.locator(f"a[href='{base}pay/']").click()
    page.wait_for_load_state()
    assert page.locator(".appraisal-pay .big-money").is_visible()
    _no_sideways_scroll(page)
    shot(page, "02-pay-summary")
    page.locator("input[name=provider][value=simulated]").check()
    page.locator("input[name=confirm]").check()
    page.locator(".appraisal-pay form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/pay/simulated/" in page.url
    shot(page, "03-provider")
    page.locator("button[name=decision][value=approve]").click()
    page.wait_for_load_state()
    payment = Payment.objects.get()
    if payment.state == Payment.State.PENDING:  # no worker in the test: deliver the provider's event here
        deliver_payment(payment)
    page.goto(url(base))
    assert Appraisal.objects.get().state == "paid"
    shot(page, "04-paid")

    # the appraiser delivers the signed report on the website
    appraiser_page = new_page(browser, phone=phone)
    _login(appraiser_page, url, appraiser_user.email)
    appraiser_page.goto(url(base))
    report = tmp_path / "report.pdf"
    with ThreadPoolExecutor(1) as pool:  # pyHanko runs its own event loop: not inside Playwright's
        report.write_bytes(pool.submit(signed_report, cert, key).result())
    appraiser_page.set_input_files("input[name=report]", str(report))
    appraiser_page.fill("input[name=value]", "5000000")
    appraiser_page.fill("input[name=value_date]", timezone.localdate().isoformat())
    shot(appraiser_page, "05-deliver")
    appraiser_page.locator("form.fin-form button[type=submit]").click()
    appraiser_page.wait_for_load_state()
    assert Appraisal.objects.get().state == "delivered"
    assert appraiser_page.locator(".report-signature").is_visible()
    _no_sideways_scroll(appraiser_page)
    shot(appraiser_page, "06-delivered")

    # the client disputes it
    page.goto(url(base))
    assert "Zhongguancun Appraisers CA" in page.locator(".report-signature").inner_text()
    page.locator("details.dispute-open summary").click()
    page.fill("textarea[name=reason]", "评估采用的可比交易属于其他分类。The comparables are of another class.")
    shot(page, "07-dispute")
    page.locator("details.dispute-open button[type=submit]").click()
    page.wait_for_load_state()
    assert Appraisal.objects.get().state == "disputed"
    services.appraisal_dispute_answer(actor=appraiser_user, appraisal=appraisal,
                                      text="G06F 是可比交易最多的相近分类。G06F was the nearest class.")

    # staff settle: summary, then the second confirmation
    staff_page = new_page(browser, phone=phone)
    _login(staff_page, url, staff.email)
    staff_page.goto(url("/financing/staff/"))
    assert staff_page.locator(".appraisal-disputes a").count() == 1
    staff_page.goto(url(base))
    staff_page.locator("input[name=outcome][value=split]").check()
    staff_page.fill("input[name=refund]", "5000")
    staff_page.fill("textarea[name=note]", "一半可比交易不属于同一分类。Half the comparables were of another class.")
    shot(staff_page, "08-settle-form")
    staff_page.locator(".settle-form button[type=submit]").click()
    staff_page.wait_for_load_state()
    assert staff_page.locator(".appraisal-settle .big-money").count() == 2
    _no_sideways_scroll(staff_page)
    shot(staff_page, "09-settle-summary")
    staff_page.locator("input[name=confirm]").check()
    staff_page.locator(".appraisal-settle button[type=submit]").click()
    staff_page.wait_for_load_state()
    assert Appraisal.objects.get().state == "completed"
    page.goto(url(base))
    shot(page, "10-settled")
    for p in (page, appraiser_page, staff_page):
        p.context.close()
