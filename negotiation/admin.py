"""Back-office for negotiated deals: offers with their rounds (escrow staff read them when a dispute
needs it), licences granted and their recordal, questions. Read-only: every change goes through the
services the website and the API call."""

from django.contrib import admin

from accounts.models import Role
from core.admin_site import ReadOnlyInline, TenantModelAdmin

from .models import Licence, Offer, OfferRound, Question


class OfferRoundInline(ReadOnlyInline):
    model = OfferRound
    fields = ("created_at", "kind", "side", "acting_org", "actor", "price_minor", "terms", "note")
    readonly_fields = fields


@admin.register(Offer)
class OfferAdmin(TenantModelAdmin):
    view_roles = (Role.ESCROW_OFFICER, Role.FINANCE)
    change_roles = ()
    list_display = ("id", "listing", "buyer_org", "seller_org", "state", "waiting_for", "price_minor", "currency",
                    "expires_at", "order")
    list_filter = ("state", "waiting_for")
    search_fields = ("listing__title", "buyer_org__legal_name", "seller_org__legal_name", "order__reference")
    list_select_related = ("listing", "buyer_org", "seller_org", "order")
    readonly_fields = [f.name for f in Offer._meta.fields]
    inlines = [OfferRoundInline]


@admin.register(Licence)
class LicenceAdmin(TenantModelAdmin):
    view_roles = (Role.ESCROW_OFFICER, Role.FINANCE, Role.VERIFIER)
    change_roles = ()
    list_display = ("listing", "licensor_org", "licensee_org", "exclusive", "territory", "field_of_use", "state",
                    "royalty_bps", "order")
    list_filter = ("state", "exclusive")
    search_fields = ("listing__title", "licensee_org__legal_name", "order__reference")
    list_select_related = ("listing", "licensor_org", "licensee_org", "order")
    readonly_fields = [f.name for f in Licence._meta.fields]


@admin.register(Question)
class QuestionAdmin(TenantModelAdmin):
    view_roles = (Role.ESCROW_OFFICER, Role.VERIFIER)
    change_roles = ()
    list_display = ("listing", "asker_org", "visibility", "asked_at", "answered_at")
    list_filter = ("visibility",)
    search_fields = ("listing__title", "text", "answer")
    readonly_fields = [f.name for f in Question._meta.fields]
