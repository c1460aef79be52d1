"""Public pages: home, search, listing detail, watchlist, trademark images."""

import hashlib
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from django.utils.translation import get_language
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from core.cache import cached
from core.errors import DomainError
from core.events import ask
from core.http_cache import public_page
from core.permissions import is_member
from core.replicas import replica_reads

from .. import services
from ..forms import SearchForm
from ..models import Listing, RegisterRecord, RightKind, Watch
from ..search import example_number, number_feedback, search_listings, suggest
from ..selectors import listing_for_viewer
from ..services.pricing import price_history

CARD_FIELDS_DEFER = ("search_document", "description", "verification", "numbers", "class_keys")


def _cards(qs):
    return qs.defer(*CARD_FIELDS_DEFER).select_related("seller_org")


def _kind_counts(published) -> dict:
    return dict(published.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))


@public_page(s_maxage=60)
@replica_reads
def home(request):
    published = Listing.objects.filter(state=Listing.State.PUBLISHED)
    featured = list(_cards(published.filter(featured=True)).order_by("-published_at", "-id")[:6])
    recent = list(_cards(published).exclude(pk__in=[f.pk for f in featured]).order_by("-published_at", "-id")[:8])
    # Counting a million listings by kind takes a scan: the figures are cached briefly per exchange.
    counts = cached(f"listings:home-counts:{request.tenant.pk}", lambda: _kind_counts(published),
                    timeout=settings.LISTINGS_CACHE_SECONDS)
    kinds = [(value, label, counts.get(value, 0)) for value, label in RightKind.choices]
    cards = _result_rows(featured + recent, frozenset(), template="listings/_card.html")
    return render(request, "listings/home.html", {
        "featured": featured, "recent": recent, "kinds": kinds, "total": sum(counts.values()),
        "featured_cards": cards[:len(featured)], "recent_cards": cards[len(featured):],
        "example_number": example_number(),
    })


def _query_without(params, *names):
    return urlencode({k: v for k, v in params.items() if k not in names and v not in ("", None)})


@public_page(s_maxage=30)
@replica_reads
def search(request):
    form = SearchForm(request.GET or None, currency=request.tenant.currency)
    params = form.params()
    result = search_listings(params)
    query = {k: v for k, v in request.GET.items() if k != "page"}
    facet_links = {}
    labels = {"kind": dict(RightKind.choices), "deal_type": dict(Listing.DealType.choices)}
    from ..models import Jurisdiction

    labels["jurisdiction"] = dict(Jurisdiction.choices)
    for facet, counts in result.facets.items():
        base = _query_without(query, facet)
        facet_links[facet] = [
            {"value": value, "label": labels[facet].get(value, value), "count": count,
             "active": getattr(params, facet) == value,
             "url": "?" + (base + "&" if base else "") + urlencode({facet: value})}
            for value, count in counts.items() if count or getattr(params, facet) == value
        ]
    watched = set()
    if request.user.is_authenticated and result.listings:
        watched = set(Watch.objects.filter(user=request.user, listing__in=result.listings)
                      .values_list("listing_id", flat=True))
    page_query = _query_without(query, "page")
    # The filters column (the same for everyone with these filters, as long as the facet counts) and the
    # result rows (cached by content): one cache round trip for all of them.
    filters_key = (f"listings:filters:{request.tenant.pk}:{get_language()}:"
                   + hashlib.sha256(page_query.encode()).hexdigest()[:40])
    clear_url = "?" + urlencode({"q": params.q}) if params.q else "?"
    fragments = _fragments([(filters_key, lambda: render_to_string("listings/_search_filters.html", {
        "form": form, "result": result, "facets": facet_links, "clear_url": clear_url, "tenant": request.tenant}))] + [
        (_row_key(row, watched, "listings/_result_row.html"),
         lambda row=row: render_to_string("listings/_result_row.html", {"l": row, "watched": watched}))
        for row in result.listings])
    filters_column, result_rows = fragments[0], fragments[1:]
    number_error, corrected = number_feedback(params.q)
    suggestion = ""
    newest = []
    if not result.listings:
        if params.q and not result.is_number and not number_error:
            suggestion = suggest(params.q)
        newest = list(_cards(Listing.objects.filter(state=Listing.State.PUBLISHED))
                      .order_by("-published_at", "-id")[:6])
    return render(request, "listings/search.html", {
        "form": form, "result": result, "facets": facet_links, "watched": watched,
        "page_query": page_query, "clear_url": clear_url, "filters_column": filters_column,
        "sort_choices": form.fields["sort"].choices, "sort": params.effective_sort(),
        "chips": _active_filters(form, params, query, labels),
        "number_error": number_error,
        "corrected_url": "?" + urlencode({**query, "q": corrected}) if corrected else "",
        "corrected": corrected,
        "suggestion": suggestion, "suggestion_url": "?" + urlencode({**query, "q": suggestion}) if suggestion else "",
        "newest": newest, "result_rows": result_rows,
    })


def _row_key(row, watched, template: str) -> str:
    values = (template, get_language(), timezone.localdate(), row.pk, row.kind, row.jurisdiction, row.rights_count,
              row.featured, row.title, row.owner_name, row.seller_org.display_name, row.price_minor, row.currency,
              row.deal_type, row.expiry_date, row.pk in watched)
    return "listings:row:" + hashlib.sha256(repr(values).encode()).hexdigest()[:40]


def _fragments(items) -> list:
    """[(cache key, render)] -> the HTML of each, read from the cache in one round trip; the missing ones are
    rendered and stored for LISTINGS_CACHE_SECONDS (none of it is cached when that is 0)."""
    seconds = settings.LISTINGS_CACHE_SECONDS
    found = cache.get_many([key for key, _ in items]) if seconds > 0 and items else {}
    out, missing = [], {}
    for key, render_html in items:
        html = found.get(key)
        if html is None:
            html = render_html()
            missing[key] = html
        out.append(html)
    if missing and seconds > 0:
        cache.set_many(missing, seconds)
    return out


def _result_rows(listings, watched, template: str = "listings/_result_row.html") -> list:
    """The HTML of each result row (or card, with the card's template). A row shows only the listing's
    own columns (and whether the reader watches it), so its HTML is cached under a digest of exactly
    those values, the template, the language and the day (the remaining term): a changed listing has
    another key, and a page of rows seen before costs one cache read instead of twenty renderings."""
    return _fragments([(_row_key(row, watched, template),
                        lambda row=row: render_to_string(template, {"l": row, "watched": watched}))
                       for row in listings])


def _active_filters(form, params, query, labels) -> list[dict]:
    """The filters in force, each with the link that removes it (the search's chips)."""
    chips = []
    if params.q:
        chips.append({"label": f"“{params.q}”", "url": "?" + _query_without(query, "q")})
    for name in ("kind", "jurisdiction", "deal_type"):
        value = getattr(params, name)
        if value:
            chips.append({"label": f"{form.fields[name].label}: {labels[name].get(value, value)}",
                          "url": "?" + _query_without(query, name)})
    if params.klass:
        chips.append({"label": f"{form.fields['klass'].label}: {params.klass}", "url": "?" + _query_without(query, "klass")})
    if params.price_min is not None or params.price_max is not None:
        low, high = query.get("price_min", ""), query.get("price_max", "")
        chips.append({"label": f"{form.fields['price_min'].label} {low or '0'} – {high or '∞'}",
                      "url": "?" + _query_without(query, "price_min", "price_max")})
    if params.term:
        chips.append({"label": f"{form.fields['term'].label}: {dict(form.fields['term'].choices).get(params.term)}",
                      "url": "?" + _query_without(query, "term")})
    for chip in chips:
        if chip["url"] == "?":
            chip["url"] = "/search/"
    return chips


def _count_cached_view(request, pk):
    services.listing_record_view(listing_id=int(pk))  # the page came from the cache: still a view


@public_page(s_maxage=60, on_hit=_count_cached_view)
@replica_reads
def detail(request, pk):
    anonymous = not request.user.is_authenticated
    seconds = settings.LISTINGS_CACHE_SECONDS
    if anonymous and seconds > 0:
        # What an anonymous visitor sees of a published listing is the same for all of them: the page's
        # body is cached per listing and language for as long as a shared cache may keep the page
        # (s-maxage above); a change of state, price or the listing's row starts a new copy. Served
        # from the cache, the page reads four columns of the listing (visibility and the key).
        row = Listing.objects.filter(pk=pk).values_list("state", "price_minor", "updated_at", "title").first()
        if row is not None and row[0] == Listing.State.PUBLISHED:
            # A live auction (demand answers listing.sale_hold) changes the buy box: its state, price and
            # end are part of the key, so the copy cached before the auction is not served during it.
            hold = ask("listing.sale_hold", listing=Listing(pk=int(pk)), via="")
            held = (f"{hold.auction.pk}.{hold.auction.state}.{hold.auction.current_price_minor}."
                    f"{hold.auction.ends_at.timestamp()}" if hold is not None else "-")
            key = (f"listings:detail-body:{request.tenant.pk}:{pk}:{get_language()}:{row[0]}:{row[1]}:"
                   f"{row[2].timestamp() if row[2] else 0}:{held}")
            body = cache.get(key)
            if body is None:
                listing = listing_for_viewer(pk=pk, user=request.user)
                body = render_to_string("listings/_detail_body.html", _detail_context(request, listing), request)
                cache.set(key, body, seconds)
            services.listing_record_view(listing_id=int(pk))  # buffered in Redis when the cache is Redis
            return render(request, "listings/detail.html", {"title": row[3], "body": body})
    listing = listing_for_viewer(pk=pk, user=request.user)
    is_seller_view = listing.state not in (Listing.State.PUBLISHED, Listing.State.SOLD_OUT)
    if not is_seller_view and not is_member(request.user, listing.seller_org):
        services.listing_record_view(listing_id=listing.pk)  # buffered in Redis when the cache is Redis
    return render(request, "listings/detail.html", _detail_context(request, listing))


def _detail_context(request, listing) -> dict:
    watched = (request.user.is_authenticated
               and Watch.objects.filter(user=request.user, listing=listing).exists())
    # Panels of the trade extensions (e.g. financing's valuation), named by the project's settings so
    # listings imports no higher app: each is a callable(request=, listing=) returning HTML or "".
    panels = [import_string(path)(request=request, listing=listing)
              for path in getattr(settings, "LISTING_DETAIL_PANELS", ())]
    # A live sale of a higher app (demand's auction) holds the listing: the page shows it instead of Buy.
    sale_hold = ask("listing.sale_hold", listing=listing, via="") if listing.state == Listing.State.PUBLISHED else None
    return {
        "listing": listing, "rights": list(listing.rights.all()), "watched": watched,
        "is_seller_view": listing.state not in (Listing.State.PUBLISHED, Listing.State.SOLD_OUT),
        "sale_hold": sale_hold,
        "can_order": listing.state == Listing.State.PUBLISHED and not listing.price_on_request and sale_hold is None,
        "panels": [p for p in panels if p],
        "price_history": list(price_history(listing)[:10]),
    }


@require_POST
def watch_toggle(request, pk):
    if not request.user.is_authenticated:
        return redirect(f"/accounts/login/?next=/listings/{pk}/")
    listing = listing_for_viewer(pk=pk, user=request.user)
    try:
        watched = services.watch_toggle(user=request.user, listing=listing)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(listing.get_absolute_url())
    if request.htmx:
        return render(request, "listings/_watch_button.html", {"listing": listing, "watched": watched})
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = listing.get_absolute_url()
    return redirect(next_url)


@login_required
def watchlist(request):
    watches = (Watch.objects.filter(user=request.user).select_related("listing", "listing__seller_org")
               .defer(*[f"listing__{f}" for f in CARD_FIELDS_DEFER]).order_by("-created_at"))
    return render(request, "listings/watchlist.html", {"watches": watches})


PALETTE = ["#1d4ed8", "#0f766e", "#b91c1c", "#7c3aed", "#c2410c", "#047857", "#be185d", "#334155"]


@cache_control(max_age=86400, public=True)
def mark_image(request, jurisdiction, number):
    """A generated image of a trademark from the register (the embedded register has no scans)."""
    record = RegisterRecord.objects.filter(jurisdiction=jurisdiction.upper(), number=number, kind="trademark").first()
    if record is None:
        raise Http404
    colour = PALETTE[int(hashlib.sha256(record.title.encode()).hexdigest(), 16) % len(PALETTE)]
    text = escape(record.title)
    size = 64 if len(record.title) <= 4 else max(22, int(300 / max(len(record.title), 1)))
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 200" width="320" height="200" role="img"
 aria-label="{text}"><rect width="320" height="200" rx="18" fill="#fff"/><rect x="8" y="8" width="304" height="184"
 rx="14" fill="none" stroke="{colour}" stroke-width="6"/><circle cx="160" cy="62" r="26" fill="{colour}"/>
<text x="160" y="150" text-anchor="middle" font-family="'Noto Sans CJK SC','PingFang SC',sans-serif"
 font-weight="700" font-size="{size}" fill="{colour}">{text}</text></svg>"""
    return HttpResponse(svg, content_type="image/svg+xml")
