"""An organization uploads a 50-number CSV, watches the progress bar, sees the charts and the deadline
list, subscribes to the calendar feed and lists one right for sale from the portfolio. Screenshots:
desktop (en) and phone (zh) in test-results/."""

import datetime

from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from rights.models import Alert, Holding, PortfolioImport, RegisterRecord
from rights.monitoring import monitor_due, snapshot_of
from rights.portfolio import run_import
from rights.services import holding_ensure
from tests.e2e.conftest import new_page
from tests.factories import OrganizationFactory, make_member, register_record


def test_portfolio_upload_progress_charts_calendar_and_sell(e2e_tenant, page, browser, url, shot, login, tmp_path):
    org = OrganizationFactory(legal_name="清源大学技术转移中心", legal_name_en="Qingyuan University TTO")
    holder = make_member(roles=(Role.SELLER,), org=org, email="pf-holder@e2e.test", language="en")
    make_member(roles=(Role.SELLER,), org=org, email="pf-holder-zh@e2e.test", language="zh-hans")
    today = timezone.localdate()
    numbers = []
    for i in range(50):
        filing = (today + datetime.timedelta(days=20 + 7 * i)).replace(year=today.year - 3 - i % 8)
        kind = "trademark" if i % 10 == 0 else "invention"
        record = register_record(owner_name=org.legal_name, kind=kind, filing_date=filing,
                                 grant_date=filing + datetime.timedelta(days=400),
                                 renewal_paid_through=filing.replace(year=today.year) if kind != "trademark"
                                 else None, expiry_date=(filing.replace(year=filing.year + (20 if kind != "trademark"
                                                                                          else 10))))
        numbers.append(record.number)
    csv_file = tmp_path / "portfolio.csv"
    csv_file.write_text("名称,专利号\n" + "\n".join(f"权利{i},{n}" for i, n in enumerate(numbers))
                        + "\n坏号码,ZL201210379921.5\n", encoding="utf-8")

    login(page, holder.email)
    page.goto(url("/portfolio/"))
    page.click("#import-link")
    page.set_input_files("#id_file", str(csv_file))
    page.click("#import-btn")
    expect(page.locator("#import-progress progress")).to_be_visible()
    shot(page, "pf-1-progress-desktop-en")
    # The worker runs the import (here in the test process) while the page polls.
    run_import(PortfolioImport.objects.get().pk, progress_every=10)
    expect(page.locator("#import-progress")).to_contain_text("50 rights added", timeout=15000)
    expect(page.locator("#import-progress")).to_contain_text("ZL201210379921.5")
    shot(page, "pf-2-import-done-desktop-en")
    page.get_by_role("link", name="See the portfolio").click()
    expect(page.locator("svg.chart")).to_have_count(3)
    expect(page.locator("#deadlines tbody tr").first).to_be_visible()
    expect(page.locator("#portfolio-table tbody tr")).to_have_count(50)
    page.click("#calendar-btn")
    feed_url = page.locator("#calendar-url").inner_text()
    ics = page.request.get(feed_url)
    assert ics.ok
    assert "BEGIN:VEVENT" in ics.text()
    shot(page, "pf-3-portfolio-desktop-en")
    page.locator("#portfolio-table a.btn").first.click()
    expect(page.locator("#package .pkg-item")).to_have_count(1)
    shot(page, "pf-4-sell-wizard-desktop-en")
    # A selection: two rights into one listing (a package) in one click.
    page.goto(url("/portfolio/"))
    page.locator("#portfolio-table input[name=holding]").nth(1).check()
    page.locator("#portfolio-table input[name=holding]").nth(2).check()
    page.click("#sell-selected")
    expect(page.locator("#package .pkg-item")).to_have_count(2)
    shot(page, "pf-4b-sell-selection-desktop-en")
    # Monitoring finds a lapse and an overdue fee: two alerts, new to every member until each reads them.
    Holding.objects.update(next_check_at=timezone.now() + datetime.timedelta(days=1))
    lapsed = Holding.objects.select_related("record").order_by("id").first()
    Holding.objects.filter(pk=lapsed.pk).update(next_check_at=timezone.now(), snapshot=snapshot_of(lapsed.record))
    RegisterRecord.objects.filter(pk=lapsed.record_id).update(legal_status="lapsed")
    filing = today.replace(year=today.year - 6) - datetime.timedelta(days=40)  # year-7 fee fell due 40 days ago
    holding_ensure(organization=org, record=register_record(
        owner_name=org.legal_name, filing_date=filing, grant_date=filing.replace(year=filing.year + 2),
        renewal_paid_through=filing.replace(year=filing.year + 6)))
    monitor_due()
    assert set(Alert.objects.values_list("kind", flat=True)) >= {"lapse", "fee_overdue"}
    page.goto(url("/portfolio/"))
    expect(page.locator("#alerts li.unread")).to_have_count(Alert.objects.count())
    expect(page.locator("#alerts-unread")).to_have_text(str(Alert.objects.count()))
    page.locator("#alerts li.unread button.link").first.click()
    expect(page.locator("#alerts li.unread")).to_have_count(Alert.objects.count() - 1)
    expect(page.locator("#alerts li:not(.unread)")).to_have_count(1)
    page.locator("#alerts").scroll_into_view_if_needed()
    shot(page, "pf-4c-alerts-one-read-desktop-en")

    phone = new_page(browser, phone=True)
    login(phone, "pf-holder-zh@e2e.test")
    phone.goto(url("/portfolio/"))
    expect(phone.locator("h1")).to_contain_text("资产组合")
    shot(phone, "pf-5-portfolio-phone-zh")
    # Another member: every alert is still new to them (read state is per member), in Chinese.
    expect(phone.locator("#alerts li.unread")).to_have_count(Alert.objects.count())
    assert "失效" in phone.locator("#alerts").inner_text() or "已于" in phone.locator("#alerts").inner_text()
    phone.locator("#alerts").scroll_into_view_if_needed()
    shot(phone, "pf-5b-alerts-phone-zh", full_page=False)
    phone.click("#alerts-read-all")
    expect(phone.locator("#alerts li.unread")).to_have_count(0)
    expect(phone.locator("#alerts-unread")).to_have_count(0)
    wide = phone.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => {
        const r = e.getBoundingClientRect(); return r.right > 391 && !e.closest('.pf-scroll');
      }).slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))""")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, wide
    body = phone.locator("main").inner_text()
    for english in ("annual fee", "renewal", "Deadlines", "Sell or license", "Mark as read", "lapsed"):
        assert english not in body, english
    assert "第" in phone.locator("#deadlines tbody").inner_text()  # 第N年年费
    phone.context.close()

    phone = new_page(browser, phone=True)
    login(phone, holder.email)
    phone.goto(url("/portfolio/"))
    shot(phone, "pf-6-portfolio-phone-en")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert "年费" not in phone.locator("main").inner_text()
    # Each member chooses their alerts: the daily digest for this one.
    phone.click("#alert-settings-link")
    phone.check("input[name=email][value=digest]")
    phone.click("#alert-settings-save")
    expect(phone.locator(".msg, .messages").first).to_contain_text("saved")
    shot(phone, "pf-7-alert-settings-phone-en")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # Search the register by the holder's name and see what can be picked.
    phone.goto(url("/portfolio/import/?owner=清源大学"))
    expect(phone.locator("#owner-results")).to_contain_text("In your portfolio")
    shot(phone, "pf-8-owner-search-phone-en")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.context.close()
