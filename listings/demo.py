"""Demo register (200+ patents and trademarks across CN, US and EP with correct number formats and
check characters) and published listings for both demo exchanges. Idempotent: register rows are
upserted by number, listings found by seller and title."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from accounts.models import Organization, User
from core.tenancy import tenant_context
from rights.expiry import add_years, statutory_term
from rights.numbers import cn_check_character, luhn_check_digit
from rights.registry.importer import import_rows

from .models import Listing, RegisterRecord
from .search import refresh_listing_search
from .services.seller import _set_rights

QINGYUAN = "清源大学技术转移中心"
XINGHE = "北京星河智能科技有限公司"
PEARL = "Pearl River Applied Research Institute"
HARBOUR = "Harbourline Devices Ltd"
OTHER_CN = ["深圳市海川新能源科技有限公司", "杭州云栖视觉技术有限公司", "苏州纳微精密材料有限公司", "成都天府农业科技研究院",
            "武汉光谷激光装备有限公司", "上海瑞康生物医药有限公司"]
OTHER_INTL = ["Northwind Robotics Inc.", "Helios Photonics GmbH", "Aurora Medical Devices LLC", "Fjord Marine Energy AS"]

INVENTIONS = [
    ("一种基于深度学习的锂电池健康状态估计方法", "Method for estimating lithium battery state of health based on deep learning", "H01M 10/48", "新能源"),
    ("一种钠离子电池正极材料及其制备方法", "Sodium-ion battery cathode material and preparation method", "H01M 4/36", "新能源"),
    ("一种无线充电线圈对准检测装置及方法", "Wireless charging coil alignment detection device and method", "H02J 50/90", "新能源汽车"),
    ("一种基于图神经网络的交通流量预测方法", "Traffic flow prediction method based on graph neural networks", "G08G 1/01", "智能交通"),
    ("一种低功耗物联网传感器节点唤醒电路", "Wake-up circuit for low-power IoT sensor nodes", "H04W 52/02", "物联网"),
    ("一种耐盐碱水稻育种方法", "Breeding method for saline-alkali tolerant rice", "A01H 1/02", "农业"),
    ("一种可降解聚乳酸复合包装材料", "Degradable polylactic acid composite packaging material", "C08L 67/04", "新材料"),
    ("一种用于肿瘤早筛的循环肿瘤DNA检测试剂盒", "Circulating tumour DNA kit for early cancer screening", "C12Q 1/6886", "生物医药"),
    ("一种工业机器人关节力矩估计方法", "Joint torque estimation method for industrial robots", "B25J 9/16", "智能制造"),
    ("一种光伏组件热斑在线检测系统", "Online hot-spot detection system for photovoltaic modules", "H02S 50/10", "新能源"),
    ("一种基于区块链的知识产权存证方法", "Blockchain-based evidence preservation for intellectual property", "G06Q 50/18", "金融科技"),
    ("一种高强韧铝合金挤压型材的热处理工艺", "Heat treatment of high-toughness aluminium alloy extrusions", "C22F 1/05", "新材料"),
    ("一种激光熔覆修复涡轮叶片的方法", "Laser cladding repair of turbine blades", "B23K 26/34", "智能制造"),
    ("一种微流控芯片细胞分选装置", "Microfluidic chip cell sorting device", "B01L 3/00", "生物医药"),
    ("一种污水处理厂曝气量智能控制方法", "Intelligent aeration control for wastewater treatment plants", "C02F 3/00", "节能环保"),
]
UTILITY = [
    ("一种便携式电动工具电池包散热结构", "Heat dissipation structure of a portable power tool battery pack", "H01M 10/613", "智能制造"),
    ("一种折叠式光伏支架", "Foldable photovoltaic mounting bracket", "H02S 20/30", "新能源"),
    ("一种智能温控快递柜", "Temperature-controlled parcel locker", "A47G 29/14", "物流"),
    ("一种可拆卸式无人机机臂", "Detachable drone arm", "B64U 30/29", "无人机"),
    ("一种防溢出婴儿奶瓶", "Anti-spill baby bottle", "A61J 9/00", "消费品"),
    ("一种农用喷灌防堵喷头", "Anti-clogging agricultural sprinkler head", "B05B 1/14", "农业"),
    ("一种新能源汽车充电枪锁止机构", "Locking mechanism of an EV charging gun", "B60L 53/16", "新能源汽车"),
    ("一种实验室试管防倒架", "Anti-tip laboratory test-tube rack", "B01L 9/06", "生物医药"),
]
DESIGNS = [
    ("智能手表（圆形表盘）", "Smart watch (round dial)", "10-02", "消费电子"),
    ("无线耳机充电盒", "Wireless earphone charging case", "14-03", "消费电子"),
    ("扫地机器人", "Robot vacuum cleaner", "15-05", "智能家居"),
    ("电动自行车车架", "Electric bicycle frame", "12-11", "出行"),
    ("茶具（青瓷）", "Tea set (celadon)", "07-01", "文创"),
    ("户外储能电源", "Portable power station", "13-02", "新能源"),
]
MARKS = [
    ("清源智芯", "QINGYUAN SMART CHIP", ["9", "42"], QINGYUAN), ("清源智芯 QINGYUAN", "QINGYUAN SMART CHIP", ["9"], QINGYUAN),
    ("清源", "QINGYUAN", ["41", "42"], QINGYUAN), ("星河智能", "XINGHE AI", ["9", "42"], XINGHE),
    ("海川能源", "HAICHUAN ENERGY", ["4", "9"], OTHER_CN[0]), ("云栖视觉", "YUNQI VISION", ["9"], OTHER_CN[1]),
    ("纳微", "NANOWEI", ["1", "17"], OTHER_CN[2]), ("天府禾香", "TIANFU HEXIANG", ["30", "31"], OTHER_CN[3]),
    ("光谷锐光", "GUANGGU RUIGUANG", ["7", "9"], OTHER_CN[4]), ("瑞康", "RUIKANG", ["5", "10"], OTHER_CN[5]),
    ("珠江研创", "PEARL RIVER RESEARCH", ["9", "42"], PEARL), ("港线", "HARBOURLINE", ["9"], HARBOUR),
    ("青瓷茗", "CELADON TEA", ["21", "30"], OTHER_CN[3]), ("极光医疗", "AURORA MEDICAL", ["10"], OTHER_INTL[2]),
    ("赫利俄斯", "HELIOS", ["9", "40"], OTHER_INTL[1]), ("北风机器人", "NORTHWIND", ["7", "9"], OTHER_INTL[0]),
]
US_TITLES = [
    ("Battery management system with adaptive cell balancing", "H01M 10/44"),
    ("Image sensor with stacked photodiode and readout layers", "H01L 27/146"),
    ("Method of training neural networks with sparse attention", "G06N 3/08"),
    ("Autonomous underwater vehicle docking station", "B63G 8/00"),
    ("Photonic integrated circuit for coherent lidar", "G01S 7/481"),
    ("Implantable glucose sensor with drift compensation", "A61B 5/145"),
    ("Wave energy converter with magnetic gear", "F03B 13/18"),
    ("Robotic gripper with tactile skin", "B25J 15/00"),
    ("Low-latency video codec for cloud gaming", "H04N 19/70"),
    ("Solid-state electrolyte with garnet structure", "H01M 10/0562"),
]
EP_TITLES = [
    ("Verfahren zur Herstellung einer Perowskit-Solarzelle", "Method for producing a perovskite solar cell", "H10K 30/40"),
    ("Optical coherence tomography device with swept source", "Optical coherence tomography device with swept source", "A61B 3/10"),
    ("Offshore mooring system for floating wind turbines", "Offshore mooring system for floating wind turbines", "B63B 21/50"),
    ("Hydrogen electrolyser stack with bipolar plates", "Hydrogen electrolyser stack with bipolar plates", "C25B 9/77"),
    ("Laser diode module for material processing", "Laser diode module for material processing", "H01S 5/40"),
]


def _owner_country(owner):
    return "CN" if any("\u4e00" <= ch <= "\u9fff" for ch in owner) else ("HK" if owner in (PEARL, HARBOUR) else "US")


def _cn_app(rng, year, type_digit):
    digits = f"{year}{type_digit}{rng.randint(100000, 9999999):07d}"
    return f"{digits}.{cn_check_character(digits)}"


def _dates(rng, year, grant_lag=(1, 3)):
    filing = datetime.date(year, rng.randint(1, 12), rng.randint(1, 28))
    grant = filing + datetime.timedelta(days=365 * rng.randint(*grant_lag) + rng.randint(0, 200))
    return filing, grant


def _paid_through(filing, today):
    """Patents pay annuities per year counted from the filing date: paid to the next anniversary."""
    nxt = filing.replace(year=today.year)
    if nxt < today:
        nxt = nxt.replace(year=today.year + 1)
    return nxt


def _abstract(title, owner):
    return (f"本发明公开了{title}，由{owner}完成。该技术方案结构简单、成本低、可靠性高，已在中试线上验证，适合产业化推广。"
            if any("\u4e00" <= ch <= "\u9fff" for ch in title) else
            f"Disclosed is {title.lower()}, developed by {owner}. The approach is validated on pilot lines and "
            f"ready for licensing or assignment.")


def register_rows() -> list[dict]:
    rng = random.Random(20261122)  # noqa: S311 - deterministic demo data
    today = timezone.localdate()
    rows = []
    owners_cn = [QINGYUAN] * 4 + [XINGHE] * 2 + OTHER_CN + [PEARL]

    def status_for(i):
        return "lapsed" if i % 17 == 5 else ("pending" if i % 23 == 7 else "valid")

    # CN inventions: 75
    for i in range(75):
        title, title_en, ipc, _tag = INVENTIONS[i % len(INVENTIONS)]
        variant = ["", "及系统", "及装置", "、设备及存储介质", "及其应用"][i // len(INVENTIONS)]
        year = rng.randint(2012, 2023)
        filing, grant = _dates(rng, year)
        owner = owners_cn[i % len(owners_cn)]
        status = status_for(i)
        pub = f"CN{rng.randint(102000000, 117999999)}{'B' if status != 'pending' else 'A'}"
        rows.append(dict(jurisdiction="CN", kind="invention", number=_cn_app(rng, year, 1), publication_number=pub,
                         title=title + variant, title_en=title_en, abstract=_abstract(title + variant, owner),
                         owner_name=owner, owner_country=_owner_country(owner), filing_date=filing.isoformat(),
                         grant_date=grant.isoformat() if status != "pending" else "", legal_status=status,
                         renewal_paid_through=(_paid_through(filing, today) if status == "valid"
                                               else filing.replace(year=today.year - 1)).isoformat(),
                         classes=[ipc],
                         encumbrances=[{"type": "pledge", "holder": "中国工商银行北京分行", "until": "2027-12-31"}]
                         if i % 19 == 3 else []))
    # CN utility models: 35
    for i in range(35):
        title, title_en, ipc, _tag = UTILITY[i % len(UTILITY)]
        variant = ["", "（二代）", "（改进型）", "（轻量化）", "（组合式）"][i // len(UTILITY)]
        year = rng.randint(2017, 2024)
        filing, grant = _dates(rng, year, (0, 1))
        owner = owners_cn[(i + 3) % len(owners_cn)]
        status = status_for(i + 2)
        rows.append(dict(jurisdiction="CN", kind="utility_model", number=_cn_app(rng, year, 2),
                         publication_number=f"CN{rng.randint(206000000, 221999999)}U", title=title + variant,
                         title_en=title_en, abstract=_abstract(title + variant, owner), owner_name=owner,
                         owner_country=_owner_country(owner), filing_date=filing.isoformat(),
                         grant_date=grant.isoformat(), legal_status="valid" if status == "pending" else status,
                         renewal_paid_through=_paid_through(filing, today).isoformat(), classes=[ipc]))
    # CN designs: 24 (some filed before 2021-06-01: 10 years, some after: 15 years)
    for i in range(24):
        title, title_en, locarno, _tag = DESIGNS[i % len(DESIGNS)]
        variant = ["", "（2）", "（青春版）", "（专业版）"][i // len(DESIGNS)]
        year = rng.randint(2017, 2024)
        filing, grant = _dates(rng, year, (0, 1))
        owner = owners_cn[(i + 5) % len(owners_cn)]
        rows.append(dict(jurisdiction="CN", kind="design", number=_cn_app(rng, year, 3),
                         publication_number=f"CN{rng.randint(304000000, 309999999)}S", title=title + variant,
                         title_en=title_en, abstract="", owner_name=owner, owner_country=_owner_country(owner),
                         filing_date=filing.isoformat(), grant_date=grant.isoformat(), legal_status="valid",
                         renewal_paid_through=_paid_through(filing, today).isoformat(), classes=[locarno]))
    # CN trademarks: 40
    for i in range(40):
        mark, mark_en, classes, owner = MARKS[i % len(MARKS)]
        round_ = i // len(MARKS)
        classes = classes if round_ == 0 else [str((int(c) + round_ * 2 - 1) % 45 + 1) for c in classes]
        filing, grant = _dates(rng, rng.randint(2012, 2022), (1, 1))
        number = str(rng.randint(10000000, 69999999))
        expiry = add_years(grant, 10)
        if expiry < today:
            expiry = add_years(expiry, 10)  # renewed
        rows.append(dict(jurisdiction="CN", kind="trademark", number=number, title=mark + ("" if round_ == 0 else
                         ["", " 图形", " PLUS"][round_]), title_en=mark_en, owner_name=owner,
                         owner_country=_owner_country(owner), filing_date=filing.isoformat(),
                         grant_date=grant.isoformat(), expiry_date=expiry.isoformat(), legal_status="valid",
                         classes=classes, image_url=f"/marks/CN/{number}.svg"))
    # US patents: 28 (utility) + 6 design
    us_owners = [PEARL, PEARL, HARBOUR] + OTHER_INTL + [XINGHE]
    for i in range(28):
        title, cpc = US_TITLES[i % len(US_TITLES)]
        year = rng.randint(2016, 2022)
        filing, grant = _dates(rng, year, (2, 3))
        number = str(rng.randint(10100000, 11990000))
        owner = us_owners[i % len(us_owners)]
        rows.append(dict(jurisdiction="US", kind="invention", number=number,
                         application_number=f"{rng.choice(['15', '16', '17'])}/{rng.randint(100000, 999999)}",
                         publication_number=f"US{number}B2", title=title + ("" if i < 10 else f" ({i // 10 + 1})"),
                         title_en=title, abstract=_abstract(title, owner), owner_name=owner,
                         owner_country=_owner_country(owner), filing_date=filing.isoformat(),
                         grant_date=grant.isoformat(), legal_status="expired" if i == 13 else "valid",
                         renewal_paid_through=(grant + datetime.timedelta(days=365 * 7 + 180)).isoformat(),
                         classes=[cpc]))
    for i in range(6):
        filing, grant = _dates(rng, rng.randint(2016, 2022), (1, 2))
        number = f"D{rng.randint(880000, 999999)}"
        owner = us_owners[i % len(us_owners)]
        rows.append(dict(jurisdiction="US", kind="design", number=number,
                         application_number=f"29/{rng.randint(550000, 799999)}", publication_number=f"US{number}S",
                         title=["Wearable health monitor", "Charging dock", "Handheld scanner", "Desk lamp",
                                "Robot arm housing", "Smart speaker"][i], owner_name=owner,
                         owner_country=_owner_country(owner), filing_date=filing.isoformat(),
                         grant_date=grant.isoformat(), legal_status="valid",
                         renewal_paid_through=statutory_term(kind="design", jurisdiction="US", filing_date=filing,
                                                             grant_date=grant).expiry.isoformat(),
                         classes=["14-03"]))
    # US trademarks: 8
    for i in range(8):
        mark, _mark_en, classes, owner = MARKS[(i * 3) % len(MARKS)]
        filing, grant = _dates(rng, rng.randint(2015, 2022), (1, 1))
        serial, reg = f"{rng.choice(['86', '87', '88', '90', '97'])}{rng.randint(100000, 999999)}", str(
            rng.randint(4800000, 7300000))
        rows.append(dict(jurisdiction="US", kind="trademark", number=reg, application_number=serial,
                         title=MARKS[(i * 3) % len(MARKS)][1], owner_name=owner, owner_country=_owner_country(owner),
                         filing_date=filing.isoformat(), grant_date=grant.isoformat(), legal_status="valid",
                         classes=classes, image_url=f"/marks/US/{reg}.svg"))
    # EP patents: 20
    for i in range(20):
        title, title_en, ipc = EP_TITLES[i % len(EP_TITLES)]
        year = rng.randint(2010, 2021)
        filing, grant = _dates(rng, year, (3, 5))
        digits = f"{year % 100:02d}{rng.randint(700000, 829999):06d}"
        owner = (OTHER_INTL + [PEARL])[i % 5]
        rows.append(dict(jurisdiction="EP", kind="invention", number=f"{digits}.{luhn_check_digit(digits)}",
                         publication_number=f"EP{rng.randint(2400000, 3999999)}B1", title=title, title_en=title_en,
                         abstract=_abstract(title_en, owner), owner_name=owner, owner_country=_owner_country(owner),
                         filing_date=filing.isoformat(), grant_date=grant.isoformat(), legal_status="valid",
                         renewal_paid_through=_paid_through(filing, today).isoformat(), classes=[ipc]))
    # EU trade marks: 6
    for i in range(6):
        mark, mark_en, classes, owner = MARKS[(i * 5 + 1) % len(MARKS)]
        filing, grant = _dates(rng, rng.randint(2014, 2022), (0, 0))
        number = f"0{rng.randint(12000000, 18999999)}"
        rows.append(dict(jurisdiction="EP", kind="trademark", number=number, title=mark_en, owner_name=owner,
                         owner_country=_owner_country(owner), filing_date=filing.isoformat(),
                         grant_date=grant.isoformat(), legal_status="valid", classes=classes,
                         image_url=f"/marks/EP/{number}.svg"))
    return rows


# Listings: (title, rights as (jurisdiction, kind, owner filter index), price in major units, deal, featured)
# Listings: (title, kind, how many rights, keyword of the rights' titles, price in major units, deal, featured)
LISTING_SPECS = {
    "zgc": (QINGYUAN, [
        ("锂电池健康状态估计专利包（2件发明）", "invention", 2, "锂电池", 1_280_000, "assignment", True),
        ("钠离子电池正极材料发明专利转让", "invention", 1, "钠离子", 560_000, "assignment", True),
        ("无线充电线圈对准检测 独占许可", "invention", 1, "无线充电", 300_000, "exclusive_licence", False),
        ("交通流量预测算法专利", "invention", 1, "交通流量", 420_000, "assignment", False),
        ("污水处理曝气智能控制 普通许可", "invention", 1, "污水", 80_000, "non_exclusive_licence", False),
        ("便携电动工具电池包散热实用新型", "utility_model", 1, "便携式", 45_000, "assignment", False),
        ("实用新型专利包：光伏支架与智能快递柜", "utility_model", 2, "光伏", 68_000, "assignment", True),
        ("扫地机器人外观设计", "design", 1, "扫地机器人", 36_000, "assignment", False),
        ("清源智芯商标组合（第9类、第42类）", "trademark", 2, "清源智芯", 150_000, "assignment", True),
        ("微流控芯片细胞分选发明专利", "invention", 1, "微流控", 380_000, "assignment", False),
    ]),
    "gba": (PEARL, [
        ("Battery management patent (US)", "invention", 1, "Battery management", 2_400_000, "assignment", True),
        ("Stacked image sensor patent — exclusive licence", "invention", 1, "Image sensor", 900_000,
         "exclusive_licence", True),
        ("珠江研创 trademark, classes 9 and 42", "trademark", 1, "珠江研创", 260_000, "assignment", False),
        ("Laser diode module for material processing (EP)", "invention", 1, "Laser diode", 1_150_000, "assignment",
         False),
        ("Robotic gripper with tactile skin — non-exclusive licence", "invention", 1, "Robotic gripper", 180_000,
         "non_exclusive_licence", False),
        ("Low-latency video codec patent", "invention", 1, "Low-latency", 640_000, "assignment", False),
    ]),
}


def _records_for(owner, kind, count, keyword, used):
    qs = RegisterRecord.objects.filter(owner_name=owner, kind=kind, legal_status="valid").order_by("id")
    matching = [r for r in qs if r.pk not in used and keyword in r.title]
    rest = [r for r in qs if r.pk not in used and keyword not in r.title]
    picked = (matching + rest)[:count]
    used.update(r.pk for r in picked)
    return picked


def seed(tenants):
    report = import_rows(register_rows())
    if not report.ok:
        raise RuntimeError(f"demo register rows invalid: {report.errors[:3]}")
    now = timezone.now()
    for slug, (owner, specs) in LISTING_SPECS.items():
        tenant = tenants.get(slug)
        if tenant is None:
            continue
        with tenant_context(tenant):
            org = Organization.objects.filter(legal_name=owner).first()
            if org is None:
                continue
            seller = User.objects.filter(memberships__organization=org).order_by("id").first()
            used = set(Listing.objects.filter(seller_org=org).values_list("rights__register_record_id", flat=True))
            for n, (title, kind, count, keyword, price, deal, featured) in enumerate(specs):
                if Listing.objects.filter(seller_org=org, title=title).exists():
                    continue
                records = _records_for(owner, kind, count, keyword, used)
                if not records:
                    continue
                listing = Listing.objects.create(
                    tenant=tenant, seller_org=org, created_by=seller, title=title, price_minor=price * 100,
                    currency=tenant.currency, deal_type=deal, featured=featured, state=Listing.State.PUBLISHED,
                    licence_term_months=36 if deal != "assignment" else None,
                    licence_territory=("中国大陆" if slug == "zgc" else "Worldwide") if deal != "assignment" else "",
                    description=(records[0].abstract or records[0].title),
                    industry_tags=[t for t in {"invention": ["新能源"], "utility_model": ["智能制造"],
                                               "design": ["消费电子"], "trademark": ["品牌"]}[kind]],
                    published_at=now - datetime.timedelta(days=n * 3 + 1), submitted_at=now - datetime.timedelta(days=n * 3 + 4),
                )
                _set_rights(listing, records)
                refresh_listing_search(listing)
            _seed_queue(tenant, org, seller, used)
            for listing in Listing.objects.filter(seller_org=org).select_related("seller_org"):
                refresh_listing_search(listing)  # search documents follow the current format


def _seed_queue(tenant, org, seller, used):
    """One listing waiting in the verifiers' queue."""
    title = {"zgc": "工业机器人关节力矩估计方法专利", "gba": "Laser cladding repair of turbine blades (CN)"}.get(tenant.slug)
    if not title or Listing.objects.filter(seller_org=org, title=title).exists():
        return
    records = _records_for(org.legal_name, "invention", 1, "机器人" if tenant.slug == "zgc" else "激光熔覆", used)
    if not records:
        return
    now = timezone.now()
    listing = Listing.objects.create(
        tenant=tenant, seller_org=org, created_by=seller, title=title, price_minor=350_000_00, currency=tenant.currency,
        deal_type="assignment", state=Listing.State.SUBMITTED, submitted_at=now - datetime.timedelta(hours=5),
        description=records[0].abstract)
    _set_rights(listing, records)
    refresh_listing_search(listing)
