"""Benchmark of demand matching and auction bidding at scale.

Generates, in a tenant of its own (`bench-match`): N published listings (default 1,000,000) and W open
wants (default 100,000), with IPC classes drawn from ~600 subclasses with a skewed (Zipf-like)
popularity, groups and symbols, Chinese and English titles, keywords, prices and budgets. Rows go in
through COPY and one INSERT ... SELECT that computes the search documents in PostgreSQL.

Then it measures, at the database through the application's own code:
- a new want matched against the N listings (`demand.matching.want_candidates`: bounded GIN look-ups,
  SQL ranking, Python ranking and explanations), p50/p95 over --samples wants;
- a newly published listing matched against the W wants (`listing_candidates`), p50/p95;
- an auction bid (`demand.auctions.bid_place`) with 50 concurrent bidders, each in its own process
  with its own database connection (as web workers are; threads of one process would measure the
  interpreter lock), each bidding the current minimum repeatedly: p50/p95 of every call (accepted
  or refused as too low) and of the accepted ones; then that exactly one bid is highest and the
  deposits balance. Two modes: "burst" (all 50 fire at once, no pause: every call queues behind the
  others for the auction row and for the machine's cores) and "live"
  (each bidder pauses 0..--think-ms between bids, as people watching the page do).

    DJANGO_SETTINGS_MODULE=marketplace.settings.test DATABASE_URL=postgres://... python bench/match.py
    python bench/match.py --quick              # 20,000 listings, 5,000 wants
    python bench/match.py --n 200000 --wants 100000
    python bench/match.py --reuse              # keep the generated rows of the last run
    python bench/match.py --bids-only          # only the bids (1,000 listings), bench/results/match-bids.json

Prints the figures and writes bench/results/match.json. Aims: matching p95 ≤ 200 ms each way, a bid
p95 ≤ 50 ms with 50 concurrent bidders.
"""

import argparse
import io
import json
import os
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Membership, Organization, TenantRole, User  # noqa: E402
from core.models import Tenant  # noqa: E402
from core.tenancy import tenant_context  # noqa: E402
from listings.search import class_keys, class_token  # noqa: E402
from listings.search_text import document_text  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "match.json"
HOST = "bench-match.test"
EN = ["battery", "lidar", "photovoltaic", "hydrogen", "robot", "drone", "sensor", "antenna", "semiconductor",
      "graphene", "vaccine", "antibody", "genome", "imaging", "wireless", "charging", "blockchain", "codec",
      "turbine", "catalyst", "membrane", "laser", "optical", "microfluidic", "polymer", "alloy", "coating",
      "inverter", "motor", "gearbox", "electrode", "electrolyte", "separator", "encryption", "compression"]
CN = ["锂电池", "固态电解质", "无线充电", "图像识别", "语音识别", "机器视觉", "激光雷达", "光伏组件", "储能系统",
      "氢燃料电池", "电机控制", "工业机器人", "无人机", "智能电网", "区块链", "深度学习", "边缘计算", "传感器",
      "基因测序", "抗体药物", "医疗影像", "石墨烯", "碳纤维", "污水处理", "自动驾驶", "芯片封装", "光纤通信"]
SUBJECT_EN = ["method", "system", "device", "apparatus", "circuit", "assembly", "module", "process"]
SUBJECT_CN = ["检测方法", "控制方法", "制备方法", "装置", "系统", "设备", "电路", "组件"]


def subclass_pool(rng, size=600):
    pool = set()
    while len(pool) < size:
        pool.add(f"{rng.choice('ABCDEFGH')}{rng.randint(1, 99):02d}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}")
    pool = sorted(pool)
    rng.shuffle(pool)
    weights = [1 / (i + 1) ** 0.8 for i in range(len(pool))]  # a few very common subclasses, a long tail
    return pool, weights


def symbol(rng, sub):
    return f"{sub} {rng.randint(1, 40)}/{rng.choice([0, 2, 4, 6, 8, 10, 12, 13, 14, 16, 18, 20, 22, 24, 26])}"


def pick_classes(rng, pool, weights, kind):
    if kind == "trademark":
        return [f"{rng.randint(1, 45):02d}"]
    return [symbol(rng, s) for s in rng.choices(pool, weights=weights, k=rng.choice([1, 1, 2, 3]))]


def title_for(rng, cn: bool):
    if cn:
        return "一种" + rng.choice(CN) + rng.choice(CN) + rng.choice(SUBJECT_CN)
    return f"{rng.choice(EN).capitalize()} {rng.choice(EN)} {rng.choice(SUBJECT_EN)}"


def setup(n_bidders=50):
    tenant, _ = Tenant.objects.update_or_create(
        slug="bench-match", defaults=dict(name="撮合基准交易所", name_en="Match Bench Exchange", hosts=[HOST],
                                          currency="CNY", languages=["zh-hans", "en"]))
    Tenant.clear_host_cache()
    with tenant_context(tenant):
        def member(email, org_name):
            user = User.objects.filter(email=email).first() or User.objects.create_user(
                email=email, password="bench-pass-123", language="en")  # noqa: S106
            org, _ = Organization.objects.get_or_create(legal_name=org_name,
                                                        defaults={"verification_status": "verified"})
            Membership.objects.get_or_create(user=user, organization=org, defaults={"is_default": True})
            for role in ("buyer", "seller"):
                TenantRole.objects.get_or_create(user=user, role=role)
            return user, org

        seller = member("bench-match-seller@ipex.local", "撮合基准卖方")
        buyer = member("bench-match-buyer@ipex.local", "撮合基准买方")
        bidders = [member(f"bench-bidder-{i}@ipex.local", f"Bench bidder {i}")[0] for i in range(n_bidders)]
    return tenant, seller, buyer, bidders


def clear_demand(tenant):
    with connection.cursor() as cur:
        cur.execute("UPDATE demand_auction SET high_bid_id = NULL, order_id = NULL WHERE tenant_id = %s", [tenant.pk])
        cur.execute("DELETE FROM demand_bid WHERE tenant_id = %s", [tenant.pk])
        cur.execute("DELETE FROM demand_auction WHERE tenant_id = %s", [tenant.pk])
        cur.execute("DELETE FROM demand_match WHERE tenant_id = %s", [tenant.pk])


def load_listings(n, tenant, org, user, pool, weights):
    started = time.monotonic()
    clear_demand(tenant)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM listings_listing WHERE tenant_id = %s", [tenant.pk])
        cur.execute("""CREATE TEMP TABLE bench_stage (title text, price_minor bigint, kind text, jurisdiction text,
            class_keys text[], deal_type text, published_at timestamptz, doc_a text, doc_c text)""")
    batch = 100_000
    today = date.today()
    for offset in range(0, n, batch):
        rng = random.Random(1000 + offset)
        size = min(batch, n - offset)
        buf = io.StringIO()
        for _i in range(size):
            kind = rng.choice(["invention"] * 6 + ["utility_model"] * 2 + ["trademark"] * 2)
            jurisdiction = "CN" if rng.random() < 0.75 else rng.choice(["US", "EP"])
            cn = jurisdiction == "CN"
            title = title_for(rng, cn)
            classes = pick_classes(rng, pool, weights, kind)
            keys = class_keys(kind, classes)
            abstract = " ".join(rng.choice(EN if not cn else CN) for _w in range(8))
            price = rng.choice([1, 2, 3, 5, 8, 12, 20, 35, 50, 80, 120]) * 1_000_000
            published = today - timedelta(days=rng.randint(0, 1500))
            doc_c = document_text(abstract) + " " + " ".join(class_token(k) for k in keys)
            row = [title, price, kind, jurisdiction, "{" + ",".join(f'"{k}"' for k in keys) + "}",
                   rng.choice(["assignment"] * 3 + ["exclusive_licence", "non_exclusive_licence"]),
                   published.isoformat(), document_text(title), doc_c]
            buf.write("\t".join(str(f) for f in row) + "\n")
        buf.seek(0)
        with connection.cursor() as cur:
            cur.execute("TRUNCATE bench_stage")
            cur.cursor.copy_expert("COPY bench_stage FROM STDIN", buf)
            cur.execute("""
                INSERT INTO listings_listing (tenant_id, seller_org_id, created_by_id, title, description, price_minor,
                  currency, deal_type, licence_territory, industry_tags, state, featured, rejection_reason,
                  published_at, created_at, updated_at, margin_minor, verification, lapsed_reason,
                  kind, jurisdiction, owner_name, rights_count, class_keys, numbers, search_document)
                SELECT %s, %s, %s, title, '', price_minor, 'CNY', deal_type, '', '{}', 'published', false, '',
                  published_at, now(), now(), 0, '{}', '', kind, jurisdiction, 'Bench', 1, class_keys, '{}',
                  setweight(to_tsvector('simple', doc_a), 'A') || setweight(to_tsvector('simple', doc_c), 'C')
                FROM bench_stage""", [tenant.pk, org.pk, user.pk])
        print(f"  listings {offset + size:,} / {n:,} ({time.monotonic() - started:.0f} s)", flush=True)
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_stage")
        cur.execute("VACUUM ANALYZE listings_listing")
    return time.monotonic() - started


def load_wants(w, tenant, org, user, pool, weights):
    from demand.classes import keys as want_keys

    started = time.monotonic()
    rng = random.Random(99)
    deadline = date.today() + timedelta(days=90)
    with connection.cursor() as cur:
        cur.execute("DELETE FROM demand_match WHERE tenant_id = %s", [tenant.pk])
        cur.execute("DELETE FROM demand_want WHERE tenant_id = %s", [tenant.pk])
        cur.execute("""CREATE TEMP TABLE want_stage (title text, keywords text, classes text[], class_keys text[],
            kinds text[], deal_type text, budget bigint, doc text)""")
    buf = io.StringIO()
    for _i in range(w):
        cn = rng.random() < 0.6
        title = title_for(rng, cn)
        words = rng.sample(CN if cn else EN, 2)
        keywords = " ".join(words)
        kind = rng.choice(["invention"] * 7 + ["trademark"] * 2 + [""])
        if kind == "trademark":
            classes = [f"{rng.randint(1, 45):02d}"]
        else:
            subs = rng.choices(pool, weights=weights, k=rng.choice([1, 1, 2]))
            classes = [s if rng.random() < 0.6 else symbol(rng, s).replace(" ", "") for s in subs]
        row = [title, keywords, "{" + ",".join(f'"{c}"' for c in classes) + "}",
               "{" + ",".join(f'"{k}"' for k in want_keys(classes)) + "}", "{" + (kind or "") + "}" if kind else "{}",
               rng.choice(["any", "any", "assignment", "licence"]), rng.choice([5, 10, 20, 50, 100]) * 1_000_000,
               document_text(title, keywords) + " " + " ".join(class_token(k) for k in want_keys(classes))]
        buf.write("\t".join(str(f) for f in row) + "\n")
    buf.seek(0)
    with connection.cursor() as cur:
        cur.cursor.copy_expert("COPY want_stage FROM STDIN", buf)
        cur.execute("""
            INSERT INTO demand_want (tenant_id, buyer_org_id, created_by_id, title, keywords, description, classes,
              class_keys, kinds, territories, deal_type, budget_min_minor, budget_max_minor, currency, deadline,
              anonymous, state, search_document, created_at)
            SELECT %s, %s, %s, title, keywords, '', classes, class_keys, kinds, '{}', deal_type, NULL, budget, 'CNY',
              %s, false, 'open', setweight(to_tsvector('simple', doc), 'A'), now() - random() * interval '60 days'
            FROM want_stage""", [tenant.pk, org.pk, user.pk, deadline])
        cur.execute("DROP TABLE want_stage")
        cur.execute("VACUUM ANALYZE demand_want")
    print(f"  wants {w:,} ({time.monotonic() - started:.0f} s)", flush=True)
    return time.monotonic() - started


def percentile(values, p):
    values = sorted(values)
    if not values:
        return 0.0
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def stats(values):
    return {"n": len(values), "p50": round(percentile(values, 50), 2), "p95": round(percentile(values, 95), 2),
            "max": round(max(values), 2) if values else 0}


def bench_want_matching(tenant, buyer_org, buyer, pool, weights, samples):
    from demand.matching import want_candidates
    from demand.models import Want
    from demand.services import WantInput

    rng = random.Random(5)
    times, found = [], []
    for _i in range(samples):
        cn = rng.random() < 0.6
        subs = rng.choices(pool, weights=weights, k=rng.choice([1, 2]))
        classes = ", ".join(s if rng.random() < 0.5 else symbol(rng, s) for s in subs)
        data = WantInput(title=title_for(rng, cn), keywords=" ".join(rng.sample(CN if cn else EN, 2)), classes=classes,
                         kinds=rng.choice([[], ["invention"]]), deal_type=rng.choice(["any", "assignment"]),
                         budget_max_minor=rng.choice([10, 50, 100]) * 1_000_000,
                         territories=rng.choice([[], ["CN"]]), deadline=date.today() + timedelta(days=30))
        want = Want(tenant=tenant, buyer_org=buyer_org, created_by=buyer, currency="CNY", **data.cleaned())
        started = time.perf_counter()
        result = want_candidates(want)
        times.append((time.perf_counter() - started) * 1000)
        found.append(len(result))
    return times, found


def bench_listing_matching(tenant, samples):
    from demand.matching import listing_candidates
    from listings.models import Listing

    ids = list(Listing.objects.filter(state="published").order_by("?").values_list("pk", flat=True)[:samples])
    times, found = [], []
    for pk in ids:
        listing = Listing.objects.get(pk=pk)
        started = time.perf_counter()
        result = listing_candidates(listing)
        times.append((time.perf_counter() - started) * 1000)
        found.append(len(result))
    return times, found


def _bidder_process(tenant_pk, auction_pk, user_pk, rounds, think_ms, barrier, out):
    """One bidder: its own process and database connection (forked after the parent closed its own)."""
    from django.db import connection as conn

    from core.errors import DomainError
    from demand.auctions import bid_place
    from demand.models import Auction

    counted = [0]

    def count(execute, sql, params, many, context):
        counted[0] += 1
        return execute(sql, params, many, context)

    all_ms, accepted_ms, queries, errors = [], [], [], []
    try:
        tenant = Tenant.objects.get(pk=tenant_pk)
        user = User.objects.get(pk=user_pk)
        pause = random.Random(user_pk)
        with tenant_context(tenant):
            current = Auction.objects.get(pk=auction_pk)
            barrier.wait(timeout=120)
            for _r in range(rounds):
                if think_ms:
                    time.sleep(pause.uniform(0, think_ms) / 1000)
                amount = Auction.objects.filter(pk=auction_pk).get().minimum_bid_minor
                counted[0] = 0
                ok = True
                started = time.perf_counter()
                try:
                    with conn.execute_wrapper(count):
                        bid_place(auction=current, actor=user, amount_minor=amount)
                except DomainError as exc:  # too low (someone was faster) is expected
                    ok = False
                    if "at least" not in str(exc) and "first bid" not in str(exc):
                        errors.append(str(exc))
                elapsed = (time.perf_counter() - started) * 1000
                all_ms.append(elapsed)
                if ok:
                    accepted_ms.append(elapsed)
                    queries.append(counted[0])
    except Exception as exc:  # noqa: BLE001 - reported by the parent
        errors.append(repr(exc))
    finally:
        conn.close()
        out.put((all_ms, accepted_ms, queries, errors))


def bench_bids(tenant, seller, bidders, rounds, think_ms=0):
    """len(bidders) bidders, each in its own process with its own database connection (as web workers
    are), each bidding the current minimum `rounds` times; with `think_ms`, each waits a random
    0..think_ms between bids (people reading the page: "live"), else none ("burst": all at once)."""
    import multiprocessing

    from django.db import connections

    from demand.auctions import auction_create
    from demand.models import Auction, Bid
    from escrow import ledger
    from escrow.selectors import deposits_for
    from escrow.services import deposit_pay_start, payment_event_apply
    from listings.models import Listing

    seller_user, seller_org = seller
    taken = Auction.objects.filter(state="open").values("listing_id")
    listing = Listing.objects.filter(state="published").exclude(pk__in=taken).order_by("pk").first()
    now = timezone.now()
    auction = auction_create(listing=listing, actor=seller_user, start_price_minor=1_000_000, reserve_minor=0,
                             increment_minor=10_000, deposit_minor=100_000, starts_at=now - timedelta(seconds=1),
                             ends_at=now + timedelta(hours=1), extension_seconds=0)
    for user in bidders:
        org = user.memberships.first().organization
        payment = deposit_pay_start(subject=auction.subject, payer_org=org, amount_minor=100_000, currency="CNY",
                                    actor=user)
        payment_event_apply(provider="simulated", event_id=f"bench-{auction.pk}-{payment.pk}", kind="payment.succeeded",
                            payment_id=payment.pk, amount_minor=payment.amount_minor, currency="CNY")
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(bidders))
    out = ctx.Queue()
    connections.close_all()  # each child opens its own connection
    load_before = [round(x, 2) for x in os.getloadavg()]
    procs = [ctx.Process(target=_bidder_process, args=(tenant.pk, auction.pk, u.pk, rounds, think_ms, barrier, out))
             for u in bidders]
    started = time.perf_counter()
    for p in procs:
        p.start()
    all_ms, accepted_ms, queries, errors = [], [], [], []
    for _p in procs:
        a, b, q, e = out.get(timeout=900)
        all_ms += a
        accepted_ms += b
        queries += q
        errors += e
    for p in procs:
        p.join()
    wall = time.perf_counter() - started
    load_after = [round(x, 2) for x in os.getloadavg()]
    auction.refresh_from_db()
    bids = list(Bid.objects.filter(auction=auction).order_by("placed_at", "pk"))
    rising = all(b.amount_minor >= a.amount_minor + 10_000 for a, b in zip(bids, bids[1:], strict=False))
    checks = {
        "bids_accepted": len(bids), "one_highest": auction.high_bid_id == bids[-1].pk if bids else False,
        "price_is_highest_bid": bool(bids) and auction.current_price_minor == max(b.amount_minor for b in bids),
        "increments_hold": rising, "unexpected_errors": errors[:5],
        "deposits_held_minor": sum(ledger.deposit_balance(d) for d in deposits_for(auction.subject)),
        "deposits": len(bidders),
        "entries_unbalanced": len(ledger.entries_unbalanced()),
        "queries_per_accepted_bid": sorted(set(queries)),
        "wall_seconds": round(wall, 2), "bids_per_second": round(len(all_ms) / wall, 1),
        "load_average_before": load_before, "load_average_after": load_after,
    }
    return all_ms, accepted_ms, checks


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="listings")
    parser.add_argument("--wants", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="20,000 listings, 5,000 wants")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=10, help="bids per bidder")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--new-wants", action="store_true", help="with --reuse: regenerate the wants only")
    parser.add_argument("--think-ms", type=int, default=2000, help="live mode: bidders pause 0..this between bids")
    parser.add_argument("--bids-only", action="store_true",
                        help="only the auction bids, on a small listings table (--n defaults to 1,000, no wants)")
    parser.add_argument("--bidders", type=int, default=50, help="concurrent bidders (one process each)")
    parser.add_argument("--modes", default="burst,live", help="burst, live or both")
    args = parser.parse_args()
    n, w = (20_000, 5_000) if args.quick else (args.n, args.wants)
    if args.bids_only:
        n, w = (args.n if args.n != parser.get_default("n") else 1_000), 0
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    tenant, seller, buyer, bidders = setup(args.bidders)
    pool, weights = subclass_pool(random.Random(3))
    result = {"listings": n, "wants": w}
    with tenant_context(tenant):
        from demand.models import Want
        from listings.models import Listing

        clear_demand(tenant)
        if not (args.reuse and Listing.objects.count() == n):
            print(f"Generating {n:,} published listings in tenant bench-match ...", flush=True)
            result["load_listings_seconds"] = round(load_listings(n, tenant, seller[1], seller[0], pool, weights), 1)
        if w and not (args.reuse and Want.objects.count() == w and not args.new_wants):
            print(f"Generating {w:,} open wants ...", flush=True)
            result["load_wants_seconds"] = round(load_wants(w, tenant, buyer[1], buyer[0], pool, weights), 1)
        if args.bids_only:
            run_bids(args, result, tenant, seller, bidders)
            finish(result, RESULTS.with_name("match-bids.json"))
            return
        result["load_average_before_matching"] = [round(x, 1) for x in os.getloadavg()]
        print(f"Matching {args.samples} new wants against {n:,} listings ...", flush=True)
        times, found = bench_want_matching(tenant, buyer[1], buyer[0], pool, weights, args.samples)
        result["want_vs_listings_ms"] = stats(times) | {"median_matches": sorted(found)[len(found) // 2]}
        print(f"Matching {args.samples} new listings against {w:,} wants ...", flush=True)
        times, found = bench_listing_matching(tenant, args.samples)
        result["listing_vs_wants_ms"] = stats(times) | {"median_matches": sorted(found)[len(found) // 2]}
        run_bids(args, result, tenant, seller, bidders)
    finish(result)


def run_bids(args, result, tenant, seller, bidders):
    for mode, think in (("burst", 0), ("live", args.think_ms)):
        if mode not in args.modes.split(","):
            continue
        print(f"Auction ({mode}): {len(bidders)} concurrent bidders (processes) x {args.rounds} bids ...", flush=True)
        all_ms, accepted_ms, checks = bench_bids(tenant, seller, bidders, args.rounds, think_ms=think)
        result[f"bid_{mode}"] = {"think_ms_max": think, "all_calls_ms": stats(all_ms),
                                 "accepted_ms": stats(accepted_ms), "checks": checks}
        print(json.dumps(result[f"bid_{mode}"], ensure_ascii=False), flush=True)


def finish(result, path=RESULTS):
    result["aim"] = {"matching_p95_ms": 200, "bid_p95_ms": 50}
    result["database"] = connection.settings_dict["NAME"]
    result["cpus"] = os.cpu_count()
    result["load_average_1_5_15"] = [round(x, 1) for x in os.getloadavg()]  # the machine is shared: read with it
    print(json.dumps(result, indent=2, ensure_ascii=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"written {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
