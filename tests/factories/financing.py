"""Financing test data: listed partners, holders of rights, applications driven through the services,
and completed deals written directly (comparables for the valuation)."""

import datetime
import itertools

from django.utils import timezone

from accounts.models import Role
from core.tenancy import require_tenant
from escrow.models import Order, OrderState
from financing import services
from financing.models import FinancePartner, PartnerKind
from listings.models import Listing, Right
from listings.search import refresh_listing_search

from .accounts import OrganizationFactory, make_member
from .listings import register_record

__all__ = ["finance_partner", "rights_holder", "open_application", "pledged_application", "completed_deal", "finance_staff",
           "throwaway_ca", "held_record", "signed_report", "report_pdf"]

_seq = itertools.count(1)


def finance_partner(*, kind=PartnerKind.BANK, org=None, fee_minor=0, legal_name=None):
    """A partner organization listed by the exchange, with a member. Returns (partner, member user)."""
    org = org or OrganizationFactory(legal_name=legal_name or f"Partner Bank {next(_seq)} Ltd.")
    user = make_member(roles=(Role.BUYER,), org=org)
    partner = FinancePartner.objects.create(organization=org, kind=kind, appraisal_fee_minor=fee_minor,
                                            currency=require_tenant().currency if fee_minor else "")
    return partner, user


def finance_staff():
    return make_member(roles=(Role.ESCROW_OFFICER, Role.FINANCE), org=False)


def rights_holder(*, n=1, **record_kw):
    """(organization, member user, [register records it owns of record and holds on the exchange])."""
    org = OrganizationFactory()
    user = make_member(roles=(Role.SELLER,), org=org)
    records = [held_record(org, **record_kw) for _ in range(n)]
    return org, user, records


def held_record(org, **record_kw):
    """A register record naming `org` as owner, which `org` holds on the exchange (rights.Holding)."""
    from rights.models import Holding

    record = register_record(owner_name=org.legal_name, **record_kw)
    Holding.objects.create(organization=org, record=record, basis=Holding.Basis.REGISTER,
                           since=timezone.localdate())
    return record


def open_application(*, amount_minor=2_000_000_00, term_months=12, holder=None):
    """(application, holder user, records) — an application open for offers."""
    org, user, records = holder or rights_holder()
    application = services.application_create(actor=user, organization=org, record_ids=[r.pk for r in records],
                                              amount_minor=amount_minor, currency=require_tenant().currency,
                                              term_months=term_months, purpose="Working capital for production")
    return application, user, records


def pledged_application(*, amount_minor=2_000_000_00, offer_minor=None, holder=None, bank=None, staff=None):
    """(application, holder user, (bank partner, banker user)) — driven through the services up to a
    pledge recorded by the simulated office (the loan can be disbursed)."""
    from transfers.services import recordal_poll_due

    application, user, _records = open_application(amount_minor=amount_minor, holder=holder)
    bank, banker = bank or finance_partner(kind=PartnerKind.BANK)
    offer = services.offer_make(actor=banker, organization=bank.organization, application=application,
                                amount_minor=offer_minor or amount_minor, rate_bps=385, term_months=12)
    application = services.offer_accept(actor=user, offer=offer)
    for who in (user, banker):
        services.contract_sign(actor=who, application=application, typed_name="Signer", consent=True)
    services.pledge_file(actor=staff or finance_staff(), application=application)
    recordal_poll_due()
    application.refresh_from_db()
    assert application.state == "pledged", application.state
    return application, user, (bank, banker)


def completed_deal(*, price_minor, years_left, kind="invention", jurisdiction="CN", classes=("H04L 9/32",),
                   currency=None, completed_on=None, rights_count=1, tenant=None):
    """A trade completed in escrow (rows written directly): a sold listing whose right had `years_left`
    years of term on the day it completed."""
    tenant = tenant or require_tenant()
    completed_on = completed_on or timezone.localdate() - datetime.timedelta(days=30)
    expiry = completed_on + datetime.timedelta(days=round(years_left * 365.25))
    seller = OrganizationFactory(tenant=tenant)
    buyer = OrganizationFactory(tenant=tenant)
    creator = make_member(roles=(Role.SELLER,), org=seller)
    listing = Listing.objects.create(tenant=tenant, seller_org=seller, created_by=creator, title="comparable",
                                     price_minor=price_minor, currency=currency or tenant.currency,
                                     deal_type=Listing.DealType.ASSIGNMENT)
    for i in range(rights_count):
        record = register_record(owner_name=buyer.legal_name, kind=kind, jurisdiction=jurisdiction,
                                 classes=list(classes), expiry_date=expiry,
                                 **({"number": f"{20000000 + next(_seq) * 13}"} if jurisdiction != "CN" else {}))
        Right.objects.create(tenant=tenant, listing=listing, register_record=record, number=record.number,
                             jurisdiction=jurisdiction, kind=kind, title=record.title, owner_name=record.owner_name,
                             expiry_date=expiry, classes=list(classes), position=i)
    refresh_listing_search(listing)
    Listing.objects.unscoped().filter(pk=listing.pk).update(state=Listing.State.SOLD)
    completed_at = timezone.make_aware(datetime.datetime.combine(completed_on, datetime.time(12)))
    order = Order.objects.create(tenant=tenant, listing=listing, buyer=creator, buyer_org=buyer, seller_org=seller,
                                 reference=f"IPX-T-{next(_seq):06d}", currency=currency or tenant.currency,
                                 price_minor=price_minor, deal_type=Listing.DealType.ASSIGNMENT)
    Order.objects.unscoped().filter(pk=order.pk).update(state=OrderState.COMPLETED, completed_at=completed_at)
    return order


def throwaway_ca(directory, *, common_name="Test Appraisers CA"):
    """A throwaway self-signed signing certificate (a CA the test trusts or not): (cert path, key path)."""
    from transfers import sealing

    cert, key = directory / f"{common_name}.crt.pem", directory / f"{common_name}.key.pem"
    sealing.generate_self_signed(cert, key, common_name=common_name)
    return cert, key


def report_pdf(text="Appraisal report. Value: CNY 5,000,000.") -> bytes:
    """A one-page PDF (reportlab)."""
    from io import BytesIO

    from reportlab.pdfgen import canvas

    out = BytesIO()
    pdf = canvas.Canvas(out, pageCompression=0)
    pdf.drawString(72, 720, text)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def signed_report(cert, key, *, text="Appraisal report. Value: CNY 5,000,000.") -> bytes:
    """`report_pdf` signed (PAdES, pyHanko) with the certificate and key at `cert`, `key`."""
    from io import BytesIO

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    signer = signers.SimpleSigner.load(str(key), str(cert), key_passphrase=None)
    writer = IncrementalPdfFileWriter(BytesIO(report_pdf(text)))
    meta = signers.PdfSignatureMetadata(field_name="Appraiser", subfilter=fields.SigSeedSubFilter.PADES,
                                        md_algorithm="sha256", reason="Appraisal report")
    return bytes(signers.sign_pdf(writer, meta, signer=signer).getvalue())
