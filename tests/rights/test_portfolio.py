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


def test_portfolio_page_query_budget_and_charts(client, tenant, django_assert_max_num_queries):
    seller, org = seller_with_org()
    for i in range(120):
        holding_ensure(organization=org, record=register_record(owner_name=org.legal_name,
                                                                kind="trademark" if i % 4 == 0 else "invention"))
    client.force_login(seller)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/portfolio/")
    assert response.status_code == 200
    own = [q for q in queries.captured_queries if "rights_" in q["sql"] or "listings_right" in q["sql"]]
    assert len(own) <= 5, [q["sql"][:120] for q in own]
    assert len(queries.captured_queries) <= 10 + 8  # the page's own ≤ 10 plus session/tenant/user/menu queries
    html = response.content.decode()
    assert html.count('class="chart"') >= 3  # remaining term, status, fees per year
    assert "Deadlines in the next 12 months" in html or "12" in html


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
