"""The valuation panel on the listing page (named in settings.LISTING_DETAIL_PANELS, so listings does
not import financing)."""

from django.template.loader import render_to_string

from .valuation import valuate_listing


def listing_valuation_panel(*, request, listing) -> str:
    if not any(r.register_record_id for r in listing.rights.all()):
        return ""
    valuation = valuate_listing(listing)
    return render_to_string("financing/_valuation.html", {"valuation": valuation, "compact": True,
                                                           "records": valuation.records}, request=request)
