"""Every write to listings. Durable services own their transaction (lock → actor check → transition →
save → audit → notify/emit on commit); the hand-offs in `market` are NON-durable: escrow calls them
inside its own transaction with the listing row already locked.

- `seller`: create from the register, edit, certificate scans, submit, withdraw
- `verification`: start, decide (approve / reject), feature, register re-check and lapse
- `market`: reserve, release, sold, margin paid (escrow's hand-offs); the watchlist
"""

from .common import EDITABLE_STATES, LIVE_STATES, lock_listing
from .market import (
    listing_licences_taken,
    listing_margin_paid,
    listing_mark_sold,
    listing_release,
    listing_reserve,
    watch_toggle,
)
from .seller import (
    ListingInput,
    listing_attach_certificate,
    listing_create_from_register,
    listing_name_filing_route,
    listing_submit,
    listing_update,
    listing_withdraw,
    needs_filing_route,
)
from .verification import (
    lapse_reason,
    listing_decide,
    listing_lapse,
    listing_recheck,
    listing_set_featured,
    listing_start_verification,
)
from .views import listing_record_view, listing_views_flush

__all__ = [
    "ListingInput", "listing_create_from_register", "listing_name_filing_route", "needs_filing_route", "listing_update", "listing_attach_certificate",
    "listing_submit", "listing_start_verification", "listing_decide", "listing_withdraw", "listing_lapse",
    "listing_set_featured", "listing_reserve", "listing_release", "listing_licences_taken", "listing_mark_sold", "listing_margin_paid",
    "watch_toggle", "lock_listing", "EDITABLE_STATES", "LIVE_STATES", "listing_recheck", "lapse_reason",
    "listing_record_view", "listing_views_flush",
]
