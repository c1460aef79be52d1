"""Demo negotiation: on the zgc exchange one of the demo seller's published listings welcomes offers
(with a floor) and the demo buyer has made an offer the seller can answer. Idempotent: the pricing is
changed once, one open offer at most."""

import datetime

from django.utils import timezone

from accounts.models import User
from core.tenancy import tenant_context
from listings.models import Listing
from listings.services.pricing import listing_change_price

from .models import Offer
from .services import offer_make

SELLER = "seller@zgc.ipex.local"
BUYER = "buyer@zgc.ipex.local"


def seed(tenants):
    tenant = tenants.get("zgc")
    seller = User.objects.filter(email=SELLER).first()
    buyer = User.objects.filter(email=BUYER).first()
    if tenant is None or seller is None or buyer is None:
        return
    with tenant_context(tenant):
        listing = (Listing.objects.filter(state=Listing.State.PUBLISHED, seller_org__memberships__user=seller)
                   .exclude(orders__state__in=["placed", "seller_confirmed", "funded"]).order_by("pk").first())
        if listing is None:
            return
        if listing.pricing == Listing.Pricing.FIXED:
            listing_change_price(listing=listing, actor=seller, price_minor=listing.price_minor,
                                 pricing=Listing.Pricing.OFFERS, offer_floor_minor=listing.price_minor * 6 // 10,
                                 reason="demo: offers welcome")
            listing.refresh_from_db()
        if not Offer.objects.filter(listing=listing).exists():
            offer_make(listing=listing, actor=buyer, price_minor=listing.price_minor * 8 // 10,
                       currency=listing.currency, expires_at=timezone.now() + datetime.timedelta(days=14),
                       note="我们对这项专利很感兴趣，能否以八折成交？")
