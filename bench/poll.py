"""Benchmark of one office poll cycle.

Creates N open filings (bulk insert, in a tenant of its own, `bench-poll`) of which a share is due
(next_poll_at in the past; the others are due later), with the simulated office's cases still
undecided, then runs ONE poll cycle (`transfer_poll_due`) and prints its wall time and query count.
The cost must grow with the number of due filings, not with all open ones.

    python bench/poll.py                  # 100,000 filings, 1% and 10% due
    python bench/poll.py --due 0.01       # one share only
    python bench/poll.py --quick          # 10,000 filings

Writes bench/results/poll.json. Uses DATABASE_URL (settings `marketplace.settings.local` unless
DJANGO_SETTINGS_MODULE is set), else the embedded PostgreSQL of `make run` (migrated); the bench tenant's
rows are replaced on each run.
"""

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.local")
if not os.environ.get("DATABASE_URL"):  # same database as `make run`: the embedded PostgreSQL
    import importlib.util

    _spec = importlib.util.spec_from_file_location("ipex_dev", ROOT / "bin" / "dev.py")
    _dev = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_dev)
    os.environ["DATABASE_URL"] = _dev.database_url()

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Organization, User  # noqa: E402
from core.models import Tenant  # noqa: E402
from core.tenancy import tenant_context  # noqa: E402
from escrow.models import Order  # noqa: E402
from listings.models import Listing  # noqa: E402
from transfers.models import FilingStatus, SimulatedOfficeCase, TransferFiling  # noqa: E402
from transfers.offices import get_gateway  # noqa: E402
from transfers.services import transfer_poll_due  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "poll.json"
ORDERS = 50  # filings are spread over a few orders (attempts 1..n): the poller never touches pending orders
PREFIX = "BENCH-"


def setup_tenant():
    tenant, _ = Tenant.objects.get_or_create(
        slug="bench-poll", defaults={"name": "Bench poll", "name_en": "Bench poll", "hosts": ["bench-poll.invalid"],
                                     "is_active": False})
    return tenant


def reset(tenant):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM transfers_transferfiling WHERE tenant_id = %s", [tenant.pk])
        cursor.execute("DELETE FROM transfers_simulatedofficecase WHERE reference LIKE %s", [PREFIX + "%"])


def orders_for(tenant) -> list[int]:
    existing = list(Order.objects.filter(reference__startswith="BENCH").order_by("pk").values_list("pk", flat=True))
    if len(existing) >= ORDERS:
        return existing[:ORDERS]
    user, _ = User.objects.get_or_create(email="bench-poll@ipex.local", defaults={"full_name": "Bench"})
    seller = Organization.objects.create(legal_name="Bench Seller Co.", country="CN", verification_status="verified")
    buyer = Organization.objects.create(legal_name="Bench Buyer Ltd", country="CN", verification_status="verified")
    ids = []
    for n in range(len(existing), ORDERS):
        listing = Listing.objects.create(seller_org=seller, created_by=user, title=f"Bench listing {n}",
                                         price_minor=100000, currency="CNY", state=Listing.State.RESERVED)
        order = Order.objects.create(reference=f"BENCH-{n:05d}", listing=listing, buyer=user, buyer_org=buyer,
                                     seller_org=seller, state="transfer_filed", currency="CNY", price_minor=100000,
                                     deal_type="assignment")
        ids.append(order.pk)
    return existing + ids


def populate(tenant, *, total: int, due_share: float) -> int:
    order_ids = orders_for(tenant)
    now = timezone.now()
    every = max(1, round(1 / due_share)) if due_share > 0 else 0
    filings, cases, due = [], [], 0
    per_order = -(-total // len(order_ids))
    for i in range(total):
        is_due = bool(every) and i % every == 0
        due += is_due
        reference = f"{PREFIX}{i:07d}"
        # Not-due filings are spread over the next month, due ones over the last hour.
        next_poll = now - timedelta(seconds=1 + (i % 3600)) if is_due else now + timedelta(minutes=5 + i % 43200)
        filings.append(TransferFiling(
            tenant=tenant, order_id=order_ids[i // per_order], attempt=1 + i % per_order, office="cnipa_patent",
            adapter="simulated", status=FilingStatus.FILED, reference=reference, filed_at=now - timedelta(days=2),
            expected_answer_at=now + timedelta(days=28), next_poll_at=next_poll, poll_attempts=i % 4))
        cases.append(SimulatedOfficeCase(office="cnipa_patent", reference=reference, received_at=now - timedelta(days=2),
                                         decide_at=now + timedelta(days=365)))
    with transaction.atomic():
        TransferFiling.objects.bulk_create(filings, batch_size=5000)
        SimulatedOfficeCase.objects.bulk_create(cases, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE transfers_transferfiling")
        cursor.execute("ANALYZE transfers_simulatedofficecase")
    return due


def claim_plan(tenant) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT id FROM transfers_transferfiling WHERE tenant_id = %s AND status IN ('filed', "
            "'correction_requested') AND next_poll_at <= now() ORDER BY next_poll_at, id LIMIT 500 "
            "FOR UPDATE SKIP LOCKED", [tenant.pk])
        return "\n".join(row[0] for row in cursor.fetchall())


def run(total: int, due_share: float) -> dict:
    tenant = setup_tenant()
    with tenant_context(tenant):
        reset(tenant)
        t0 = time.perf_counter()
        due = populate(tenant, total=total, due_share=due_share)
        setup_s = time.perf_counter() - t0
        plan = claim_plan(tenant)
        get_gateway("simulated")  # imports outside the measured cycle
        with CaptureQueriesContext(connection) as queries:
            t1 = time.perf_counter()
            stats = transfer_poll_due()
            elapsed = time.perf_counter() - t1
        still_due = TransferFiling.objects.filter(status=FilingStatus.FILED, next_poll_at__lte=timezone.now()).count()
    result = {
        "open_filings": total, "due_share": due_share, "due": due, "polled": stats.claimed,
        "pending_after": stats.pending, "still_due_after": still_due,
        "seconds": round(elapsed, 3), "queries": len(queries), "batches": stats.batches,
        "ms_per_due_filing": round(elapsed * 1000 / max(due, 1), 3), "setup_seconds": round(setup_s, 1),
        "index_used": "transferfiling_due" in plan,
    }
    print(f"{total:>7} open filings, {due_share:>5.1%} due ({due:>6}): one poll cycle {elapsed:7.3f} s, "
          f"{len(queries):>4} queries, {stats.batches} batches, {result['ms_per_due_filing']} ms per due filing"
          f"{'' if result['index_used'] else '  (WARNING: partial index not used)'}", flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--filings", type=int, default=100_000)
    parser.add_argument("--due", type=float, action="append", help="share of filings due (repeatable)")
    parser.add_argument("--quick", action="store_true", help="10,000 filings")
    parser.add_argument("--keep", action="store_true", help="leave the bench rows in the database")
    args = parser.parse_args()
    total = 10_000 if args.quick else args.filings
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)  # a fresh database works too
    shares = args.due or [0.01, 0.1]
    runs = [run(total, share) for share in shares]
    if not args.keep:
        tenant = setup_tenant()
        with tenant_context(tenant):
            reset(tenant)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    key = f"{total}"
    previous[key] = {"measured_at": timezone.now().isoformat(timespec="seconds"), "runs": runs,
                     "database": connection.settings_dict["NAME"]}
    RESULTS.write_text(json.dumps(previous, indent=2) + "\n")
    print(f"written {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
