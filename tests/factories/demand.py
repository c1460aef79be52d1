"""Demand test data: wants, auctions and bidders with their deposits held, through the real services."""

import datetime

from django.utils import timezone

from accounts.models import Role

from .accounts import OrganizationFactory, make_member
from .escrow import deliver_payment, escrow_listing

__all__ = ["want_input", "post_want", "auction_for", "bidder_with_deposit", "open_auction"]


def want_input(**kw):
    from demand.services import WantInput

    defaults = dict(title="Battery electrode materials", keywords="lithium battery electrode",
                    classes="H01M 4/13", deadline=timezone.localdate() + datetime.timedelta(days=30))
    defaults.update(kw)
    return WantInput(**defaults)


def post_want(*, buyer=None, **kw):
    from demand.services import want_create

    buyer = buyer or make_member(roles=(Role.BUYER,))
    return want_create(actor=buyer, data=want_input(**kw)), buyer


def auction_for(*, listing=None, seller=None, start=100_000, reserve=150_000, increment=10_000, deposit=20_000,
                minutes=60, extension_seconds=120, starts_at=None):
    from demand.auctions import auction_create

    if listing is None:
        org = OrganizationFactory()
        seller = make_member(roles=(Role.SELLER,), org=org)
        listing = escrow_listing(seller_org=org, created_by=seller, price_minor=start * 3)
    now = timezone.now()
    auction = auction_create(listing=listing, actor=seller, start_price_minor=start, reserve_minor=reserve,
                             increment_minor=increment, deposit_minor=deposit,
                             starts_at=starts_at or now - datetime.timedelta(seconds=1),
                             ends_at=now + datetime.timedelta(minutes=minutes), extension_seconds=extension_seconds)
    return auction, seller


def bidder_with_deposit(auction, **user_kwargs):
    """A verified buyer of a new organization whose deposit for `auction` is held."""
    from demand.auctions import deposit_start

    user = make_member(roles=(Role.BUYER,), **user_kwargs)
    payment = deposit_start(auction=auction, actor=user)
    deliver_payment(payment)
    return user


def open_auction(n_bidders=2, **kw):
    auction, seller = auction_for(**kw)
    return auction, seller, [bidder_with_deposit(auction) for _ in range(n_bidders)]
