"""Benchmark of the register gateway's cache and a live adapter's round trip.

1. Look-up from the cache: N register records fetched from the USPTO ODP adapter (fresh, bulk
   inserted); `OdpRegister.lookup(number)` of random ones, p50/p95 per look-up (no network).
2. Adapter round trip: a local HTTP server replays the recorded ODP answer (tests/rights/recorded);
   look-ups of numbers not yet cached, p50/p95 (HTTP + parse + upsert).
3. Cache hit ratio over a day's re-checks: N rights, each re-checked 1 to 4 times at random moments of
   one day (listing re-check, portfolio monitoring in other exchanges, a transfer's gate); the
   previous fetch of each happened during the day before. A re-check within `REGISTER_CACHE_SECONDS`
   of the last fetch is answered from the cache. Time is simulated (clock patched); every miss is a
   real round trip to the local server.

    python bench/register.py            # 100,000 rights
    python bench/register.py --quick    # 10,000 rights

Writes bench/results/register.json. Uses DATABASE_URL (settings `marketplace.settings.local`).
"""

import argparse
import copy
import json
import os
import random
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
os.environ.setdefault("USPTO_ODP_API_KEY", "bench-key")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from rights.models import RegisterRecord  # noqa: E402
from rights.numbers import keys_for_record  # noqa: E402
from rights.registry import http as http_module  # noqa: E402
from rights.registry.uspto_odp import OdpRegister  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "register.json"
RECORDED = json.loads((ROOT / "tests" / "rights" / "recorded" / "uspto_odp_14104993.json").read_text())
FIRST_APP = 60_000_000  # bench application numbers 60/000000 ... (no real US series)


class Replay(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        number = self.path.rstrip("/").rsplit("/", 1)[-1]
        if not number.isdigit():
            self.send_response(404)
            self.end_headers()
            return
        body = copy.deepcopy(RECORDED)
        bag = body["patentFileWrapperDataBag"][0]
        bag["applicationNumberText"] = number
        bag["applicationMetaData"]["patentNumber"] = ""
        bag["applicationMetaData"]["applicationStatusDescriptionText"] = "Docketed New Case - Ready for Examination"
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def serve():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def app_text(i: int) -> str:
    digits = f"{FIRST_APP + i:08d}"
    return f"{digits[:2]}/{digits[2:]}"


def setup(n: int):
    RegisterRecord.objects.filter(number__startswith="60/").delete()
    now = timezone.now()
    batch = []
    for i in range(n):
        number = app_text(i).replace(",", "")
        r = RegisterRecord(jurisdiction="US", kind="invention", number=number, application_number=number,
                           title=f"Bench invention {i}", title_en=f"Bench invention {i}", owner_name="Bench Corp",
                           legal_status="pending", source="uspto_odp", fetched_at=now)
        r.keys = keys_for_record(jurisdiction="US", kind="invention", number=number, application_number=number)
        batch.append(r)
        if len(batch) == 5000:
            RegisterRecord.objects.bulk_create(batch)
            batch = []
    if batch:
        RegisterRecord.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {RegisterRecord._meta.db_table}")  # as autovacuum would: GIN pending list merged


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


def cache_lookups(register, n, samples):
    """Wall time per look-up, and this process's CPU time per look-up: on a machine shared with other
    work the wall time includes waiting for a core, the CPU time does not (the database's own time is
    in the wall figure only)."""
    times, cpu = [], []
    calls = register.calls
    for i in random.sample(range(n), samples):
        t, c = time.perf_counter(), time.thread_time()
        result = register.lookup(app_text(i))
        times.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
        assert result.found
    assert register.calls == calls, "a cached look-up went to the office"
    return {"samples": samples, "p50_ms": round(pct(times, 0.5), 2), "p95_ms": round(pct(times, 0.95), 2),
            "cpu_p50_ms": round(pct(cpu, 0.5), 2), "cpu_p95_ms": round(pct(cpu, 0.95), 2)}


def round_trips(register, n, samples):
    times = []
    for j in range(samples):
        t = time.perf_counter()
        result = register.lookup(app_text(n + j))
        times.append(time.perf_counter() - t)
        assert result.found
    return {"samples": samples, "calls": register.calls, "p50_ms": round(pct(times, 0.5), 2),
            "p95_ms": round(pct(times, 0.95), 2)}


def day_of_rechecks(register, n):
    """Simulated clock: the previous fetches spread over yesterday, 1-4 re-checks per right today."""
    ttl = int(getattr(settings, "REGISTER_CACHE_SECONDS", 86400))
    start = timezone.now()
    rng = random.Random(7)
    ids = list(RegisterRecord.objects.filter(number__startswith="60/").order_by("id").values_list("id", "number"))[:n]
    # Yesterday's fetch times, spread over the day.
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.7)")
        cursor.execute(f"UPDATE {RegisterRecord._meta.db_table} SET fetched_at = %s - random() * interval '1 day' "
                       "WHERE number LIKE '60/%%'", [start])
    events = []
    for _pk, number in ids:
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
            events.append((rng.uniform(0, 86400), number))
    events.sort()
    clock = {"now": start}

    class Clock:
        @staticmethod
        def now():
            return clock["now"]

        localdate = staticmethod(timezone.localdate)

    http_module.timezone = Clock
    calls_before = register.calls
    t0 = time.perf_counter()
    try:
        for offset, number in events:
            clock["now"] = start + timedelta(seconds=offset)
            register.get(jurisdiction="US", number=number)
    finally:
        http_module.timezone = timezone
    elapsed = time.perf_counter() - t0
    misses = register.calls - calls_before
    return {"rights": len(ids), "rechecks": len(events), "office_calls": misses,
            "hit_ratio": round(1 - misses / len(events), 4), "cache_seconds": ttl, "seconds": round(elapsed, 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rights", type=int, default=None)
    args = parser.parse_args()
    n = args.rights or (10_000 if args.quick else 100_000)
    call_command("migrate", verbosity=0)
    cache.clear()
    server = serve()
    settings.USPTO_ODP_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.REGISTER_RATE_PER_MINUTE = {"uspto_odp": 0}  # the local server has no limit
    print(f"setting up {n:,} cached register records ...", flush=True)
    setup(n)
    register = OdpRegister()
    results = {"rights": n, "load_average_at_start": os.getloadavg()[0]}
    results["cache_lookup"] = cache_lookups(register, n, 1000)
    c = results["cache_lookup"]
    print(f"look-up from cache: p50 {c['p50_ms']} ms, p95 {c['p95_ms']} ms (CPU of this process: p50 {c['cpu_p50_ms']} ms, "
          f"p95 {c['cpu_p95_ms']} ms; load average {results['load_average_at_start']:.1f})")
    results["round_trip"] = round_trips(register, n, 200)
    print(f"adapter round trip (local recorded server): p50 {results['round_trip']['p50_ms']} ms, "
          f"p95 {results['round_trip']['p95_ms']} ms")
    results["day_of_rechecks"] = day_of_rechecks(OdpRegister(), n)
    d = results["day_of_rechecks"]
    print(f"a day's re-checks of {d['rights']:,} rights: {d['rechecks']:,} re-checks, {d['office_calls']:,} office "
          f"calls, cache hit ratio {d['hit_ratio']:.1%} ({d['seconds']} s)")
    RegisterRecord.objects.filter(number__startswith="60/").delete()
    server.shutdown()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
