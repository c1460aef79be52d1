"""Listings test data: register records with valid numbers, and listings driven through the services."""

import datetime
import itertools

from django.utils import timezone

from accounts.models import Role
from core.tenancy import require_tenant
from listings.models import Listing, RegisterRecord
from listings.search import refresh_listing_search
from listings.services import ListingInput, listing_create_from_register
from listings.services.seller import _set_rights
from rights.numbers import cn_check_character

from .accounts import OrganizationFactory, make_member

__all__ = ["register_record", "cn_application_number", "seller_with_org", "draft_listing", "published_listing",
           "verifier"]

_seq = itertools.count(1)


def cn_application_number(year=2019, type_digit=1, serial=None):
    serial = serial if serial is not None else 1000000 + next(_seq) * 7919 % 8999999
    digits = f"{year}{type_digit}{serial:07d}"
    return f"{digits}.{cn_check_character(digits)}"


def register_record(*, owner_name="Acme", kind="invention", jurisdiction="CN", title=None, number=None, **kw):
    """A valid, in-force right in the register (CN invention unless told otherwise)."""
    today = timezone.localdate()
    filing = kw.pop("filing_date", today - datetime.timedelta(days=365 * 3))
    if number is None:
        if kind == "trademark":
            number = str(20000000 + next(_seq))
        else:
            number = cn_application_number(filing.year, {"invention": 1, "utility_model": 2, "design": 3}[kind])
    defaults = dict(
        grant_date=filing + datetime.timedelta(days=500), filing_date=filing,
        expiry_date=filing.replace(year=filing.year + 20), legal_status="valid",
        renewal_paid_through=today + datetime.timedelta(days=200),
        classes=["09"] if kind == "trademark" else ["H04L 9/32"],
        abstract="",
    )
    defaults.update(kw)
    return RegisterRecord.objects.create(number=number, jurisdiction=jurisdiction, kind=kind,
                                         title=title or f"一种数据压缩方法 {next(_seq)}", owner_name=owner_name,
                                         **defaults)


def seller_with_org(**org_kwargs):
    org = OrganizationFactory(**org_kwargs)
    user = make_member(roles=(Role.SELLER,), org=org)
    return user, org


def verifier():
    return make_member(roles=(Role.VERIFIER,), org=False)


def draft_listing(*, seller=None, org=None, records=None, price_minor=5_000_000, title="数据压缩专利转让",
                  deal_type="assignment", **kw):
    if seller is None:
        seller, org = seller_with_org()
    records = records or [register_record(owner_name=org.legal_name)]
    data = ListingInput(title=title, price_minor=price_minor, deal_type=deal_type,
                        licence_term_months=kw.pop("licence_term_months", 24 if deal_type != "assignment" else None),
                        licence_territory=kw.pop("licence_territory", "中国大陆" if deal_type != "assignment" else ""),
                        **kw)
    return listing_create_from_register(actor=seller, organization=org, records=records, data=data)


def published_listing(*, org=None, records=None, title=None, price_minor=5_000_000, featured=False, **kw):
    """A published listing written directly (no services): fast fixtures for search tests."""
    tenant = require_tenant()
    org = org or OrganizationFactory()
    creator = kw.pop("created_by", None) or make_member(roles=(Role.SELLER,), org=org)
    records = records or [register_record(owner_name=org.legal_name, title=title)]
    listing = Listing.objects.create(
        tenant=tenant, seller_org=org, created_by=creator, title=title or records[0].title, price_minor=price_minor,
        currency=tenant.currency, state=Listing.State.PUBLISHED, published_at=kw.pop("published_at", timezone.now()),
        featured=featured, deal_type=kw.pop("deal_type", "assignment"), **kw)
    _set_rights(listing, records)
    refresh_listing_search(listing)
    return listing
