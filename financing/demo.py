"""Demo financing on the zgc exchange: a partner bank and an appraiser listed by the exchange (their
people log in with the demo password), and one open pledge loan application of the demo seller on
two of its patents with the bank's offer on it (the holder sees the offer and the exchange's service fee;
the bank can offer again). Idempotent."""

from allauth.account.models import EmailAddress

from accounts.models import Membership, Organization, Role, TenantRole, User
from core.errors import DomainError
from core.tenancy import tenant_context
from rights.models import RegisterRecord
from rights.services import holding_ensure

from .models import FinancePartner, LoanApplication, PartnerKind
from .selectors import rights_of
from .services import application_create, offer_make

PARTNERS = [
    ("bank@zgc.ipex.local", "赵磊 Zhao Lei", "北京银行中关村分行", "Bank of Beijing, Zhongguancun Branch", PartnerKind.BANK, 0),
    ("appraiser@zgc.ipex.local", "孙悦 Sun Yue", "中联资产评估集团有限公司", "China United Assets Appraisal Group",
     PartnerKind.APPRAISER, 20_000_00),
]
SELLER = "seller@zgc.ipex.local"
DEMO_PASSWORD = "demo-pass-2026"  # the demo's password (marketplace.demo)


def _user(email, name):
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email=email, password=DEMO_PASSWORD, full_name=name)
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def seed(tenants):
    tenant = tenants.get("zgc")
    if tenant is None:
        return
    with tenant_context(tenant):
        for email, name, legal_name, legal_name_en, kind, fee in PARTNERS:
            user = _user(email, name)
            TenantRole.objects.get_or_create(user=user, role=Role.BUYER)
            org, _ = Organization.objects.get_or_create(
                legal_name=legal_name, defaults={"legal_name_en": legal_name_en, "country": "CN", "contact_email": email,
                                                 "verification_status": Organization.Verification.VERIFIED})
            Membership.objects.get_or_create(user=user, organization=org, defaults={"is_admin": True, "is_default": True})
            FinancePartner.objects.get_or_create(organization=org, kind=kind, defaults={
                "appraisal_fee_minor": fee, "currency": tenant.currency if fee else "",
                "description": legal_name_en})
        seller = User.objects.filter(email=SELLER).first()
        org = Organization.objects.filter(memberships__user=seller).first() if seller else None
        if org is None or LoanApplication.objects.filter(applicant_org=org).exists():
            return
        # the demo seller holds (rights.Holding, "named in the register") the rights the register names it owner of
        names = [n for n in (org.legal_name, org.legal_name_en) if n]
        for record in RegisterRecord.objects.filter(owner_name__in=names, kind="invention", legal_status="valid",
                                                    encumbrances=[]).order_by("pk")[:2]:
            try:
                holding_ensure(organization=org, record=record, actor=seller)
            except DomainError:  # held by another organization of the exchange
                continue
        records = [r for r in rights_of(org).filter(kind="invention", legal_status="valid", encumbrances=[])[:2]]
        if records:
            try:
                application = application_create(
                    actor=seller, organization=org, record_ids=[r.pk for r in records], amount_minor=5_000_000_00,
                    currency=tenant.currency, term_months=12, purpose="建设中试生产线 / a pilot production line")
            except DomainError:  # demo rights may not qualify (term, route): the demo goes on without
                return
            # the bank's offer, so the holder sees one with the exchange's service fee beside it
            bank = FinancePartner.objects.filter(kind=PartnerKind.BANK).select_related("organization").first()
            banker = User.objects.filter(email=PARTNERS[0][0]).first()
            if bank and banker:
                offer_make(actor=banker, organization=bank.organization, application=application,
                           amount_minor=4_000_000_00, rate_bps=385, term_months=12,
                           conditions="以两项发明专利质押，按季付息 / pledge of both patents, interest quarterly")
