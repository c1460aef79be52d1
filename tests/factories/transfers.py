"""Transfers test data: orders with registered rights, in a given state, built directly (the transfer
steps themselves go through the real services in the tests)."""

import itertools
from datetime import date, timedelta

from django.utils import timezone

from accounts.models import Role
from core.tenancy import require_tenant
from escrow.models import Order, OrderState
from listings.models import LegalStatus, Listing, RegisterRecord, Right

from .accounts import OrganizationFactory, make_member

__all__ = ["transfer_order", "transfer_officer", "register_right", "sign_all_papers", "filed_order"]

_seq = itertools.count(1)


def register_right(*, listing, jurisdiction="CN", kind="invention", number=None, owner_name=None, title=None,
                   legal_status=LegalStatus.VALID, renewal_paid_through=None, expiry_date=None):
    """A register record and the listing's right snapshotted from it."""
    n = next(_seq)
    number = number or {"CN": f"ZL2023{n:07d}.{n % 10}", "US": f"US{11000000 + n}B2",
                        "EP": f"0{18000000 + n}", "WO": f"{1600000 + n}"}[jurisdiction]
    owner_name = owner_name or listing.seller_org.legal_name
    title = title or f"一种低功耗数据压缩方法 Low-power data compression {n}"
    today = date.today()
    record = RegisterRecord.objects.create(
        number=number, jurisdiction=jurisdiction, kind=kind, title=title, owner_name=owner_name,
        owner_country=listing.seller_org.country, legal_status=legal_status,
        filing_date=today - timedelta(days=900), grant_date=today - timedelta(days=400),
        expiry_date=expiry_date or today + timedelta(days=3000),
        renewal_paid_through=renewal_paid_through or today + timedelta(days=200),
    )
    right = Right.objects.create(
        listing=listing, register_record=record, number=number, jurisdiction=jurisdiction, kind=kind, title=title,
        owner_name=owner_name, filing_date=record.filing_date, grant_date=record.grant_date,
        expiry_date=record.expiry_date, legal_status=legal_status, renewal_paid_through=record.renewal_paid_through,
    )
    return record, right


def transfer_officer():
    return make_member(roles=(Role.ESCROW_OFFICER,), org=False, full_name="Zhang Wei")


def transfer_order(*, state=OrderState.FUNDED, jurisdiction="CN", kind="invention", seller_country="CN",
                   buyer_country="CN", rights=1, price_minor=5_000_000, deal_type=Listing.DealType.ASSIGNMENT,
                   funded_days_ago=0):
    """(order, seller user, buyer user): a listing with `rights` registered rights, and an order in
    `state` created directly (no payment objects)."""
    tenant = require_tenant()
    n = next(_seq)
    seller_org = OrganizationFactory(country=seller_country, legal_name=f"清源大学技术转移中心 {n}",
                                     legal_name_en=f"Qingyuan University Tech Transfer {n}",
                                     registration_number=f"12100000{n:010d}", address="北京市海淀区清华园1号")
    buyer_org = OrganizationFactory(country=buyer_country, legal_name=f"Starriver Devices {n} Ltd",
                                    legal_name_en=f"Starriver Devices {n} Ltd", registration_number=f"9111{n:014d}",
                                    address="88 Harbour Road, Wan Chai, Hong Kong")
    seller = make_member(roles=(Role.SELLER,), org=seller_org, full_name="Chen Jing")
    buyer = make_member(roles=(Role.BUYER,), org=buyer_org, full_name="Liu Yang")
    listing = Listing.objects.create(
        seller_org=seller_org, created_by=seller, title=f"低功耗数据压缩专利 {n}", price_minor=price_minor,
        currency=tenant.currency, state=Listing.State.RESERVED, deal_type=deal_type)
    for _ in range(rights):
        register_right(listing=listing, jurisdiction=jurisdiction, kind=kind)
    now = timezone.now()
    funded_at = now - timedelta(days=funded_days_ago)
    order = Order.objects.create(
        reference=f"IPX-T-{n:06d}", listing=listing, buyer=buyer, buyer_org=buyer_org, seller_org=seller_org,
        state=state, currency=tenant.currency, price_minor=price_minor, deal_type=deal_type,
        confirmed_at=funded_at, funded_at=funded_at, filing_due=funded_at + timedelta(days=tenant.sign_and_file_days),
    )
    return order, seller, buyer


def sign_all_papers(order, seller, buyer, ip="203.0.113.7"):
    from transfers.models import SIGNED_KINDS, TransferDocument
    from transfers.services import document_sign, transfer_prepare

    transfer_prepare(order=order)
    for document in TransferDocument.objects.filter(order=order, superseded=False, kind__in=SIGNED_KINDS):
        for user in (seller, buyer):
            document_sign(document=document, user=user, typed_name=user.full_name, consent=True, ip_address=ip)


def filed_order(*, outcome="approve", **kwargs):
    """An order filed with the simulated office (papers signed). Returns (order, seller, buyer, officer, filing)."""
    from transfers.selectors import current_filing
    from transfers.services import transfer_file

    order, seller, buyer = transfer_order(**kwargs)
    sign_all_papers(order, seller, buyer)
    filing = current_filing(order)
    if outcome:
        type(filing).objects.filter(pk=filing.pk).update(simulated_outcome=outcome)
    officer = transfer_officer()
    filing = transfer_file(order=order, actor=officer)
    order.refresh_from_db()
    return order, seller, buyer, officer, filing
