"""NON-durable hand-offs escrow calls inside its own transaction (the listing row already locked by
escrow): reserve, release, sold, margin paid; and the buyer's watchlist."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.errors import NotAllowed
from core.events import emit
from core.notifications import notify

from ..models import Listing, Watch
from .common import _seller_users, _transition

# --- NON-durable: escrow calls these inside its transaction, the listing row already locked ----------


def listing_reserve(*, listing) -> Listing:
    """An order was placed: the listing leaves search until the order ends."""
    _transition(listing, "reserve", actor=None, action="listing.reserve")
    return listing


def listing_release(*, listing) -> Listing:
    """The order was cancelled or refunded: the listing is published again."""
    _transition(listing, "release", actor=None, action="listing.release")
    return listing


def listing_mark_sold(*, listing) -> Listing:
    _transition(listing, "mark_sold", actor=None, action="listing.sold")
    emit("listing.sold", organizations=[listing.seller_org], data={"listing": listing.pk}, listing=listing)
    return listing


def listing_licences_taken(*, listing, taken: int) -> Listing:
    """Escrow counted the licences of a capped non-exclusive licence listing that are taken (orders live or
    completed), under the listing lock. At the cap the listing leaves the market as sold out; below it
    again (an order cancelled or refunded before recordal) it is offered again. Nothing for other listings."""
    cap = listing.licence_cap
    if listing.deal_type != Listing.DealType.NON_EXCLUSIVE_LICENCE or not cap:
        return listing
    data = {"taken": taken, "cap": cap}
    if taken >= cap and listing.state == Listing.State.PUBLISHED:
        _transition(listing, "sell_out", actor=None, action="listing.sold_out", data=data)
        notify(users=_seller_users(listing), kind="listing.sold_out",
               subject=gettext_lazy("All licences of “%(title)s” are taken"),
               body=gettext_lazy("The listing is shown as sold out; it is offered again if a licence order is "
                                 "cancelled or refunded before recordal."),
               params={"title": listing.title}, url=listing.get_absolute_url())
        emit("listing.sold", organizations=[listing.seller_org], data={"listing": listing.pk, "sold_out": True},
             listing=listing)
    elif taken < cap and listing.state == Listing.State.SOLD_OUT:
        _transition(listing, "reopen", actor=None, action="listing.reopened", data=data)
        emit("listing.published", organizations=[listing.seller_org], data={"listing": listing.pk}, listing=listing)
    return listing


def listing_margin_paid(*, listing, actor_label: str, data: dict) -> Listing:
    """Escrow holds the seller's margin: the listing awaiting it is published."""
    before = listing.state
    listing.margin_paid()
    listing.published_at = listing.published_at or timezone.now()
    listing.save(update_fields=["state", "published_at", "updated_at"])
    audit_record(actor_label=actor_label, action="listing.margin_paid", obj=listing, from_state=before,
                 to_state=listing.state, data=data)
    emit("listing.published", organizations=[listing.seller_org], data={"listing": listing.pk}, listing=listing)
    notify(users=_seller_users(listing), kind="margin.paid",
           subject=gettext_lazy("Margin received: “%(title)s” is published"),
           params={"title": listing.title}, url="")
    return listing


# --- watchlist ------------------------------------------------------------------------------


def watch_toggle(*, user, listing) -> bool:
    """Add the listing to the user's watchlist, or remove it; returns whether it is watched now."""
    if not user.is_authenticated:
        raise NotAllowed(_("Log in to keep a watchlist."))
    with transaction.atomic():
        deleted, _count = Watch.objects.filter(user=user, listing=listing).delete()
        if deleted:
            return False
        Watch.objects.get_or_create(user=user, listing=listing)
        return True
