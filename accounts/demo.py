"""Demo data of accounts: organizations waiting in each exchange's verification queue.

Runs after the foundation's tenants and people (marketplace/demo.py). Running it twice changes nothing.
"""

from allauth.account.models import EmailAddress
from django.core.files.base import ContentFile

from core.tenancy import tenant_context

from .models import Membership, Organization, OrganizationDocument, Role, TenantRole, User

# A one-page PDF saying what it stands for (the real one would be a scan of the licence).
SAMPLE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
    b"4 0 obj<</Length 62>>stream\nBT /F1 18 Tf 72 760 Td (Demo business licence - sample only) Tj ET\nendstream\nendobj\n"
    b"5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)

# (tenant, applicant email, name, organization kind, legal name, English name, country, number, document kind)
APPLICANTS = [
    ("zgc", "applicant@zgc.ipex.local", "赵磊 Zhao Lei", Organization.Kind.INSTITUTE, "深圳未来材料研究院",
     "Shenzhen Institute of Future Materials", "CN", "12440300MB2C81230P", OrganizationDocument.Kind.BUSINESS_LICENCE),
    ("gba", "applicant@gba.ipex.local", "Joyce Leung", Organization.Kind.COMPANY, "Kowloon Photonics Ltd",
     "Kowloon Photonics Ltd", "HK", "HK-CR-2988410", OrganizationDocument.Kind.BUSINESS_LICENCE),
]


DEMO_PASSWORD = "demo-pass-2026"


def demo_user(email, name, *, superuser=False):
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=name, is_superuser=superuser,
                                        is_staff=superuser)
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def seed(tenants):
    for slug, email, name, kind, legal_name, name_en, country, number, doc_kind in APPLICANTS:
        with tenant_context(tenants[slug]):
            user = demo_user(email, name)
            for role in (Role.BUYER, Role.SELLER):
                TenantRole.objects.get_or_create(user=user, role=role)
            org, created = Organization.objects.get_or_create(
                legal_name=legal_name,
                defaults=dict(kind=kind, legal_name_en=name_en, country=country, registration_number=number,
                              contact_email=email, verification_status=Organization.Verification.PENDING),
            )
            Membership.objects.get_or_create(user=user, organization=org, defaults={"is_admin": True, "is_default": True})
            if created or not org.documents.exists():
                OrganizationDocument.objects.create(
                    organization=org, kind=doc_kind, content_type="application/pdf", uploaded_by=user,
                    file=ContentFile(SAMPLE_PDF, name="licence.pdf"))
    return User.objects.filter(email__in=[a[1] for a in APPLICANTS])
