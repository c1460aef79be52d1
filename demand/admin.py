"""Back-office views of wants, matches and auctions (read-only: every change goes through the services
on the website or the API; the exchange's figures are at /exchange/figures/)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin_site import ReadOnlyInline, TenantModelAdmin
from core.permissions import Role

from .matching import explain
from .models import Auction, Bid, Match, Want


class MatchInline(ReadOnlyInline):
    model = Match
    fields = ("title", "holder_org", "score", "why")
    readonly_fields = fields

    @admin.display(description=_("why"))
    def why(self, obj):
        return explain(obj.reasons)


@admin.register(Want)
class WantAdmin(TenantModelAdmin):
    view_roles = (Role.VERIFIER, Role.ESCROW_OFFICER)
    list_display = ("title", "buyer_org", "state", "deadline", "anonymous", "created_at")
    list_filter = ("state", "deal_type", "anonymous")
    search_fields = ("title", "keywords")
    readonly_fields = ("buyer_org", "created_by", "title", "keywords", "description", "classes", "kinds", "territories",
                       "deal_type", "budget_min_minor", "budget_max_minor", "currency", "deadline", "anonymous",
                       "state", "created_at")
    exclude = ("class_keys", "search_document")
    inlines = [MatchInline]


class BidInline(ReadOnlyInline):
    model = Bid
    fields = ("amount_minor", "bidder_org", "bidder", "placed_at")
    readonly_fields = fields


@admin.register(Auction)
class AuctionAdmin(TenantModelAdmin):
    view_roles = (Role.ESCROW_OFFICER, Role.FINANCE)
    list_display = ("__str__", "seller_org", "state", "current_price_minor", "bid_count", "ends_at")
    list_filter = ("state",)
    readonly_fields = ("listing", "seller_org", "created_by", "currency", "start_price_minor", "reserve_minor",
                       "increment_minor", "deposit_minor", "starts_at", "ends_at", "scheduled_end", "extension_seconds",
                       "state", "current_price_minor", "high_bid", "bid_count", "order", "closed_at")
    inlines = [BidInline]
