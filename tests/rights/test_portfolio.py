"""Portfolio: import rows (each its own unit), the page within its query budget, exports, the calendar
feed, one click to market."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from core.errors import ValidationFailed
from rights.expiry import add_years
from rights.models import Holding
from rights.portfolio import read_numbers, run_import, start_import
from rights.services import holding_ensure
from tests.factories.listings import register_record, seller_with_org

pytestmark = pytest.mark.django_db


def _xlsx(rows):
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("portfolio.xlsx", buffer.getvalue())


def test_read_numbers_from_csv_xlsx_and_text():
    csv_file = SimpleUploadedFile("p.csv", "名称,专利号\n电池,ZL 2012 1 0379921.4\n商标,第12345678号\n".encode())
    assert read_numbers(upload=csv_file) == ["ZL 2012 1 0379921.4", "第12345678号"]
    assert read_numbers(upload=_xlsx([["number"], ["2020SR0123456"], [None], ["US 9,362,380 B2"]])) == [
        "2020SR0123456", "US 9,362,380 B2"]
    assert read_numbers(text="201210379921.4\n12345678; 2020SR0123456") == ["201210379921.4", "12345678",
                                                                              "2020SR0123456"]
    with pytest.raises(ValidationFailed, match="CSV or XLSX"):
        read_numbers(upload=SimpleUploadedFile("p.pdf", b"%PDF-1.4"))
    with pytest.raises(ValidationFailed, match="Excel"):
        read_numbers(upload=SimpleUploadedFile("p.xlsx", b"PK\x03\x04 not a workbook"))


def test_import_reports_each_bad_row_and_imports_the_rest(tenant, django_capture_on_commit_callbacks):
    seller, org = seller_with_org()
    good = register_record(owner_name=org.legal_name)
    other = register_record(owner_name=org.legal_name, kind="trademark")
    numbers = [good.number, "ZL201210379921.5", other.number, good.number, "201910000000.0", "hello"]
    with django_capture_on_commit_callbacks(execute=False):
        job = start_import(actor=seller, organization=org, numbers=numbers, source_name="p.csv")
    job = run_import(job.pk, progress_every=2)
    assert (job.status, job.total, job.processed, job.imported) == ("done", 6, 6, 2)
    rows = {e["row"]: e["message"] for e in job.errors}
    assert set(rows) == {2, 4, 5, 6}
    assert "should be 4" in rows[2]
    assert "row 1" in rows[4]
    assert set(Holding.objects.filter(organization=org).values_list("record_id", flat=True)) == {good.pk, other.pk}
    assert run_import(job.pk).imported == 2  # running again changes nothing


def _holdings(org, n):
    for i in range(n):
        holding_ensure(organization=org, record=register_record(owner_name=org.legal_name,
                                                                kind="trademark" if i % 4 == 0 else "invention"))


def _page_queries(client, user, **params):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/portfolio/", params)
    assert response.status_code == 200
    return response, [q["sql"] for q in queries.captured_queries]


def _bulk_holdings(org, n):
    """n held CN inventions written in bulk (a 10,000-right portfolio in seconds), the first 1,000 with their
    stored fees (the page's queries do not depend on how many there are)."""
    from rights.models import RegisterRecord
    from rights.numbers import cn_check_character
    from rights.services import holding_fees_store

    today = timezone.localdate()
    filing = today.replace(year=today.year - 5)
    records = []
    for i in range(n):
        digits = f"20181{8000000 + i:07d}"
        records.append(RegisterRecord(
            jurisdiction="CN", kind="invention", number=f"{digits}.{cn_check_character(digits)}", title=f"批量 {i}",
            owner_name=org.legal_name, filing_date=filing, grant_date=filing.replace(year=filing.year + 2),
            expiry_date=filing.replace(year=filing.year + 20), legal_status="valid" if i % 7 else "pending",
            renewal_paid_through=today, keys=[f"CN:APP:{digits}"]))
    records = RegisterRecord.objects.bulk_create(records, batch_size=2000)
    holdings = Holding.objects.bulk_create([Holding(
        tenant_id=org.tenant_id, organization=org, record=r, basis="imported", kind=r.kind, jurisdiction=r.jurisdiction,
        legal_status=r.legal_status, expiry_date=r.expiry_date, number=r.number, title=r.title) for r in records],
                                           batch_size=2000)
    for h, r in zip(holdings, records, strict=True):
        h.record = r
    holding_fees_store(holdings=holdings[:1000])


def _an_alert(org):
    from rights.models import Alert

    holding = Holding.objects.filter(organization=org).order_by("id").first()
    Alert.objects.create(organization=org, holding=holding, record_id=holding.record_id, kind="opposition",
                         key="q", message="an opposition")


def test_portfolio_page_queries_do_not_grow_with_the_portfolio(client, tenant):
    """The whole request (session, member, listed rights, totals, deadlines, table, alerts, calendar,
    imports, the nav's notification count) costs the same ≤ 10 queries for 1, 20 and 10,000 rights, for
    every sort."""
    sizes = {}
    for n in (1, 20, 10_000):
        user, org = seller_with_org()
        if n == 10_000:
            _bulk_holdings(org, n)
        else:
            _holdings(org, n)
        _an_alert(org)
        sizes[n] = user
        _page_queries(client, user)  # warm the caches (tenant by host name, the fee totals)
    counts = {}
    for n, user in sizes.items():
        for sort in ("expiry", "number", "title", "status"):
            response, queries = _page_queries(client, user, sort=sort)
            counts[(n, sort)] = len(queries)
            assert len(queries) <= 10, "\n".join(q[:140] for q in queries)
            # every sort reads the holdings' own copies: the register is joined for one page of rows only
            table = [q for q in queries if q.startswith('SELECT "rights_holding"."id"')]
            assert len(table) == 1
            assert "LIMIT 50" in table[0]
            assert '"rights_registerrecord"."number"' not in table[0].split("ORDER BY")[1]
            assert '"rights_registerrecord"."title"' not in table[0].split("ORDER BY")[1]
    assert len(set(counts.values())) == 1, counts
    html = response.content.decode()
    assert html.count('class="chart"') >= 3  # remaining term, status, fees per year
    assert "10,000 rights" in html or "10000 rights" in html
    assert html.count('href="/portfolio/') >= 50  # 50 rows a page
    assert "Page 1 of 200" in html
    assert 'class="pf-alert unread"' in html
    page2 = client.get("/portfolio/", {"page": 2, "sort": "number"}).content.decode()
    assert "Page 2 of 200" in page2
    table = page2.split('id="portfolio-table"')[1]
    assert "201818000050" in table  # sorted by number: the 51st to the 100th
    assert "201818000049" not in table
    # Filters keep the budget too.
    _, filtered = _page_queries(client, sizes[20], kind="trademark", status="valid")
    assert len(filtered) == counts[(20, "expiry")] + 2  # the fee totals of a new filter: computed once, cached


def test_stored_fees_follow_the_register_and_read_in_the_readers_language(client, tenant, settings):
    from django.core.management import call_command

    from rights.models import HoldingFee, RegisterRecord
    from rights.monitoring import monitor_due

    seller, org = seller_with_org()
    today = timezone.localdate()
    next_fee = today + timezone.timedelta(days=60)
    filing = next_fee.replace(year=next_fee.year - 10)  # the year-11 annual fee falls due in 60 days
    record = register_record(owner_name=org.legal_name, filing_date=filing, grant_date=filing.replace(
        year=filing.year + 2), renewal_paid_through=next_fee)
    holding = holding_ensure(organization=org, record=record)
    fee = HoldingFee.objects.filter(holding=holding).order_by("due").first()
    assert (fee.code, fee.n, fee.due, fee.amount_minor, fee.currency) == ("cn_annual", "11", next_fee, 400000, "CNY")
    client.force_login(seller)
    seller.language = "zh-hans"
    seller.save(update_fields=["language"])
    zh = client.get("/portfolio/").content.decode()
    assert "第11年年费" in zh
    assert "annual fee" not in zh
    seller.language = "en"
    seller.save(update_fields=["language"])
    en = client.get("/portfolio/").content.decode()
    assert "annual fee, year 11" in en
    assert "年年费" not in en
    assert "4,000.00 CNY" in en
    # The holder pays year 11 at the office; the next monitoring check stores the next fee instead.
    RegisterRecord.objects.filter(pk=record.pk).update(renewal_paid_through=add_years(next_fee, 1))
    Holding.objects.filter(pk=holding.pk).update(next_check_at=timezone.now())
    monitor_due()
    assert HoldingFee.objects.filter(holding=holding).order_by("due").first().n == "12"
    en = client.get("/portfolio/").content.decode()  # the cached fee totals were dropped with the old fees
    assert "annual fee, year 11" not in en
    assert "Nothing due in the next 12 months" in en  # year 12 falls due in 14 months
    # The rules change (here: the stored rows are wiped): the command puts them back.
    HoldingFee.objects.all().delete()
    call_command("recompute_fees", tenant=tenant.slug, stdout=io.StringIO())
    assert HoldingFee.objects.filter(holding=holding).order_by("due").first().n == "12"


def test_export_calendar_and_one_click_to_market(client, tenant):
    seller, org = seller_with_org()
    today = timezone.localdate()
    next_fee = today + timezone.timedelta(days=60)
    filing = next_fee.replace(year=next_fee.year - 3)  # the year-4 annual fee falls due in 60 days
    record = register_record(owner_name=org.legal_name, filing_date=filing, grant_date=filing.replace(
        year=filing.year + 1), renewal_paid_through=next_fee)
    holding = holding_ensure(organization=org, record=record)
    client.force_login(seller)
    csv_body = client.get("/portfolio/export.csv").content.decode("utf-8-sig")
    assert record.number in csv_body
    workbook = load_workbook(io.BytesIO(client.get("/portfolio/export.xlsx").content))
    assert workbook.active.max_row == 2
    client.post("/portfolio/calendar/")
    from rights.models import CalendarFeed

    feed = CalendarFeed.objects.get(organization=org)
    client.logout()
    ics = client.get(f"/portfolio/calendar/{feed.token}.ics")
    assert ics["Content-Type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in ics.content
    assert record.number.encode() in ics.content
    assert client.get("/portfolio/calendar/not-the-token.ics").status_code == 404
    client.force_login(seller)
    response = client.get(f"/portfolio/{holding.pk}/sell/")
    assert response["Location"] == f"/sell/?record={record.pk}"
    wizard = client.get(response["Location"]).content.decode()
    assert record.number in wizard
