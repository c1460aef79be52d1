"""Benchmark of the trade's write path: how many orders a day one machine's database and web tier take.

In a tenant of its own (`bench-orders`), creates N published listings with sellers and buyers, then runs
each order through the money-moving services the website calls — place, seller confirms, payment started,
the provider's "succeeded" event applied (ledger entries, state, audit, notifications, outbox) — first one
at a time, then from T threads at once (each its own database connection, like web processes). Then it
generates the transfer papers (PDF) of a sample of the funded orders: the worker's heaviest step.

Prints per-step p50/p95 and the throughput, and writes bench/results/orders.json:

    python bench/orders.py                 # 300 orders, 4 threads, papers for 30
    python bench/orders.py --quick         # 60 orders
    python bench/orders.py --orders 1000 --threads 8

Uses DATABASE_URL (settings `marketplace.settings.test`); the bench tenant's rows are left behind (its own
tenant, new each run).
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from core.models import Tenant  # noqa: E402
from core.tenancy import tenant_context  # noqa: E402
from escrow import services as s  # noqa: E402
from escrow.models import OrderState  # noqa: E402
from tests.factories import UserFactory, deliver_payment, escrow_parties  # noqa: E402
from transfers.services import transfer_prepare  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "orders.json"
STEPS = ("place", "confirm", "pay_start", "pay_apply")


def percentile(values, p):
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000, 2) if values else None


def new_tenant():
    slug = f"bench-orders-{uuid.uuid4().hex[:6]}"
    return Tenant.objects.create(slug=slug, name=slug, name_en=slug, hosts=[f"{slug}.invalid"], currency="CNY")


def trade(parties, timings):
    listing, seller, buyer = parties
    t0 = time.perf_counter()
    order = s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    t1 = time.perf_counter()
    s.order_seller_confirm(order=order, actor=seller)
    t2 = time.perf_counter()
    payment = s.payment_start(order=order, actor=buyer, provider="simulated")
    t3 = time.perf_counter()
    deliver_payment(payment)
    t4 = time.perf_counter()
    for step, seconds in zip(STEPS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
        timings[step].append(seconds)
    return order


def run_sequential(tenant, parties):
    timings = {step: [] for step in STEPS}
    orders, queries = [], []
    started = time.perf_counter()
    with tenant_context(tenant):
        for p in parties:
            reset_queries()  # the query log keeps 9,000 entries: count each order on a fresh one
            with CaptureQueriesContext(connection) as captured:
                orders.append(trade(p, timings))
            queries.append(len(captured.captured_queries))
    timings["queries"] = queries
    return orders, timings, time.perf_counter() - started


def run_threads(tenant, parties, threads):
    timings = {step: [] for step in STEPS}
    lock = threading.Lock()
    chunks = [parties[i::threads] for i in range(threads)]
    errors = []

    def work(chunk):
        local = {step: [] for step in STEPS}
        try:
            with tenant_context(tenant):
                for p in chunk:
                    trade(p, local)
        except Exception as exc:  # noqa: BLE001 - reported
            errors.append(repr(exc))
        finally:
            connection.close()
        with lock:
            for step in STEPS:
                timings[step].extend(local[step])

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(c,)) for c in chunks]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return timings, time.perf_counter() - started, errors


def summary(timings, wall, n):
    per_order = [sum(parts) for parts in zip(*(timings[s] for s in STEPS), strict=False)]
    queries = timings.get("queries") or []
    return {
        "queries_per_order": statistics.median(queries) if queries else None,
        "orders": n, "wall_seconds": round(wall, 2), "orders_per_second": round(n / wall, 1),
        "orders_per_day_at_this_rate": int(n / wall * 86400),
        "per_order_ms": {"p50": percentile(per_order, 50), "p95": percentile(per_order, 95)},
        "steps_ms": {step: {"p50": percentile(timings[step], 50), "p95": percentile(timings[step], 95)}
                     for step in STEPS},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--papers", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="60 orders, papers for 10")
    args = parser.parse_args()
    n, papers_n = (60, 10) if args.quick else (args.orders, args.papers)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    tenant = new_tenant()
    UserFactory.reset_sequence(int(time.time() * 1000) % 10**12)  # users are platform-wide: new e-mails each run
    print(f"Preparing {2 * n} listings with sellers and buyers in {tenant.slug} ...", flush=True)
    with tenant_context(tenant):
        sequential_parties = [escrow_parties() for _ in range(n)]
        threaded_parties = [escrow_parties() for _ in range(n)]
    orders, seq_timings, seq_wall = run_sequential(tenant, sequential_parties)
    sequential = summary(seq_timings, seq_wall, n)
    thr_timings, thr_wall, errors = run_threads(tenant, threaded_parties, args.threads)
    threaded = summary(thr_timings, thr_wall, len(thr_timings["place"]))
    threaded["threads"] = args.threads
    threaded["errors"] = errors[:5]
    # the worker's heaviest step: the papers (three PDFs) of a funded order
    paper_times = []
    with tenant_context(tenant):
        for order in orders[:papers_n]:
            order.refresh_from_db()
            assert order.state == OrderState.FUNDED, order.state
            t0 = time.perf_counter()
            transfer_prepare(order=order)
            paper_times.append(time.perf_counter() - t0)
    papers = {"orders": len(paper_times), "p50_ms": percentile(paper_times, 50), "p95_ms": percentile(paper_times, 95),
              "orders_per_worker_process_per_day": int(86400 / statistics.mean(paper_times)) if paper_times else None}
    result = {"measured_at": timezone.now().isoformat(timespec="seconds"), "cpus": os.cpu_count(),
              "sequential": sequential, "threaded": threaded, "papers": papers,
              "database": connection.settings_dict["NAME"]}
    print(f"one at a time: {sequential['orders_per_second']} orders/s (place+confirm+pay), "
          f"p50 {sequential['per_order_ms']['p50']} ms, p95 {sequential['per_order_ms']['p95']} ms per order, "
          f"{sequential['queries_per_order']} queries per order")
    print(f"{args.threads} threads:     {threaded['orders_per_second']} orders/s, "
          f"p95 {threaded['per_order_ms']['p95']} ms per order, errors {len(errors)}")
    print(f"papers:        p50 {papers['p50_ms']} ms, p95 {papers['p95_ms']} ms per order "
          f"(~{papers['orders_per_worker_process_per_day']:,} orders/day per worker process)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
