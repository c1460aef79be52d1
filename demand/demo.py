"""Demo wants and a running auction for the zgc exchange, through the real services.
Idempotent: once the demo buyer has a want, nothing more is added."""

import datetime

from django.utils import timezone

from accounts.models import Organization, User
from core.tenancy import tenant_context
from listings.models import Listing

from .auctions import auction_create
from .models import Auction, Want
from .services import WantInput, want_create

BUYER = "buyer@zgc.ipex.local"
SELLER = "seller@zgc.ipex.local"


def seed(tenants):
    tenant = tenants.get("zgc")
    if tenant is None:
        return
    with tenant_context(tenant):
        buyer = User.objects.filter(email=BUYER).first()
        seller = User.objects.filter(email=SELLER).first()
        if not (buyer and seller):
            return
        buyer_org = Organization.objects.filter(memberships__user=buyer).first()
        seller_org = Organization.objects.filter(memberships__user=seller).first()
        if buyer_org is None or seller_org is None or Want.objects.filter(buyer_org=buyer_org).exists():
            return
        today = timezone.localdate()
        want_create(actor=buyer, data=WantInput(
            title="锂电池电极与固态电解质技术 / Battery electrodes and solid electrolytes",
            keywords="锂电池 电极 electrode electrolyte", classes="H01M",
            budget_max_minor=100_000_000, deadline=today + datetime.timedelta(days=90)))
        want_create(actor=buyer, data=WantInput(
            title="第9类电子产品商标 / A trademark for consumer electronics", keywords="", classes="9",
            kinds=["trademark"], deadline=today + datetime.timedelta(days=60), anonymous=True))
        # The newest published listing: negotiation's demo makes its offer on the oldest, and a listing under
        # auction takes no offers.
        listing = (Listing.objects.filter(seller_org=seller_org, state=Listing.State.PUBLISHED)
                   .exclude(pk__in=Auction.objects.values("listing_id")).order_by("-pk").first())
        if listing is not None:
            now = timezone.now()
            auction_create(listing=listing, actor=seller, start_price_minor=max(listing.price_minor // 2, 100_00),
                           reserve_minor=listing.price_minor, increment_minor=max(listing.price_minor // 100, 100_00),
                           deposit_minor=max(listing.price_minor // 20, 100_00), starts_at=now,
                           ends_at=now + datetime.timedelta(days=3), extension_seconds=300)
