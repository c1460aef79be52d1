"""Journey: pledge financing. The holder applies on the website, the bank makes its offer through the
partner API, the holder accepts and signs, the bank signs through the API, the exchange's staff file
the pledge, the (simulated) office records it, the right's page shows the pledge, and a buyer's order
for a listing of that right is refused. Desktop in English and phone in Chinese; screenshots of each step."""

import json
import urllib.request

import pytest
from django.utils import timezone

from core.tenancy import tenant_context
from escrow.models import Payment
from financing.models import ApplicationState, LoanApplication, PartnerKind
from tests.e2e.conftest import new_page
from tests.factories import (
    PASSWORD,
    completed_deal,
    deliver_payment,
    finance_partner,
    finance_staff,
    make_api_key,
    make_member,
    published_listing,
    rights_holder,
)
from transfers.services import recordal_poll_due


def _api(url, secret, path, data=None):
    request = urllib.request.Request(url(path), data=json.dumps(data).encode() if data is not None else None,
                                     method="POST" if data is not None else "GET",
                                     headers={"Authorization": f"Api-Key {secret}", "Content-Type": "application/json",
                                              "Accept-Language": "en"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the live test server
        return json.loads(response.read())


def _login(page, url, email):
    page.goto(url("/accounts/login/"))
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


@pytest.mark.parametrize("phone", [False, True], ids=["desktop-en", "phone-zh"])
def test_pledge_loan_journey(browser, e2e_tenant, url, shot, phone, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    settings.ESCROW_SIMULATED_PAYMENTS = True
    for per_year in (120_000_00, 180_000_00, 240_000_00, 300_000_00, 420_000_00, 510_000_00):
        completed_deal(price_minor=per_year * 9, years_left=9)  # comparables: the value range shows
    org, holder, records = rights_holder(n=1, title="一种基于区块链的数据存证方法")
    holder.language = "zh-hans" if phone else "en"
    holder.save(update_fields=["language"])
    record = records[0]
    listing = published_listing(org=org, records=[record], title="区块链存证专利转让")
    bank, _banker = finance_partner(kind=PartnerKind.BANK, legal_name="北京银行中关村分行")
    _key, bank_secret = make_api_key(organization=bank.organization)
    staff = finance_staff()
    buyer = make_member(language="zh-hans" if phone else "en")

    page = new_page(browser, phone=phone)
    _login(page, url, holder.email)
    # the right's page: valuation indicators and the way to finance it
    page.goto(url(f"/financing/rights/{record.pk}/"))
    assert page.locator(".fin-valuation").is_visible()
    shot(page, "01-right")
    _no_sideways_scroll(page)
    # every indicator's inputs, opened: labels and values in the page's language, never machine keys
    page.evaluate("document.querySelectorAll('.fin-ind details').forEach(d => d.open = true)")
    inputs = page.locator(".fin-inputs").first
    inputs.scroll_into_view_if_needed()
    shot(page, "01b-right-inputs")
    text = page.locator(".fin-valuation").inner_text()
    assert "median_minor" not in text
    assert "years_left" not in text
    assert ("中位价格" if phone else "Median price") in text
    _no_sideways_scroll(page)
    page.locator(f"a[href='/financing/apply/?right={record.pk}']").click()
    page.wait_for_load_state()
    assert page.locator(f"input[name=rights][value='{record.pk}']").is_checked()
    page.fill("input[name=amount]", "3000000")
    page.fill("input[name=term_months]", "12")
    page.fill("textarea[name=purpose]", "扩大生产线 / expand the production line")
    shot(page, "02-apply")
    page.locator("form.fin-form button[type=submit]").click()
    page.wait_for_load_state()
    application = LoanApplication.objects.get(applicant_org=org)
    assert application.state == ApplicationState.OPEN
    shot(page, "03-application-open")
    _no_sideways_scroll(page)

    # the bank offers through the API
    base = f"/api/v1/financing/applications/{application.reference}"
    offer = _api(url, bank_secret, f"{base}/offers", {"amount_minor": 2_500_000_00, "rate_bps": 385,
                                                      "term_months": 12, "conditions": "按季付息 / interest quarterly"})

    # the holder accepts (second confirmation) and signs
    page.reload()
    page.locator(f"form[action$='/offers/{offer['id']}/accept/'] input[name=confirm]").check()
    shot(page, "04-offer")
    page.locator(f"form[action$='/offers/{offer['id']}/accept/'] button").click()
    page.wait_for_load_state()
    page.fill("form.fin-sign input[name=typed_name]", holder.full_name or "李伟")
    page.check("form.fin-sign input[name=consent]")
    shot(page, "05-sign")
    page.locator("form.fin-sign button[type=submit]").click()
    page.wait_for_load_state()
    body = _api(url, bank_secret, base)
    _api(url, bank_secret, f"{base}/contract/sign", {"typed_name": "张敏", "consent": True,
                                                     "sha256": body["contract"]["sha256"]})
    application.refresh_from_db()
    assert application.state == ApplicationState.SIGNED

    # staff file the pledge from the pipeline; the worker's poll brings the office's answer
    staff_page = new_page(browser)
    _login(staff_page, url, staff.email)
    staff_page.goto(url("/financing/staff/"))
    shot(staff_page, "06-staff-pipeline")
    staff_page.goto(url(application.get_absolute_url()))
    staff_page.locator("form[action$='/file-pledge/'] button").click()
    staff_page.wait_for_load_state()
    with tenant_context(e2e_tenant):
        assert recordal_poll_due()["approved"] == 1
    application.refresh_from_db()
    assert application.state == ApplicationState.PLEDGED
    staff_page.context.close()

    page.goto(url(application.get_absolute_url()))
    assert page.locator("[data-state=pledged]").is_visible()
    shot(page, "07-pledged")
    page.goto(url(f"/financing/rights/{record.pk}/"))
    assert page.locator(".fin-pledged").is_visible()
    assert "北京银行中关村分行" in page.locator(".fin-pledged").inner_text()
    shot(page, "08-right-pledged")
    _no_sideways_scroll(page)

    # the bank confirms the disbursement (API): the exchange's service fee falls due; the holder pays it
    # on its payment page (summary + second confirmation → the simulated provider)
    _api(url, bank_secret, f"{base}/disbursement", {"on": str(timezone.localdate()), "amount_minor": 2_500_000_00,
                                                    "reference": "BJ-778"})
    page.goto(url(application.get_absolute_url() + "#loan"))
    assert page.locator(".fin-fee-due").is_visible()
    shot(page, "08b-fee-due")
    page.locator(f"a[href='{application.get_absolute_url()}service-fee/pay/']").click()
    page.wait_for_load_state()
    assert page.locator(".service-fee-pay .big-money").is_visible()
    _no_sideways_scroll(page)
    shot(page, "08c-fee-pay-summary")
    page.locator("input[name=provider][value=simulated]").check()
    page.locator("input[name=confirm]").check()
    page.locator(".service-fee-pay form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/pay/simulated/" in page.url
    page.locator("button[name=decision][value=approve]").click()
    page.wait_for_load_state()
    payment = Payment.objects.get(deposit__subject=f"loanfee:{application.reference}")
    if payment.state == Payment.State.PENDING:  # no worker in the test: deliver the provider's event here
        with tenant_context(e2e_tenant):
            deliver_payment(payment)
    application.refresh_from_db()
    assert application.service_fee_paid_at is not None, (payment.state, Payment.objects.get(pk=payment.pk).state)
    page.goto(url(application.get_absolute_url() + "#loan"))
    page.reload()  # the provider's page may have sent us back here already: a hash change alone loads nothing
    assert page.locator(".fin-fee-paid").is_visible()
    shot(page, "08d-fee-paid")
    page.context.close()

    # a buyer tries to buy the pledged right: refused, no order
    buyer_page = new_page(browser, phone=phone)
    _login(buyer_page, url, buyer.email)
    buyer_page.goto(url(f"/orders/new/{listing.pk}/"))
    refusal = buyer_page.locator(".callout-bad[role=alert]")
    assert refusal.is_visible()
    assert "北京银行中关村分行" in refusal.inner_text()
    assert buyer_page.locator("#id_terms").count() == 0  # no way to place the order
    shot(buyer_page, "09-sale-refused")
    assert not listing.orders.exists()
    buyer_page.context.close()
