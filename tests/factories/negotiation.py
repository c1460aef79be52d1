"""Negotiation test data: listings that take offers, offers and mandates driven through the services."""

import datetime

from django.utils import timezone

from accounts.mandates import mandate_accept, mandate_propose
from accounts.models import Role
from listings.models import Listing

from .accounts import OrganizationFactory, make_member
from .escrow import escrow_listing

__all__ = ["offer_listing", "licence_listing", "broker_mandate"]


def offer_listing(*, price_minor=1_000_000, pricing=Listing.Pricing.OFFERS, floor=None, deal_type="assignment", **kw):
    """(listing, seller user): a published listing that takes offers."""
    seller_org = OrganizationFactory()
    seller = make_member(roles=(Role.SELLER,), org=seller_org)
    listing = escrow_listing(seller_org=seller_org, price_minor=price_minor, created_by=seller, pricing=pricing,
                             offer_floor_minor=floor, deal_type=deal_type, **kw)
    return listing, seller


def licence_listing(*, exclusive=False, cap=None, price_minor=500_000, **kw):
    kw.setdefault("licence_territory", "CN")
    kw.setdefault("licence_term_months", 36)
    return offer_listing(price_minor=price_minor, deal_type="exclusive_licence" if exclusive else "non_exclusive_licence",
                         licence_cap=cap, **kw)


def broker_mandate(*, principal_org, listing_ids=(), commission_bps=500, accepted_by=None, side="seller",
                   may_sign=False, broker_name=None):
    """(mandate, broker user): a broker organization's mandate for `principal_org` (accepted by
    `accepted_by` when given). `side="buyer"` for a buyer's broker; `may_sign` lets it sign papers."""
    broker_org = OrganizationFactory(legal_name=f"Broker {OrganizationFactory._meta.model.objects.count()} Ltd.")
    broker = make_member(roles=(Role.SELLER,), org=broker_org, **({"full_name": broker_name} if broker_name else {}))
    today = timezone.localdate()
    mandate = mandate_propose(actor=broker, broker_org=broker_org, principal_org=principal_org,
                              listing_ids=listing_ids, all_listings=not listing_ids, commission_bps=commission_bps,
                              side=side, may_sign=may_sign,
                              starts_on=today, ends_on=today + datetime.timedelta(days=365))
    if accepted_by is not None:
        mandate = mandate_accept(mandate=mandate, actor=accepted_by)
    return mandate, broker
