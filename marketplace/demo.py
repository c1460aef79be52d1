"""Demo data: two exchanges, their staff, a seller and a buyer each. Running it twice changes nothing.

Each app adds its own part in `<app>/demo.py` (a `seed(tenants)` function); this module runs them in order.
"""

import importlib

from django.apps import apps
from django.db import transaction

from accounts.demo import demo_user
from accounts.models import Membership, Organization, Role, TenantRole
from core.models import Tenant
from core.tenancy import tenant_context

ADMIN_EMAIL = "admin@ipex.local"

TENANTS = [
    dict(
        slug="zgc", name="中关村知识产权交易所", name_en="Zhongguancun IP Exchange",
        tagline="专利与商标交易，平台托管资金，权利变更后放款", tagline_en="Patents and trademarks, escrowed until the right has changed hands",
        hosts=["localhost", "127.0.0.1", "zgc.localhost", "testserver"], logo="img/tenants/ipex.svg",
        primary_color="#1d4ed8", accent_color="#f59e0b", currency="CNY", languages=["zh-hans", "en"],
        default_language="zh-hans", support_email="service@zgc.ipex.local", country="CN",
    ),
    dict(
        slug="gba", name="大湾区知识产权交易中心", name_en="Greater Bay Area IP Exchange",
        tagline="连接粤港澳的知识产权交易平台", tagline_en="Trading IP across Guangdong, Hong Kong and Macao",
        hosts=["gba.localhost"], logo="img/tenants/gba.svg", primary_color="#0f766e", accent_color="#fbbf24",
        currency="HKD", languages=["en", "zh-hans"], default_language="en", support_email="desk@gba.ipex.local",
        country="HK", buyer_fee_bps=150, seller_commission_bps=400, min_fee_minor=50000, margin_bps=100,
    ),
]

# (email, name, roles, organization (kind, legal name, country, registration number) or None)
PEOPLE = {
    "zgc": [
        ("staff@zgc.ipex.local", "王敏 Wang Min", [Role.TENANT_ADMIN], None),
        ("verifier@zgc.ipex.local", "李娜 Li Na", [Role.VERIFIER], None),
        ("escrow@zgc.ipex.local", "张伟 Zhang Wei", [Role.ESCROW_OFFICER, Role.FINANCE], None),
        ("seller@zgc.ipex.local", "陈静 Chen Jing", [Role.SELLER, Role.BUYER],
         ("university", "清源大学技术转移中心", "CN", "12100000400000624D")),
        ("buyer@zgc.ipex.local", "刘洋 Liu Yang", [Role.BUYER],
         ("company", "北京星河智能科技有限公司", "CN", "91110108MA01R2QF9G")),
    ],
    "gba": [
        ("staff@gba.ipex.local", "Mary Chan", [Role.TENANT_ADMIN], None),
        ("escrow@gba.ipex.local", "Ken Lau", [Role.ESCROW_OFFICER, Role.FINANCE, Role.VERIFIER], None),
        ("seller@gba.ipex.local", "Dr. Alan Ho", [Role.SELLER, Role.BUYER],
         ("institute", "Pearl River Applied Research Institute", "HK", "HK-CR-2741183")),
        ("buyer@gba.ipex.local", "Grace Wong", [Role.BUYER], ("company", "Harbourline Devices Ltd", "HK", "HK-CR-3310927")),
    ],
}


@transaction.atomic
def seed_foundation():
    tenants = {}
    for spec in TENANTS:
        spec = dict(spec)
        tenant, _ = Tenant.objects.update_or_create(slug=spec.pop("slug"), defaults=spec)
        tenants[tenant.slug] = tenant
    Tenant.clear_host_cache()
    demo_user(ADMIN_EMAIL, "Platform Admin", superuser=True)
    for slug, people in PEOPLE.items():
        with tenant_context(tenants[slug]):
            for email, name, roles, org in people:
                user = demo_user(email, name)
                for role in roles:
                    TenantRole.objects.get_or_create(user=user, role=role)
                if org:
                    kind, legal_name, country, number = org
                    organization, _ = Organization.objects.get_or_create(
                        legal_name=legal_name,
                        defaults=dict(kind=kind, country=country, registration_number=number, contact_email=email,
                                      verification_status=Organization.Verification.VERIFIED),
                    )
                    Membership.objects.get_or_create(user=user, organization=organization,
                                                     defaults={"is_admin": True, "is_default": True})
    return tenants


def seed_all(stdout=None):
    tenants = seed_foundation()
    # Every installed app's `demo.py`, in INSTALLED_APPS order (lower layers first).
    for app in [config.name for config in apps.get_app_configs() if config.name != "marketplace"]:
        try:
            module = importlib.import_module(f"{app}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.demo":
                raise
            continue
        module.seed(tenants)
        if stdout:
            stdout.write(f"  {app}: demo data loaded")
    return tenants
