"""Benchmark of listing search at scale.

Generates N synthetic published listings (default 1,000,000) in a tenant of its own (`bench-search`,
host bench-search.test): Chinese and English titles from a technical vocabulary, owners, abstracts,
valid CN/US/EP numbers and their lookup keys, classes, prices, deal types and expiry dates. Rows go in
through COPY into a staging table, then one INSERT ... SELECT computes the search documents in
PostgreSQL (the same 'simple' tsvector with CJK bigrams the application writes).

Then it runs a mix of searches — keyword (Chinese, English, two words), number (several typed forms)
and filtered (kind, office, price, class, remaining term, sorts) — and prints:

- SQL p50/p95: the search's SQL (facet counts + result page) timed at the database;
- page p50/p95: the /search/ page through the full Django stack (test Client: middleware, view,
  template);
- queries per page.

    DJANGO_SETTINGS_MODULE=marketplace.settings.test DATABASE_URL=postgres://... python bench/search.py
    python bench/search.py --quick          # 20,000 listings
    python bench/search.py --n 200000
    python bench/search.py --reuse          # keep the generated rows from the last run

Writes bench/results/search.json. The bench tenant's rows are replaced on each run (unless --reuse).
Right rows are not generated: the search page reads only the listing's denormalised columns.
"""

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import Organization, User  # noqa: E402
from core.models import Tenant  # noqa: E402
from core.tenancy import tenant_context  # noqa: E402
from listings.search import class_token, search_listings  # noqa: E402
from listings.search_text import document_text  # noqa: E402
from rights.numbers import cn_check_character, luhn_check_digit  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "search.json"
HOST = "bench-search.test"

CN_TECH = ["锂电池", "钠离子电池", "固态电解质", "无线充电", "图像识别", "语音识别", "机器视觉", "激光雷达", "毫米波雷达",
           "光伏组件", "储能系统", "氢燃料电池", "电机控制", "变频器", "工业机器人", "协作机器人", "无人机", "智能电网",
           "区块链", "联邦学习", "知识图谱", "自然语言处理", "深度学习", "神经网络", "边缘计算", "物联网", "传感器",
           "微流控芯片", "基因测序", "抗体药物", "疫苗", "医疗影像", "手术机器人", "可降解材料", "石墨烯", "碳纤维",
           "稀土永磁", "高温合金", "陶瓷涂层", "污水处理", "土壤修复", "节水灌溉", "水稻育种", "食品保鲜", "冷链物流",
           "建筑节能", "装配式建筑", "桥梁检测", "隧道掘进", "轨道交通", "自动驾驶", "车路协同", "电池管理", "热管理",
           "芯片封装", "光刻胶", "功率半导体", "射频前端", "光纤通信", "卫星导航"]
CN_SUBJECT = ["检测方法", "控制方法", "制备方法", "装置", "系统", "设备", "电路", "组件", "结构", "工艺", "算法", "模块",
              "监测系统", "诊断方法", "优化方法", "评估方法", "回收方法", "成型工艺", "测试平台", "管理平台"]
CN_QUALIFIER = ["一种", "一种基于", "一种用于", "一种高效", "一种低成本", "一种智能", "一种便携式", "一种自适应"]
EN_TECH = ["battery", "lidar", "photovoltaic", "hydrogen", "robot", "drone", "sensor", "antenna", "semiconductor",
           "graphene", "vaccine", "antibody", "genome", "imaging", "wireless", "charging", "blockchain", "codec",
           "turbine", "catalyst", "membrane", "laser", "optical", "microfluidic", "polymer", "alloy", "coating",
           "inverter", "motor", "gearbox"]
EN_SUBJECT = ["method", "system", "device", "apparatus", "circuit", "assembly", "module", "process", "controller",
              "composition"]
EN_QUALIFIER = ["Adaptive", "Low-power", "Portable", "Modular", "High-efficiency", "Self-calibrating", "Compact",
                "Distributed"]
OWNERS_CN = ["清源大学技术转移中心", "北京星河智能科技有限公司", "深圳市海川新能源科技有限公司", "杭州云栖视觉技术有限公司",
             "苏州纳微精密材料有限公司", "成都天府农业科技研究院", "武汉光谷激光装备有限公司", "上海瑞康生物医药有限公司"]
OWNERS_EN = ["Pearl River Applied Research Institute", "Harbourline Devices Ltd", "Northwind Robotics Inc.",
             "Helios Photonics GmbH", "Aurora Medical Devices LLC", "Fjord Marine Energy AS"]
IPC = ["H01M", "H02J", "G06N", "G06T", "H04W", "B25J", "A61B", "C12Q", "G01S", "H01L", "C08L", "B64U", "F03D", "C02F"]
KINDS = ["invention"] * 5 + ["utility_model"] * 2 + ["design"] + ["trademark"] * 2
DEALS = ["assignment"] * 6 + ["exclusive_licence"] * 2 + ["non_exclusive_licence"] * 2


def setup_tenant():
    tenant, _ = Tenant.objects.update_or_create(
        slug="bench-search", defaults=dict(name="检索基准交易所", name_en="Search Bench Exchange", hosts=[HOST],
                                           currency="CNY", languages=["zh-hans", "en"]))
    Tenant.clear_host_cache()
    with tenant_context(tenant):
        user = User.objects.filter(email="bench-search@ipex.local").first() or User.objects.create_user(
            email="bench-search@ipex.local", password="bench-pass-123")  # noqa: S106
        org, _ = Organization.objects.get_or_create(
            legal_name="检索基准卖方", defaults={"verification_status": "verified"})
    return tenant, org, user


def generate(start, n, tenant, org, user, seed=7):
    rng = random.Random(seed)
    today = date.today()
    buf = io.StringIO()
    numbers_sample = []
    for i in range(start, start + n):
        r = rng.random()
        jurisdiction = "CN" if r < 0.7 else ("US" if r < 0.9 else "EP")
        kind = rng.choice(KINDS)
        if jurisdiction != "CN" and kind == "utility_model":
            kind = "invention"
        if jurisdiction == "CN" and kind != "trademark":
            title = rng.choice(CN_QUALIFIER) + rng.choice(CN_TECH) + rng.choice(CN_TECH) + rng.choice(CN_SUBJECT)
            owner = rng.choice(OWNERS_CN)
        elif jurisdiction == "CN":
            title = rng.choice(CN_TECH)[:2] + rng.choice(["智芯", "能源", "视觉", "医疗", "科技", "研创"])
            owner = rng.choice(OWNERS_CN)
        else:
            title = f"{rng.choice(EN_QUALIFIER)} {rng.choice(EN_TECH)} {rng.choice(EN_TECH)} {rng.choice(EN_SUBJECT)}"
            owner = rng.choice(OWNERS_EN)
        year = rng.randint(2005, 2024)
        if jurisdiction == "CN" and kind != "trademark":
            digits = f"{year}{ {'invention': 1, 'utility_model': 2, 'design': 3}[kind]}{i % 10_000_000:07d}"
            app = f"{digits}.{cn_check_character(digits)}"
            pub = f"{ {'invention': 1, 'utility_model': 2, 'design': 3}[kind]}{i % 100_000_000:08d}"
            keys = [f"CN:APP:{digits}{app[-1]}", f"CN:PUB:{pub}"]
            numbers_text = f"{app} CN{pub}"
        elif kind == "trademark":
            reg = str(10_000_000 + i)
            keys = [f"{jurisdiction if jurisdiction != 'EP' else 'EP'}:TM:{reg if jurisdiction != 'EP' else reg.zfill(9)}"]
            numbers_text = reg
        elif jurisdiction == "US":
            reg = str(10_000_000 + i)
            keys = [f"US:REG:{reg}"]
            numbers_text = reg
        else:
            digits = f"{year % 100:02d}{i % 1_000_000:06d}"
            keys = [f"EP:APP:{digits}{luhn_check_digit(digits)}"]
            numbers_text = f"{digits}.{luhn_check_digit(digits)}"
        if rng.random() < 200 / max(n, 200) / 10:
            numbers_sample.append((jurisdiction, kind, keys[0], numbers_text.split(" ")[0]))
        classes = ([f"{rng.randint(1, 45):02d}"] if kind == "trademark" else
                   [c for ipc in [rng.choice(IPC)] for c in (ipc[:1], ipc[:3], ipc)])
        filing = date(year, rng.randint(1, 12), rng.randint(1, 28))
        term = {"invention": 20, "utility_model": 10, "design": 15, "trademark": 10}[kind]
        expiry = filing.replace(year=filing.year + term)
        if expiry < today:
            expiry = today + timedelta(days=rng.randint(30, 3650))
        price = rng.choice([1, 2, 3, 5, 8, 12, 20, 35, 50, 80, 120, 200]) * 10_000_00 + rng.randint(0, 99) * 100_00
        published = today - timedelta(days=rng.randint(0, 1500), seconds=rng.randint(0, 86399))
        doc_a = document_text(title)
        doc_b = document_text(owner, org.legal_name)
        doc_c = document_text(f"{title}，适合产业化。" if jurisdiction == "CN" else f"{title} ready for licensing",
                              numbers_text) + " " + " ".join(class_token(c) for c in classes)
        fields = [
            tenant.pk, org.pk, user.pk, title, price, kind, jurisdiction, owner, expiry.isoformat(),
            "{" + ",".join(classes) + "}", "{" + ",".join(keys) + "}", rng.choice(DEALS),
            "t" if rng.random() < 0.002 else "f", published.isoformat(), doc_a, doc_b, doc_c,
        ]
        buf.write("\t".join(str(f).replace("\t", " ").replace("\n", " ") for f in fields) + "\n")
    buf.seek(0)
    return buf, numbers_sample


def load(n, tenant, org, user):
    started = time.monotonic()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM listings_watch WHERE tenant_id = %s", [tenant.pk])
        cur.execute("DELETE FROM listings_right WHERE tenant_id = %s", [tenant.pk])
        cur.execute("DELETE FROM listings_listing WHERE tenant_id = %s", [tenant.pk])
        cur.execute("""CREATE TEMP TABLE bench_stage (tenant_id bigint, seller_org_id bigint, created_by_id bigint,
            title text, price_minor bigint, kind text, jurisdiction text, owner_name text, expiry_date date,
            class_keys text[], numbers text[], deal_type text, featured boolean, published_at date,
            doc_a text, doc_b text, doc_c text)""")
    sample = []
    batch = 100_000
    for offset in range(0, n, batch):
        size = min(batch, n - offset)
        buf, numbers = generate(offset, size, tenant, org, user, seed=7 + offset)
        sample.extend(numbers)
        with connection.cursor() as cur:
            cur.execute("TRUNCATE bench_stage")
            cur.cursor.copy_expert("COPY bench_stage FROM STDIN", buf)
            cur.execute("""
                INSERT INTO listings_listing (tenant_id, seller_org_id, created_by_id, title, description, price_minor,
                  currency, deal_type, licence_territory, industry_tags, state, featured, rejection_reason,
                  submitted_at, published_at, created_at, updated_at, margin_minor, verification, lapsed_reason,
                  kind, jurisdiction, owner_name, expiry_date, rights_count, class_keys, numbers, search_document)
                SELECT tenant_id, seller_org_id, created_by_id, title, '', price_minor, 'CNY', deal_type, '', '{}',
                  'published', featured, '', published_at, published_at + (random() * interval '1 day'), now(), now(),
                  0, '{}', '', kind, jurisdiction, owner_name, expiry_date, 1, class_keys,
                  numbers,
                  setweight(to_tsvector('simple', doc_a), 'A') || setweight(to_tsvector('simple', doc_b), 'B')
                  || setweight(to_tsvector('simple', doc_c), 'C')
                FROM bench_stage""")
        print(f"  loaded {offset + size:,} / {n:,} ({time.monotonic() - started:.0f} s)", flush=True)
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_stage")
        cur.execute("VACUUM ANALYZE listings_listing")
    return sample, time.monotonic() - started


def query_mix(rng, sample, count):
    mixes = []
    for _ in range(count):
        r = rng.random()
        if r < 0.30:
            mixes.append(("keyword_zh", {"q": rng.choice(CN_TECH)}))
        elif r < 0.40:
            mixes.append(("keyword_zh_two", {"q": f"{rng.choice(CN_TECH)} {rng.choice(CN_SUBJECT)}"}))
        elif r < 0.55:
            mixes.append(("keyword_en", {"q": rng.choice(EN_TECH)}))
        elif r < 0.70:
            jurisdiction, kind, key, typed = rng.choice(sample)
            if jurisdiction == "CN" and kind != "trademark" and rng.random() < 0.5:
                typed = "ZL " + typed[:4] + " " + typed[4] + " " + typed[5:]
            elif jurisdiction == "US":
                typed = f"US {int(typed):,} B2"
            elif jurisdiction == "EP":
                typed = "EP " + typed
            mixes.append(("number", {"q": typed}))
        elif r < 0.80:
            mixes.append(("filter_kind_office_price", {
                "kind": rng.choice(["invention", "utility_model", "design", "trademark"]),
                "jurisdiction": rng.choice(["CN", "US", "EP"]), "price_min": "50000", "price_max": "800000",
                "sort": rng.choice(["newest", "price_asc", "price_desc"])}))
        elif r < 0.90:
            mixes.append(("filter_keyword_class_term", {
                "q": rng.choice(CN_TECH), "klass": rng.choice(["H", "G06", "H01M", "B25J"]),
                "term": rng.choice(["1", "3", "5"])}))
        else:
            mixes.append(("browse_sorted", {"sort": rng.choice(["newest", "price_asc", "term"]),
                                            "page": rng.randint(1, 5)}))
    return mixes


def percentile(values, p):
    values = sorted(values)
    if not values:
        return 0.0
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def params_for(query):
    from listings.forms import SearchForm

    form = SearchForm(query, currency="CNY")
    return form.params()


def run(tenant, sample, count, seed=11):
    rng = random.Random(seed)
    mixes = query_mix(rng, sample, count)
    client = Client(HTTP_HOST=HOST)
    client.get("/search/")  # warm up templates and the host cache
    sql_ms, page_ms, queries, by_kind = [], [], [], {}
    timings = []

    def timer(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append((time.perf_counter() - started) * 1000)

    with tenant_context(tenant), connection.execute_wrapper(timer):
        for kind, query in mixes:
            params = params_for(query)
            timings.clear()
            result = search_listings(params)
            sql = sum(timings)
            sql_ms.append(sql)
            by_kind.setdefault(kind, {"sql": [], "page": [], "hits": []})
            by_kind[kind]["sql"].append(sql)
            by_kind[kind]["hits"].append(result.total)
    for kind, query in mixes:
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get("/search/", query)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.status_code
        page_ms.append(elapsed)
        queries.append(len(captured.captured_queries))
        by_kind[kind]["page"].append(elapsed)
    return sql_ms, page_ms, queries, by_kind


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="20,000 listings")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--reuse", action="store_true", help="keep the rows of the last run")
    parser.add_argument("--load-only", action="store_true", help="generate the listings, run no search")
    args = parser.parse_args()
    n = 20_000 if args.quick else args.n
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)  # a fresh database works too
    tenant, org, user = setup_tenant()
    with tenant_context(tenant):
        from listings.models import Listing

        existing = Listing.objects.count()
    load_seconds = None
    if args.reuse and existing == n:
        print(f"Reusing {existing:,} listings of tenant bench-search")
        sample = []
        sample_rows = Listing.objects.unscoped().filter(tenant=tenant).order_by("?").values_list(
            "jurisdiction", "kind", "numbers")[:200]
        for jurisdiction, kind, numbers in sample_rows:
            key = numbers[0]
            value = key.split(":")[2]
            typed = (f"{value[:-1]}.{value[-1]}" if key.startswith(("CN:APP", "EP:APP")) else value)
            sample.append((jurisdiction, kind, key, typed))
    else:
        print(f"Generating {n:,} published listings in tenant bench-search ...", flush=True)
        sample, load_seconds = load(n, tenant, org, user)
        from listings.search import vocabulary_refresh

        started = time.monotonic()
        terms = vocabulary_refresh(tenant)
        print(f"  search vocabulary: {terms:,} terms ({time.monotonic() - started:.0f} s)", flush=True)
    if args.load_only:
        return
    print(f"Running {args.queries} searches ...", flush=True)
    sql_ms, page_ms, queries, by_kind = run(tenant, sample, args.queries)
    sql_p95 = percentile(sql_ms, 95)
    page_p95 = percentile(page_ms, 95)
    result = {
        "listings": n, "searches": len(sql_ms), "load_seconds": round(load_seconds, 1) if load_seconds else None,
        "sql_ms": {"p50": round(percentile(sql_ms, 50), 2), "p95": round(sql_p95, 2), "max": round(max(sql_ms), 2)},
        "page_ms": {"p50": round(percentile(page_ms, 50), 2), "p95": round(page_p95, 2),
                    "max": round(max(page_ms), 2)},
        "page_p95_over_sql_p95": round(page_p95 / sql_p95, 2) if sql_p95 else None,
        "queries_per_page": {"min": min(queries), "max": max(queries), "median": statistics.median(queries)},
        "by_kind": {
            kind: {"n": len(v["sql"]), "sql_p50": round(percentile(v["sql"], 50), 2),
                   "sql_p95": round(percentile(v["sql"], 95), 2), "page_p95": round(percentile(v["page"], 95), 2),
                   "median_hits": statistics.median(v["hits"])}
            for kind, v in sorted(by_kind.items())
        },
        "aim": {"sql_p95_ms": 50, "page_p95_max_ratio": 3},
        "database": connection.settings_dict["NAME"],
        "postgres": connection.cursor().connection.server_version,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    out = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    out["quick" if n <= 20_000 else str(n)] = result
    RESULTS.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"SQL p50 {result['sql_ms']['p50']} ms, p95 {result['sql_ms']['p95']} ms; page p50 "
          f"{result['page_ms']['p50']} ms, p95 {result['page_ms']['p95']} ms "
          f"({result['page_p95_over_sql_p95']}x SQL p95); queries per page {result['queries_per_page']}")


if __name__ == "__main__":
    main()
