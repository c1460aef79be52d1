from .browse import detail, home, mark_image, search, watch_toggle, watchlist
from .sell import (
    sell_by_hand,
    sell_edit,
    sell_filing_route,
    sell_listing,
    sell_lookup,
    sell_mine,
    sell_new,
    sell_submit,
    sell_withdraw,
)

__all__ = ["home", "search", "detail", "watch_toggle", "watchlist", "mark_image", "sell_new", "sell_edit",
           "sell_lookup", "sell_by_hand", "sell_mine", "sell_listing", "sell_submit", "sell_withdraw",
           "sell_filing_route"]
