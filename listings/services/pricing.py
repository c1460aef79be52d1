"""Listing prices after publication (issue 14): the seller changes the asking price of a live listing
(audited, kept as price history, no new verification: the right did not change), and says whether
offers are welcome, or the price is on request, and below which floor offers are refused.

Durable services own their transaction: lock → actor → write → PriceChange row → audit."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import InvalidTransition, NotAllowed, ValidationFailed
from core.permissions import is_member
from listings.models import Listing, PriceChange

# The price can change while the listing is not yet sold nor held by an order.
PRICE_EDITABLE_STATES = (Listing.State.DRAFT, Listing.State.REJECTED, Listing.State.SUBMITTED,
                         Listing.State.IN_VERIFICATION, Listing.State.AWAITING_MARGIN, Listing.State.PUBLISHED)
MAX_PRICE_MINOR = 10**15


def _lock(listing) -> Listing:
    return Listing.objects.select_for_update(of=("self",)).select_related("seller_org").get(pk=listing.pk)


def may_manage_price(actor, listing, *, broker_orgs=()) -> bool:
    """A member of the seller's organization (or of a broker organization the caller vouches for:
    negotiation passes the organizations holding an accepted mandate for this listing)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return is_member(actor, listing.seller_org) or any(is_member(actor, org) for org in broker_orgs)


def _check_price(value, field):
    if value is None or isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > MAX_PRICE_MINOR:
        raise ValidationFailed(_("Enter a price between 0 and 10,000,000,000,000."),
                               field_errors={field: [_("Enter a valid amount.")]})


@transaction.atomic(durable=True)
def listing_change_price(*, listing, actor, price_minor: int, pricing: str | None = None,
                         offer_floor_minor: int | None = None, reason: str = "", broker_orgs=()) -> Listing:
    """Change the asking price (and optionally the pricing mode and the offer floor) of a listing that
    no order holds. Recorded as a PriceChange and an audit event; the listing stays published."""
    listing = _lock(listing)
    if not may_manage_price(actor, listing, broker_orgs=broker_orgs):
        raise NotAllowed(_("Only the seller (or its broker under a mandate) can change the price."))
    if listing.state not in PRICE_EDITABLE_STATES:
        raise InvalidTransition(_("This listing is %(state)s: its price cannot change now.")
                                % {"state": listing.get_state_display()})
    _check_price(price_minor, "price")
    pricing = pricing or listing.pricing
    if pricing not in Listing.Pricing.values:
        raise ValidationFailed(_("Choose how the price is set."), field_errors={"pricing": [_("Invalid choice.")]})
    if offer_floor_minor is not None:
        _check_price(offer_floor_minor, "offer_floor")
        if pricing == Listing.Pricing.OFFERS and offer_floor_minor > price_minor:
            raise ValidationFailed(_("The lowest offer you consider cannot be above the asking price."),
                                   field_errors={"offer_floor": [_("Lower it or raise the price.")]})
    if pricing == Listing.Pricing.FIXED:
        offer_floor_minor = None
    if pricing != Listing.Pricing.ON_REQUEST and price_minor <= 0:
        raise ValidationFailed(_("Enter a price above zero (or choose price on request)."),
                               field_errors={"price": [_("Enter a price above zero.")]})
    if (price_minor, pricing, offer_floor_minor) == (listing.price_minor, listing.pricing, listing.offer_floor_minor):
        return listing
    change = PriceChange.objects.create(listing=listing, old_price_minor=listing.price_minor,
                                        new_price_minor=price_minor, currency=listing.currency,
                                        old_pricing=listing.pricing, new_pricing=pricing,
                                        reason=(reason or "")[:300], changed_by=actor)
    before = {"price_minor": listing.price_minor, "pricing": listing.pricing, "offer_floor_minor": listing.offer_floor_minor}
    listing.price_minor, listing.pricing, listing.offer_floor_minor = price_minor, pricing, offer_floor_minor
    listing.save(update_fields=["price_minor", "pricing", "offer_floor_minor", "updated_at"])
    audit_record(actor=actor, action="listing.price_changed", obj=listing, reason=reason,
                 data={"before": before, "after": {"price_minor": price_minor, "pricing": pricing,
                                                   "offer_floor_minor": offer_floor_minor},
                       "currency": listing.currency, "price_change": change.pk})
    return listing


def price_history(listing):
    return PriceChange.objects.filter(listing=listing).select_related("changed_by").order_by("-changed_at", "-id")


__all__ = ["listing_change_price", "price_history", "may_manage_price", "PRICE_EDITABLE_STATES"]
