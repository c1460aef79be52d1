"""Benchmark of the monitoring cycle and the portfolio page.

1. N monitored rights (holdings of one organization in a tenant of its own, `bench-monitor`, each a CN
   invention in the embedded register), of which a share is due (`next_check_at` in the past); ONE
   monitoring cycle (`rights.monitoring.monitor_due`): wall time and queries. Both must grow with the
   due rows, not with N.
2. The portfolio page's data for an organization with 10,000 rights (`rights.portfolio.portfolio`):
   queries and p50/p95 over 10 runs.

    python bench/monitor.py                 # 1,000,000 monitored rights, 1% and 10% due
    python bench/monitor.py --quick         # 100,000
    python bench/monitor.py --rights 200000 --due 0.01

Writes bench/results/monitor.json. Uses DATABASE_URL (settings `marketplace.settings.local`).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.local")
if not os.environ.get("DATABASE_URL"):
    import importlib.util

    _spec = importlib.util.spec_from_file_location("ipex_dev", ROOT / "bin" / "dev.py")
    _dev = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_dev)
    os.environ["DATABASE_URL"] = _dev.database_url()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Organization  # noqa: E402
from core.models import Tenant  # noqa: E402
from core.tenancy import tenant_context  # noqa: E402
from rights.models import Holding, RegisterRecord  # noqa: E402
from rights.monitoring import monitor_due  # noqa: E402
from rights.numbers import cn_check_character  # noqa: E402
from rights.portfolio import portfolio  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "monitor.json"
YEAR = "2015"  # bench numbers 2015 1 7xxxxxx.c (a range the demo data does not use)


def number(i: int) -> str:
    digits = f"{YEAR}1{7000000 + i:07d}"
    return f"{digits}.{cn_check_character(digits)}"


def setup_tenant():
    tenant, _ = Tenant.objects.get_or_create(slug="bench-monitor", defaults={
        "name": "Bench monitor", "name_en": "Bench monitor", "hosts": ["bench-monitor.invalid"], "is_active": False})
    return tenant


def ensure_records(n: int) -> list[int]:
    """The bench register rows, written by PostgreSQL itself (INSERT … SELECT generate_series, the check
    character computed in SQL): 1,000,000 rows in a few minutes instead of Python building model objects."""
    prefix = YEAR + "17"
    have = RegisterRecord.objects.filter(jurisdiction="CN", number__startswith=prefix).count()
    today = timezone.localdate()
    filing = today.replace(year=today.year - 8)
    step = 100_000
    for start in range(have, n, step):
        stop = min(n, start + step)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO rights_registerrecord (
                    number, application_number, jurisdiction, kind, publication_number, title, title_en, abstract,
                    abstract_en, owner_name, owner_country, owner_registration_number, filing_date, grant_date,
                    expiry_date, legal_status, renewal_paid_through, classes, image_url, encumbrances, version,
                    completion_date, publication_date, certificate_number, source, fetched_at, raw,
                    awaiting_verification, keys, updated_at)
                SELECT s.digits || '.' || c.chk, '', 'CN', 'invention', '', '一种基准测试方法 ' || s.i, '', '', '',
                       'Bench Holder Co.', '', '', %(filing)s, %(grant)s, %(expiry)s, 'valid',
                       %(today)s::date + (200 + s.i %% 300), '{}', '', '[]', '', NULL, NULL, '', 'embedded', NULL, '{}',
                       false, ARRAY['CN:APP:' || s.digits], now()
                FROM (SELECT i, %(year)s || '1' || lpad((7000000 + i)::text, 7, '0') AS digits
                      FROM generate_series(%(start)s, %(stop)s - 1) AS i) AS s
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN r = 10 THEN 'X' ELSE r::text END AS chk
                    FROM (SELECT sum(substr(s.digits, k, 1)::int * (ARRAY[2,3,4,5,6,7,8,9,2,3,4,5])[k]) %% 11 AS r
                          FROM generate_series(1, 12) AS k) AS w) AS c
                ON CONFLICT DO NOTHING
                """,
                {"filing": filing, "grant": filing.replace(year=filing.year + 2),
                 "expiry": filing.replace(year=filing.year + 20), "today": today, "year": YEAR,
                 "start": start, "stop": stop})
        print(f"  register rows {stop:,} / {n:,}", flush=True)
    if have < n:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE rights_registerrecord")
    return list(RegisterRecord.objects.filter(jurisdiction="CN", number__startswith=prefix).order_by("id")
                .values_list("id", flat=True)[:n])


def populate(tenant, org, record_ids, due_share):
    """The organization holds every bench right (INSERT … SELECT: a million rows in about a minute); every
    (1 / due_share)-th holding is due (`next_check_at` in the past), the others due within a day."""
    every = max(1, round(1 / due_share)) if due_share else 0
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM rights_alert WHERE tenant_id = %s", [tenant.pk])
        cursor.execute("DELETE FROM rights_holdingfee WHERE tenant_id = %s", [tenant.pk])
        cursor.execute("DELETE FROM rights_holding WHERE tenant_id = %s", [tenant.pk])
        cursor.execute("VACUUM rights_holding")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO rights_holding (
                tenant_id, organization_id, record_id, basis, since, acquired_reference, ended_at, ended_reference,
                transferred_to_id, transferred_to_name, created_by_id, created_at, updated_at, next_check_at,
                check_attempts, last_checked_at, snapshot, kind, jurisdiction, legal_status, expiry_date, number,
                title, open_to_wants)
            SELECT %(tenant)s, %(org)s, r.id, 'imported', NULL, '', NULL, '', NULL, '', NULL, now(), now(),
                   CASE WHEN %(every)s > 0 AND (x.i - 1) %% %(every)s = 0
                        THEN now() - interval '1 second' * (1 + (x.i - 1) %% 3600)
                        ELSE now() + interval '1 minute' * (5 + (x.i - 1) %% 1440) END,
                   0, NULL, '{"status": "valid", "owner": "Bench Holder Co.", "encumbrances": []}'::jsonb,
                   r.kind, r.jurisdiction, r.legal_status, r.expiry_date, r.number, left(r.title, 500), false
            FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS x(id, i)
            JOIN rights_registerrecord r ON r.id = x.id
            """,
            {"tenant": tenant.pk, "org": org.pk, "every": every, "ids": list(record_ids)})
        due = Holding.objects.unscoped().filter(tenant=tenant, next_check_at__lte=timezone.now()).count()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE rights_holding")
    return due


class QueryCounter:
    """Counts every query of the connection (CaptureQueriesContext keeps at most 9,000)."""

    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)

    def __len__(self):
        return self.n


def cycle(tenant, org, record_ids, share):
    due = populate(tenant, org, record_ids, share)
    queries = QueryCounter()
    with tenant_context(tenant), connection.execute_wrapper(queries):
        t = time.perf_counter()
        stats = monitor_due(batch_size=500, max_batches=100_000)
        elapsed = time.perf_counter() - t
    result = {"monitored": len(record_ids), "due_share": share, "due": due, "checked": stats.checked,
              "batches": stats.batches, "alerts": stats.alerts, "seconds": round(elapsed, 2), "queries": len(queries),
              "queries_per_due": round(len(queries) / max(due, 1), 2),
              "ms_per_due": round(elapsed * 1000 / max(due, 1), 3)}
    print(f"{len(record_ids):>9,} monitored, {share:>5.1%} due ({due:,}): cycle {elapsed:8.2f} s, {len(queries):,} "
          f"queries ({result['queries_per_due']} per due right), {stats.alerts} alerts", flush=True)
    return result


def page(tenant, org, record_ids, runs=20):
    """The portfolio page of an organization with 10,000 rights (CN inventions: one annual fee a year
    each, so ~50,000 stored fees in the 5-year chart): storing the fees (what an import or the monitoring
    cycle does), the page's data (`portfolio()`), and the whole page through the middleware and template
    (Django test client, logged-in member, zh-hans)."""
    from django.test import Client

    from accounts.models import Membership, User
    from rights.services import holding_fees_store

    populate(tenant, org, record_ids[:10_000], 0)
    with tenant_context(tenant):
        holdings = list(Holding.objects.filter(organization=org, ended_at__isnull=True).select_related("record"))
        t = time.perf_counter()
        stored = sum(holding_fees_store(holdings=holdings[i:i + 500]) for i in range(0, len(holdings), 500))
        store_s = time.perf_counter() - t
        with connection.cursor() as cursor:
            # 500 alerts (the list shows 20 and counts the member's unread ones)
            cursor.execute(
                """INSERT INTO rights_alert (tenant_id, organization_id, holding_id, record_id, kind, key, message, action,
                                             message_source, action_source, params, due_by, created_at)
                   SELECT tenant_id, organization_id, id, record_id, 'fee_due', 'bench', 'A fee is due.', '', '', '',
                          '{}'::jsonb, NULL, now() FROM rights_holding WHERE tenant_id = %s ORDER BY id LIMIT 500""",
                [tenant.pk])
            # What autovacuum does after a large import (and after the cycles' 200,000+ deleted holdings).
            cursor.execute("VACUUM (ANALYZE) rights_holdingfee")
            cursor.execute("VACUUM (ANALYZE) rights_holding")
        user = User.objects.filter(email="bench-portfolio@example.invalid").first()
        if user is None:
            user = User.objects.create_user(email="bench-portfolio@example.invalid", password=None,
                                            full_name="Bench", language="zh-hans")
        Membership.objects.get_or_create(user=user, organization=org)
        data_times = []
        for _ in range(runs):
            reset_queries()  # the query log is a deque of 9,000: full after the store, it would count 0
            with CaptureQueriesContext(connection) as queries:
                t = time.perf_counter()
                view = portfolio(org)
                data_times.append(time.perf_counter() - t)
    host = tenant.hosts[0]
    Tenant.objects.filter(pk=tenant.pk).update(is_active=True)
    Tenant.clear_host_cache()
    try:
        client = Client(HTTP_HOST=host)
        client.force_login(user)
        client.get("/portfolio/")
        page_times = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as page_queries:
                t = time.perf_counter()
                response = client.get("/portfolio/")
                page_times.append(time.perf_counter() - t)
            assert response.status_code == 200, response.status_code
        sorted_pages = {}
        for sort in ("number", "title", "status"):
            client.get("/portfolio/", {"sort": sort, "page": 100})
            times = []
            for _ in range(runs):
                with CaptureQueriesContext(connection) as sort_queries:
                    t = time.perf_counter()
                    assert client.get("/portfolio/", {"sort": sort, "page": 100}).status_code == 200
                    times.append(time.perf_counter() - t)
            sorted_pages[sort] = (times, len(sort_queries))
    finally:
        Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
        Tenant.clear_host_cache()

    def pct(times, q):
        times = sorted(times)
        return round(times[min(len(times) - 1, int(q * len(times)))] * 1000, 1)

    result = {"rights": view.total, "fees_stored": stored, "store_seconds": round(store_s, 2),
              "data_queries": len(queries), "data_p50_ms": pct(data_times, 0.5), "data_p95_ms": pct(data_times, 0.95),
              "page_queries": len(page_queries), "page_p50_ms": pct(page_times, 0.5),
              "page_p95_ms": pct(page_times, 0.95), "page_bytes": len(response.content), "runs": runs,
              "sorted_pages": {sort: {"queries": n, "p50_ms": pct(times, 0.5), "p95_ms": pct(times, 0.95)}
                               for sort, (times, n) in sorted_pages.items()},
              "deadlines_next_12_months": view.deadlines_total}
    print(f"portfolio of {view.total:,} rights ({stored:,} fees stored in {store_s:.1f} s): data {len(queries)} "
          f"queries p50 {result['data_p50_ms']} ms p95 {result['data_p95_ms']} ms; whole page "
          f"{len(page_queries)} queries p50 {result['page_p50_ms']} ms p95 {result['page_p95_ms']} ms; page 100 sorted by "
          + ", ".join(f"{sort}: {v['queries']} queries p50 {v['p50_ms']} ms p95 {v['p95_ms']} ms"
                      for sort, v in result["sorted_pages"].items()), flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rights", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 rights")
    parser.add_argument("--due", type=float, action="append")
    parser.add_argument("--page-only", action="store_true", help="only the portfolio page (10,000 rights)")
    parser.add_argument("--keep", action="store_true", help="leave the bench holdings in place (to inspect)")
    parser.add_argument("--load-only", action="store_true",
                        help="only write the register rows (run it early, then measure under flock)")
    args = parser.parse_args()
    n = 100_000 if args.quick else args.rights
    if args.page_only:
        n = max(10_000, min(n, 10_000))
    call_command("migrate", verbosity=0, interactive=False)
    tenant = setup_tenant()
    with tenant_context(tenant):
        org = Organization.objects.filter(legal_name="Bench Holder Co.").first() or Organization.objects.create(
            legal_name="Bench Holder Co.", country="CN", verification_status="verified")
    print(f"preparing {n:,} register records ...", flush=True)
    record_ids = ensure_records(n)
    if args.load_only:
        print(f"{len(record_ids):,} register rows ready")
        return
    runs = [] if args.page_only else [cycle(tenant, org, record_ids, share) for share in (args.due or [0.01, 0.1])]
    page_result = page(tenant, org, record_ids)
    if not args.keep:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM rights_alert WHERE tenant_id = %s", [tenant.pk])
            cursor.execute("DELETE FROM rights_holdingfee WHERE tenant_id = %s", [tenant.pk])
            cursor.execute("DELETE FROM rights_holding WHERE tenant_id = %s", [tenant.pk])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous["page_only" if args.page_only else str(n)] = {"measured_at": timezone.now().isoformat(timespec="seconds"), "runs": runs,
                        "portfolio_page": page_result, "load_average": os.getloadavg()[0]}
    RESULTS.write_text(json.dumps(previous, indent=2) + "\n")
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
