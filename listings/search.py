"""Listing search: the denormalised search columns and the query behind /search/.

The search document is a tsvector in the 'simple' configuration over title (weight A), owner, numbers
and tags (B), abstracts and description (C); Chinese is indexed as character bigrams
(listings.search_text). Numbers typed in any accepted form become lookup keys matched against
`Listing.numbers` (GIN). Only published listings are searchable (partial indexes).
"""

from __future__ import annotations

import datetime
import hashlib
import re
import time
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Count, F, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.replicas import read_connection
from core.tenancy import require_tenant
from rights.classes import class_keys
from rights.numbers import search_keys

from .models import Listing, RightKind
from .search_text import document_text, tsquery

PAGE_SIZE = 20
SORTS = ("relevance", "newest", "price_asc", "price_desc", "term")
TERM_FILTERS = {"1": 1, "3": 3, "5": 5, "10": 10}  # at least N years left


def class_token(key: str) -> str:
    """The class key as a lexeme of the search document ('H04L9/32' -> 'xch04l932'), so a keyword search
    filtered by class intersects both in the GIN index instead of reading every keyword match."""
    return "xc" + re.sub(r"[^0-9a-z]", "", key.lower())


def refresh_listing_search(listing: Listing) -> None:
    """Recompute the denormalised search columns of one listing from its rights (inside the caller's
    transaction)."""
    rights = list(listing.rights.select_related("register_record").order_by("position", "id"))
    numbers, classes, owners, titles, abstracts, expiries = set(), set(), [], [], [], []
    for r in rights:
        record = r.register_record
        if record is not None:
            numbers.update(record.keys)
        else:
            numbers.update(search_keys(r.number))
        classes.update(class_keys(r.kind, r.classes))
        if r.owner_name and r.owner_name not in owners:
            owners.append(r.owner_name)
        titles.append(r.title)
        abstracts.append(r.abstract[:2000])
        if record is not None:  # both languages the register has are searchable (bilingual search)
            titles.append(record.title_en)
            abstracts.append((record.abstract_en or "")[:2000])
            if record.title and record.title != r.title:
                titles.append(record.title)
        if r.expiry_date:
            expiries.append(r.expiry_date)
        numbers_text = " ".join([r.number.replace(".", " "), r.publication_number])
        abstracts.append(numbers_text)
    first = rights[0] if rights else None
    org = listing.seller_org
    Listing.objects.unscoped().filter(pk=listing.pk).update(
        kind=first.kind if first else "",
        jurisdiction=first.jurisdiction if first else "",
        owner_name=(owners[0] if owners else "")[:300],
        expiry_date=min(expiries) if expiries else None,
        rights_count=len(rights),
        class_keys=sorted(classes),
        numbers=sorted(numbers),
        search_document=(
            SearchVector(Value(document_text(listing.title, *titles)), config="simple", weight="A")
            + SearchVector(Value(document_text(*owners, org.legal_name, org.legal_name_en,
                                               " ".join(listing.industry_tags))), config="simple", weight="B")
            + SearchVector(Value(document_text(listing.description, *abstracts)), config="simple", weight="C")
            + SearchVector(Value(" ".join(class_token(k) for k in sorted(classes))), config="simple", weight="D")
        ),
    )
    listing.refresh_from_db(fields=["kind", "jurisdiction", "owner_name", "expiry_date", "rights_count",
                                    "class_keys", "numbers"])


@dataclass
class SearchParams:
    q: str = ""
    kind: str = ""
    jurisdiction: str = ""
    klass: str = ""
    price_min: int | None = None  # minor units
    price_max: int | None = None
    deal_type: str = ""
    term: str = ""
    sort: str = ""
    page: int = 1

    def effective_sort(self):
        if self.sort in SORTS:
            return self.sort
        return "relevance" if self.q else "newest"


@dataclass
class SearchResult:
    params: SearchParams
    listings: list
    total: int
    facets: dict = field(default_factory=dict)
    is_number: bool = False
    approximate: bool = False  # counts are estimates from a sample (very large result sets)
    newest_instead_of_rank: bool = False  # too many matches to rank: newest first

    @property
    def pages(self):
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def has_next(self):
        return self.params.page < self.pages

    @property
    def has_previous(self):
        return self.params.page > 1


def matching_listings(params: SearchParams, *, skip: str = "", text_index: bool = True, also: str = ""):
    """Published listings of the tenant in context, filtered by every parameter except `skip`.

    With `text_index=False` the keyword condition is the function behind `@@` (`ts_match_vq(...)`), which no
    index serves and which the planner estimates at a third of the rows: for very many matches, walking
    the newest-first covering index and testing each entry reads ~60 / selectivity entries, where a
    bitmap of all matches would read every one of them (the planner multiplies the frequencies of the
    correlated bigrams of a Chinese word and would otherwise choose a full scan)."""
    qs = Listing.objects.filter(state=Listing.State.PUBLISHED)
    keys = search_keys(params.q) if params.q else []
    text_query = None
    if keys:
        qs = qs.filter(numbers__overlap=keys)
    elif params.q:
        expression = tsquery(params.q)
        if expression and params.klass:
            expression += " & " + class_token(params.klass.replace(" ", "").upper())
        if expression and also:
            expression += f" & ({also})"
        if expression:
            text_query = SearchQuery(expression, config="simple", search_type="raw")
            if text_index:
                qs = qs.filter(search_document=text_query)
            else:
                qs = qs.extra(  # noqa: S610 - constant SQL, the query text is a bound parameter
                    where=["ts_match_vq(listings_listing.search_document, to_tsquery('simple', %s))"],
                    params=[expression])
    if params.kind and skip != "kind":
        qs = qs.filter(kind=params.kind)
    if params.jurisdiction and skip != "jurisdiction":
        qs = qs.filter(jurisdiction=params.jurisdiction)
    if params.deal_type and skip != "deal_type":
        qs = qs.filter(deal_type=params.deal_type)
    if params.klass:
        qs = qs.filter(class_keys__contains=[params.klass.replace(" ", "").upper()])
    if params.price_min is not None:
        qs = qs.filter(price_minor__gte=params.price_min)
    if params.price_max is not None:
        qs = qs.filter(price_minor__lte=params.price_max)
    if params.term in TERM_FILTERS:
        today = timezone.localdate()
        years = TERM_FILTERS[params.term]
        try:
            limit = today.replace(year=today.year + years)
        except ValueError:
            limit = today + datetime.timedelta(days=365 * years)
        qs = qs.filter(expiry_date__gte=limit)
    return qs, text_query, bool(keys)


EXACT_FACETS_UP_TO = 1000  # above this many matches, facet counts come from a sample (shown as "about")
SAMPLE_TABLE_ROWS = 10000  # rows of the table a sample reads


def _grouped(qs, *, sample_percent: float | None = None) -> list[tuple[str, str, str, int]]:
    """(kind, jurisdiction, deal_type, count) over `qs`: one GROUP BY, optionally over a TABLESAMPLE."""
    grouped = qs.order_by().values_list("kind", "jurisdiction", "deal_type").annotate(n=Count("id"))
    if sample_percent is None:
        return list(grouped)
    sql, args = grouped.query.sql_with_params()
    table = connection.ops.quote_name(Listing._meta.db_table)
    sql = sql.replace(f"FROM {table}", f"FROM {table} TABLESAMPLE SYSTEM ({float(sample_percent):.4f})", 1)
    scale = 100.0 / sample_percent
    with read_connection(Listing).cursor() as cursor:
        cursor.execute(sql, args)
        return [(k, j, d, int(round(n * scale))) for k, j, d, n in cursor.fetchall()]


_reltuples_cache: dict = {}


def _sample_percent() -> float:
    cached = _reltuples_cache.get("rows")
    if cached is None or cached[1] < time.monotonic():
        with read_connection(Listing).cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [Listing._meta.db_table])
            row = cursor.fetchone()
        cached = (max(float(row[0]) if row else 0.0, 1.0), time.monotonic() + 300)
        _reltuples_cache["rows"] = cached
    return min(100.0, max(0.5, 100.0 * SAMPLE_TABLE_ROWS / cached[0]))


_stats_cache: dict = {}


def _column_stats():
    """Lexeme frequencies of the search documents and the tenants' shares of the table, from pg_stats
    (cached for ten minutes per process)."""
    cached = _stats_cache.get("stats")
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    lexemes, tenants = {}, {}
    with read_connection(Listing).cursor() as cursor:
        cursor.execute(
            "SELECT attname, most_common_elems::text::text[], most_common_elem_freqs, "
            "most_common_vals::text::text[], most_common_freqs FROM pg_stats "
            "WHERE tablename = %s AND attname IN ('search_document', 'tenant_id')", [Listing._meta.db_table])
        for attname, elems, elem_freqs, vals, val_freqs in cursor.fetchall():
            if attname == "search_document" and elems:
                lexemes = dict(zip(elems, elem_freqs[:len(elems)], strict=False))
            elif attname == "tenant_id" and vals:
                tenants = {int(v): f for v, f in zip(vals, val_freqs, strict=False)}
    stats = (lexemes, tenants)
    _stats_cache["stats"] = (stats, time.monotonic() + 600)
    return stats


def estimated_keyword_matches(q: str) -> float:
    """Rough number of the tenant's published listings matching keyword `q`, from the statistics.

    PostgreSQL multiplies the frequencies of the bigrams of one Chinese word as if they were independent
    and so underestimates such words a hundredfold; here the bigrams of one run count once (their
    rarest), separate words multiply."""
    from .search_text import _TOKEN, CJK_RUN_RE, cjk_bigrams

    lexemes, tenants = _column_stats()
    if not lexemes:
        return 0.0
    floor = min(lexemes.values()) / 2
    selectivity = 1.0
    for token in _TOKEN.findall(q or ""):
        if CJK_RUN_RE.fullmatch(token):
            terms = cjk_bigrams(token)
            freq = min((lexemes.get(t, floor) for t in terms), default=floor) if len(token) > 1 else sum(
                f for lex, f in lexemes.items() if lex.startswith(token))
        else:
            word = token.lower()
            freq = sum(f for lex, f in lexemes.items() if lex.startswith(word)) or floor
        selectivity *= min(freq, 1.0)
    share = tenants.get(require_tenant().pk, 0.0)
    _sample_percent()  # refreshes the cached table size
    return _reltuples_cache["rows"][0] * share * selectivity


def _without_facet_filters(params: SearchParams) -> SearchParams:
    return SearchParams(**{**params.__dict__, "kind": "", "jurisdiction": "", "deal_type": ""})


def _fold(params: SearchParams, rows) -> dict:
    """Facet counts from (kind, jurisdiction, deal_type, n) rows of the set without the three facet filters:
    each facet counts what the other filters leave (choosing a kind still shows the other kinds' counts)."""
    from .models import Jurisdiction

    facets: dict[str, dict[str, int]] = {
        "kind": dict.fromkeys(RightKind.values, 0), "jurisdiction": dict.fromkeys(Jurisdiction.values, 0),
        "deal_type": dict.fromkeys(Listing.DealType.values, 0)}
    for kind, jurisdiction, deal_type, n in rows:
        if (not params.jurisdiction or jurisdiction == params.jurisdiction) and (
                not params.deal_type or deal_type == params.deal_type) and kind in facets["kind"]:
            facets["kind"][kind] += n
        if (not params.kind or kind == params.kind) and (
                not params.deal_type or deal_type == params.deal_type) and jurisdiction in facets["jurisdiction"]:
            facets["jurisdiction"][jurisdiction] += n
        if (not params.kind or kind == params.kind) and (
                not params.jurisdiction or jurisdiction == params.jurisdiction) and deal_type in facets["deal_type"]:
            facets["deal_type"][deal_type] += n
    return facets


def keyword_estimate(params: SearchParams) -> float | None:
    """The statistics' idea of how many listings a keyword search (with its class, if any) matches; None
    for a search without keyword, or a number."""
    if not params.q or search_keys(params.q) or not tsquery(params.q):
        return None
    estimate = estimated_keyword_matches(params.q)
    if params.klass:
        lexemes, _ = _column_stats()
        if lexemes:
            token = class_token(params.klass.replace(" ", "").upper())
            estimate *= min(lexemes.get(token, min(lexemes.values()) / 2), 1.0)
    return estimate


def clearly_many(params: SearchParams) -> bool:
    """Whether the statistics say a keyword search matches far more than EXACT_FACETS_UP_TO listings, so
    reading the first EXACT_FACETS_UP_TO + 1 of them would be wasted."""
    estimate = keyword_estimate(params)
    return estimate is not None and estimate > 5 * EXACT_FACETS_UP_TO


# The single pass over the matches (see _scan): its columns, by position.
_ID, _KIND, _JURISDICTION, _DEAL, _PUBLISHED, _PRICE, _TERM, _BLOCK, _RANK = range(9)
_BLOCK_SQL = RawSQL('("listings_listing"."ctid"::text::point)[0]::bigint', ())  # the heap block of the row


def _scan(params: SearchParams, *, rank: bool) -> list[tuple]:
    """At most EXACT_FACETS_UP_TO + 1 matches of the search without its facet filters, each with what the
    facets and every sort need (and its rank when `rank`): one read of the matches, in the order the
    index gives them. When they are all there, the facets, the total and the page's order come from
    these tuples (search_listings), and only the page's rows are read afterwards."""
    qs, text_query, _ = matching_listings(_without_facet_filters(params))
    columns = ["pk", "kind", "jurisdiction", "deal_type", "published_at", "price_minor", "term_key", "block"]
    qs = qs.annotate(term_key=TERM_KEY, block=_BLOCK_SQL)
    if rank and text_query is not None:
        qs = qs.annotate(rank=SearchRank(F("search_document"), text_query))
        columns.append("rank")
    return list(qs.order_by().values_list(*columns)[:EXACT_FACETS_UP_TO + 1])


def _scan_facets(params: SearchParams, scan: list[tuple], *, scale: float = 1.0) -> dict:
    counts: dict[tuple, int] = {}
    for row in scan:
        key = (row[_KIND], row[_JURISDICTION], row[_DEAL])
        counts[key] = counts.get(key, 0) + 1
    return _fold(params, [(*key, int(round(n * scale))) for key, n in counts.items()])


BLOCK_QUANTILES = 200


def _tenant_block_quantiles() -> list[int]:
    """Heap block numbers at the 1/200 ... 200/200 quantiles of the published listings of the tenant in
    context, from a TABLESAMPLE of about SAMPLE_TABLE_ROWS rows (cached ten minutes); [] when the sample
    holds fewer than BLOCK_QUANTILES of them."""
    from core.cache import cached

    def compute():
        table = connection.ops.quote_name(Listing._meta.db_table)
        fractions = [i / BLOCK_QUANTILES for i in range(1, BLOCK_QUANTILES + 1)]
        with read_connection(Listing).cursor() as cursor:
            cursor.execute(
                f"SELECT percentile_disc(%s::float8[]) WITHIN GROUP (ORDER BY (ctid::text::point)[0]), count(*) "  # noqa: S608
                f"FROM {table} TABLESAMPLE SYSTEM ({float(_sample_percent()):.4f}) "
                "WHERE tenant_id = %s AND state = 'published'", [fractions, require_tenant().pk])
            row = cursor.fetchone()
        if not row or row[1] < BLOCK_QUANTILES:  # too few sampled rows of this exchange to tell
            return []
        return [int(b) for b in row[0]]

    return cached(f"listings:block-quantiles:{require_tenant().pk}", compute, timeout=600)


def _estimated_total(scan: list[tuple]) -> int | None:
    """How many matches there are, from a scan that stopped at EXACT_FACETS_UP_TO + 1 of them.

    A bitmap scan of the GIN index returns matches in heap order: if the first n matches were all in
    the blocks that hold a fraction f of the tenant's published listings, about n / f match in all
    (a keyword's matches are spread like the exchange's listings). None when the tenant's block
    distribution is unknown (then the facets come from a TABLESAMPLE)."""
    quantiles = _tenant_block_quantiles()
    if len(quantiles) < BLOCK_QUANTILES or not scan:
        return None
    last = max(row[_BLOCK] for row in scan)
    below = sum(1 for b in quantiles if b <= last)
    fraction = max(below, 0.5) / BLOCK_QUANTILES
    return max(len(scan), int(round(len(scan) / fraction)))


_FAR_PAST = datetime.datetime.min.replace(tzinfo=datetime.UTC)
_FAR_FUTURE = datetime.datetime.max.replace(tzinfo=datetime.UTC)


def _scan_order(rows: list[tuple], sort: str, ranked: bool) -> list[tuple]:
    """The rows in the order the database would give them (search_listings' ORDER BY clauses: the
    same keys, the same tie-breaks; a missing publication date sorts first when descending, as in
    PostgreSQL)."""
    def published(row):
        return row[_PUBLISHED] or _FAR_FUTURE

    if ranked:
        return sorted(rows, key=lambda r: (r[_RANK], published(r), r[_ID]), reverse=True)
    if sort == "price_asc":
        return sorted(rows, key=lambda r: (r[_PRICE], r[_ID]))
    if sort == "price_desc":
        return sorted(rows, key=lambda r: (r[_PRICE], r[_ID]), reverse=True)
    if sort == "term":
        return sorted(rows, key=lambda r: (r[_TERM], r[_ID]), reverse=True)
    return sorted(rows, key=lambda r: (published(r), r[_ID]), reverse=True)


def facet_counts(params: SearchParams, *, many: bool = False) -> tuple[dict, bool]:
    """Counts by kind, jurisdiction and deal type, and whether they are estimates.

    One GROUP BY (kind, jurisdiction, deal type) over the set without the three facet filters, folded in
    Python (_fold). The GROUP BY reads at most EXACT_FACETS_UP_TO + 1 matches; when there are more
    (or `many`: the caller already knows), it is repeated over a TABLESAMPLE and the counts are scaled
    estimates (the page says "about"): exact counts of a million rows would cost a full scan on every
    search."""
    qs, text_query, is_number = matching_listings(_without_facet_filters(params))
    if many or clearly_many(params):
        rows, approximate = [], True  # clearly very many: do not read 2,000 of them first
    else:
        limited = qs.order_by().values_list("kind", "jurisdiction", "deal_type")[:EXACT_FACETS_UP_TO + 1]
        sql, args = limited.query.sql_with_params()
        with read_connection(Listing).cursor() as cursor:
            cursor.execute(f"SELECT m.kind, m.jurisdiction, m.deal_type, count(*) FROM ({sql}) AS m "  # noqa: S608
                           "GROUP BY 1, 2, 3", args)  # ORM-compiled SQL with bound args
            rows = cursor.fetchall()
        approximate = sum(r[3] for r in rows) > EXACT_FACETS_UP_TO
    if approximate:
        rows = _grouped(qs, sample_percent=_sample_percent())
    return _fold(params, rows), approximate


def _facets_cache_key(params: SearchParams) -> str:
    filters = {k: v for k, v in sorted(params.__dict__.items()) if k not in ("page", "sort")}
    digest = hashlib.sha256(repr(filters).encode()).hexdigest()[:32]
    return f"listings:facets:{require_tenant().pk}:{digest}"


def _cache_seconds() -> int:
    from django.conf import settings

    return getattr(settings, "LISTINGS_CACHE_SECONDS", 0)


def cached_facet_counts(params: SearchParams, *, many: bool = False) -> tuple[dict, bool]:
    """facet_counts, cached for settings.LISTINGS_CACHE_SECONDS per tenant and filters (not page or sort):
    the counts are estimates over large sets anyway, and paging through a search or re-sorting it
    repeats them."""
    from core.cache import cached

    seconds = _cache_seconds()
    if seconds <= 0:
        return facet_counts(params, many=many)
    return cached(_facets_cache_key(params), lambda: facet_counts(params, many=many), timeout=seconds)


def _page_rows(page_ids: list[int]) -> list:
    by_id = {row.pk: row for row in Listing.objects.filter(pk__in=page_ids)
             .defer("search_document", "description", "verification").select_related("seller_org")}
    return [by_id[pk] for pk in page_ids if pk in by_id]


def search_listings(params: SearchParams, *, with_facets: bool = True) -> SearchResult:
    sort = params.effective_sort()
    many = False
    approximate_facets = hit = cached_window = None
    if with_facets:
        from django.core.cache import cache

        seconds = _cache_seconds()
        if seconds > 0:  # the facets and the newest-first window in one round trip
            key = _facets_cache_key(params)
            found = cache.get_many([key, key + ":window"])
            hit, cached_window = found.get(key), found.get(key + ":window")
        estimate = keyword_estimate(params)
        if hit is None and not (estimate is not None and estimate > 5 * EXACT_FACETS_UP_TO):
            # Up to EXACT_FACETS_UP_TO matches: one read gives the facets, the total and the page's order
            # (and the ranks, unless the statistics expect more matches than are ranked).
            with_rank = sort == "relevance" and (estimate is None or estimate <= 2 * EXACT_FACETS_UP_TO)
            scan = _scan(params, rank=with_rank)
            many = len(scan) > EXACT_FACETS_UP_TO
            total_estimate = _estimated_total(scan) if many and params.q and tsquery(params.q) else None
            if total_estimate is not None:
                # More matches than are read: the facets are the scan's, scaled to the estimated total
                # (the page says "about"); no second read of the matches (TABLESAMPLE).
                approximate_facets = (_scan_facets(params, scan, scale=total_estimate / len(scan)), True)
                if seconds > 0:
                    cache.set(_facets_cache_key(params), approximate_facets, seconds)
            if not many:
                facets = _scan_facets(params, scan)
                if seconds > 0:
                    cache.set(_facets_cache_key(params), (facets, False), seconds)
                text_query = matching_listings(params)[1]
                rows = [r for r in scan if (not params.kind or r[_KIND] == params.kind) and (
                    not params.jurisdiction or r[_JURISDICTION] == params.jurisdiction) and (
                    not params.deal_type or r[_DEAL] == params.deal_type)]
                ranked = sort == "relevance" and text_query is not None
                if ranked and not with_rank:  # the statistics overestimated: rank these few now
                    ranks = dict(Listing.objects.filter(pk__in=[r[_ID] for r in rows]).annotate(
                        rank=SearchRank(F("search_document"), text_query)).values_list("pk", "rank"))
                    rows = [(*r[:_RANK], ranks.get(r[_ID], 0.0)) for r in rows]
                rows = _scan_order(rows, sort, ranked)
                total = len(rows)
                params.page = max(1, min(params.page, max(1, -(-total // PAGE_SIZE))))
                start = (params.page - 1) * PAGE_SIZE
                return SearchResult(params=params, listings=_page_rows([r[_ID] for r in rows[start:start + PAGE_SIZE]]),
                                    total=total, facets=facets, is_number=bool(params.q and search_keys(params.q)))
    qs, text_query, is_number = matching_listings(params)
    if approximate_facets is not None:
        facets, approximate = approximate_facets
    elif with_facets and hit is not None:  # read from the cache above: not a second time
        facets, approximate = hit
    else:
        facets, approximate = cached_facet_counts(params, many=many) if with_facets else ({}, False)
    if with_facets:
        # Each kind count already applies every other filter, so the total is their sum (or the chosen
        # kind's count): no separate COUNT query. Published listings always have a kind.
        total = facets["kind"].get(params.kind, 0) if params.kind else sum(facets["kind"].values())
    else:
        total = qs.count()
    if is_number:
        # A number matches a handful of listings: take their ids from the GIN index first, so the
        # planner cannot prefer walking an ordered index through every listing looking for them.
        ids = list(qs.order_by().values_list("pk", flat=True)[:500])
        qs = Listing.objects.filter(pk__in=ids)
    ranked = sort == "relevance" and text_query is not None and not approximate and total <= EXACT_FACETS_UP_TO
    window_rows = None
    if text_query is not None and not ranked and total > EXACT_FACETS_UP_TO and sort in ("relevance", "newest"):
        window_rows = cached_window if cached_window is not None else _newest_window(params)
    if ranked:
        qs = qs.annotate(rank=SearchRank(F("search_document"), text_query)).order_by("-rank", "-published_at", "-id")
    elif sort == "price_asc":
        qs = qs.order_by("price_minor", "id")
    elif sort == "price_desc":
        qs = qs.order_by("-price_minor", "-id")
    elif sort == "term":
        qs = qs.order_by(TERM_KEY.desc(), "-id")
    else:
        # newest first; also for "best match" over very many matches, where ranking every match would
        # read them all (the page says so)
        qs = qs.order_by("-published_at", "-id")
    page = max(1, min(params.page, max(1, -(-total // PAGE_SIZE))))
    params.page = page
    start = (page - 1) * PAGE_SIZE
    if window_rows is not None and len(window_rows) >= start + PAGE_SIZE:
        rows = _page_rows(window_rows[start:start + PAGE_SIZE])
    else:
        rows = list(
            qs.defer("search_document", "description", "verification")
            .select_related("seller_org")[start:start + PAGE_SIZE]
        )
    if approximate and len(rows) < PAGE_SIZE:  # the estimate overshot: the last page tells the truth
        total = start + len(rows)
    return SearchResult(params=params, listings=rows, total=total, facets=facets, is_number=is_number,
                        approximate=approximate,
                        newest_instead_of_rank=sort == "relevance" and text_query is not None and not ranked)


WALK_ABOVE = 50_000  # estimated matches: above, walk the newest-first index; below, read by month
WINDOW = PAGE_SIZE * 3


def month_token(year: int, month: int) -> str:
    """The lexeme of a month of publication in the search document (written by a database trigger,
    migration listings 0011)."""
    return f"xp{year:04d}{month:02d}"


def _months_back(count: int, *, skip: int = 0) -> list[str]:
    today = timezone.now().astimezone(datetime.UTC).date()
    index = today.year * 12 + today.month - 1 - skip
    return [month_token((index - i) // 12, (index - i) % 12 + 1) for i in range(count)]


def _window_ids(params: SearchParams) -> list[int]:
    """Ids of the newest WINDOW matches (keyword searches with more matches than are ranked).

    Very broad keywords (estimated above WALK_ABOVE matches): an index-only scan of the covering
    newest-first index tests each entry's search document until enough match (~60 / selectivity
    entries). Fewer matches: the GIN index gives the matches of the latest months (the search document
    carries its month of publication), 2, then 6, 18, 54 ... months back until WINDOW are found; the
    newest WINDOW of those are the newest of all."""
    q = params.q + (" " + class_token(params.klass.replace(" ", "").upper()) if params.klass else "")
    if estimated_keyword_matches(q) > WALK_ABOVE:
        qs, _, _ = matching_listings(params, text_index=False)
        return list(qs.order_by("-published_at", "-id").values_list("pk", flat=True)[:WINDOW])
    collected: list[int] = []
    span, done = 2, 0
    while done < 12 * 60 and len(collected) < WINDOW:
        qs, _, _ = matching_listings(params, also=" | ".join(_months_back(span, skip=done)))
        collected += list(qs.order_by("-published_at", "-id").values_list("pk", flat=True)[:WINDOW - len(collected)])
        done += span
        span *= 3
    return collected


def _newest_window(params: SearchParams) -> list:
    """The first three pages of matches, newest first, for keywords that match very many listings: their
    ids (_window_ids), then only the rows of the page shown are read (see search_listings). Cached as
    long as the facet counts (LISTINGS_CACHE_SECONDS, per filters): paging through the three pages or
    coming back to them reads the window once."""
    from core.cache import cached

    seconds = _cache_seconds()
    if seconds <= 0:
        return _window_ids(params)
    return cached(_facets_cache_key(params) + ":window", lambda: _window_ids(params), timeout=seconds)


TERM_KEY = Coalesce("expiry_date", Value(datetime.date(1, 1, 1)))  # no expiry sorts last; indexed
# Each ordering is served by an index of Listing.Meta (newest: listing_newest_cover_idx; prices:
# listing_price_id_idx forwards and backwards; term: listing_term_idx), so a page reads its rows in
# order instead of sorting every match. The last key is unique, as cursor pagination needs.
API_ORDERINGS = {
    "newest": ("-published_at", "-id"),
    "price_asc": ("price_minor", "id"),
    "price_desc": ("-price_minor", "-id"),
    "term": ("-term_key", "-id"),
    "relevance": ("-rank", "-published_at", "-id"),
}


# The API ranks up to 2,000 matches, as it did: its cursor pages cannot use the website's newest-first window,
# so between the website's limit and this one it would walk the newest-first index entry by entry.
API_RANK_UP_TO = 2000


def api_search(params: SearchParams):
    """The partner API's search: (queryset, ordering) for cursor pagination, the website's rules.

    A number's few matches come by id from the GIN index; relevance ranks at most API_RANK_UP_TO
    matches (more: newest first, as the website); a keyword with very many matches is tested entry by
    entry along the newest-first covering index (as the website's first pages), never sorted whole."""
    queryset, text_query, is_number = matching_listings(params)
    if is_number:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:500])
        queryset = Listing.objects.filter(pk__in=ids)
    sort = params.effective_sort()
    many = False
    if text_query is not None and not is_number:
        many = (not params.klass and estimated_keyword_matches(params.q) > 5 * API_RANK_UP_TO) or (
            queryset.order_by().values("pk")[:API_RANK_UP_TO + 1].count() > API_RANK_UP_TO)
    if sort == "relevance" and (text_query is None or many):
        sort = "newest"
    if many and sort == "newest":
        queryset, _, _ = matching_listings(params, text_index=False)
    if sort == "relevance":
        queryset = queryset.annotate(rank=SearchRank(F("search_document"), text_query))
    elif sort == "term":
        queryset = queryset.annotate(term_key=TERM_KEY)
    queryset = queryset.defer("search_document", "description", "verification").select_related("seller_org")
    return queryset, API_ORDERINGS[sort]


def explain(sql_params: SearchParams) -> str:  # pragma: no cover - a tool for tuning
    qs, _, _ = matching_listings(sql_params)
    sql, args = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN ANALYZE " + sql, args)
        return "\n".join(r[0] for r in cur.fetchall())


# --- "did you mean": the exchange's vocabulary -------------------------------------------------------

VOCABULARY_SAMPLE_ABOVE = 100_000  # listings; above this the vocabulary is read from a sample


def vocabulary_refresh(tenant) -> int:
    """Rebuild the tenant's search vocabulary (listings.SearchTerm) from its published listings: Latin
    words of titles, Chinese terms (the 2- to 4-character pieces of Chinese runs that at least two
    listings share) and industry tags. Returns the number of terms. A large exchange is read through a
    TABLESAMPLE and its counts scaled (the counts only rank suggestions)."""
    from django.db import transaction

    from .models import SearchTerm

    table = connection.ops.quote_name(Listing._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM (SELECT 1 FROM " + table +  # noqa: S608 - constant table name
                       " WHERE tenant_id = %s AND state = 'published' LIMIT %s) s",
                       [tenant.pk, VOCABULARY_SAMPLE_ABOVE + 1])
        size = cursor.fetchone()[0]
    sample, scale = "", 1.0
    if size > VOCABULARY_SAMPLE_ABOVE:
        percent = max(1.0, 100.0 * VOCABULARY_SAMPLE_ABOVE / max(_sample_percent_rows(), 1.0))
        sample, scale = f" TABLESAMPLE SYSTEM ({percent:.3f})", 100.0 / percent
    sql = f"""
        WITH t AS (SELECT id, title, industry_tags FROM {table}{sample}
                   WHERE tenant_id = %(tenant)s AND state = 'published'),
        latin AS (SELECT lower(m[1]) AS term FROM t, regexp_matches(t.title, '([A-Za-z][A-Za-z0-9-]{{2,}})', 'g') m),
        runs AS (SELECT m[1] AS run FROM t, regexp_matches(t.title, '([\u3400-\u9fff]{{2,}})', 'g') m),
        grams AS (SELECT substr(run, i, n) AS term FROM runs, generate_series(2, 4) n,
                  generate_series(1, greatest(length(run) - n + 1, 0)) i),
        tags AS (SELECT lower(tag) AS term FROM t, unnest(t.industry_tags) tag),
        terms AS (SELECT term, count(*) AS n FROM (SELECT term FROM latin UNION ALL SELECT term FROM tags) w
                  GROUP BY term
                  UNION ALL
                  SELECT term, count(*) AS n FROM grams GROUP BY term HAVING count(*) >= %(min_shared)s)
        SELECT term, max(n) FROM terms WHERE length(term) BETWEEN 2 AND 60 GROUP BY term
    """  # noqa: S608 - table name and sample clause are constants of this module
    with connection.cursor() as cursor:
        # a large exchange keeps the Chinese pieces that at least two titles share (words, not noise)
        cursor.execute(sql, {"tenant": tenant.pk, "min_shared": 2 if size > 1000 else 1})
        rows = cursor.fetchall()
    with transaction.atomic():
        SearchTerm.objects.unscoped().filter(tenant=tenant).delete()
        SearchTerm.objects.unscoped().bulk_create(
            [SearchTerm(tenant=tenant, term=term, listings=int(n * scale)) for term, n in rows], batch_size=5000)
    return len(rows)


def _sample_percent_rows() -> float:
    _sample_percent()
    return _reltuples_cache["rows"][0]


_trgm: dict[str, bool] = {}


def trigram_available() -> bool:
    """Whether PostgreSQL has pg_trgm (the system server does; the embedded pgserver wheel of `make run`
    ships without contrib extensions, and then "did you mean" is simply not offered)."""
    if "ok" not in _trgm:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            _trgm["ok"] = cursor.fetchone() is not None
    return _trgm["ok"]


def suggest(q: str) -> str:
    """A spelling of `q` whose every word is in the exchange's vocabulary, or '' (nothing better).

    Each word not in the vocabulary is replaced by the most similar term (pg_trgm similarity ≥ 0.3, less
    0.1 per character of difference in length, then the most used); numbers and known words are kept."""
    from .models import SearchTerm
    from .search_text import _TOKEN

    tokens = _TOKEN.findall(q or "")
    if not tokens or search_keys(q) or not trigram_available():
        return ""
    terms = SearchTerm.objects
    known = set(terms.filter(term__in=[t.lower() for t in tokens]).values_list("term", flat=True))
    changed, out = False, []
    for token in tokens:
        word = token.lower()
        if word in known or len(token) < 2 or token.isdigit():
            out.append(token)
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                # a typo keeps the length: among similar terms, those as long as the word typed first
                "SELECT term FROM listings_searchterm WHERE tenant_id = %s AND term %% %s "
                "ORDER BY similarity(term, %s) - 0.1 * abs(length(term) - length(%s)) DESC, listings DESC, term "
                "LIMIT 1",
                [require_tenant().pk, word, word, word])
            row = cursor.fetchone()
        if row and row[0] != word:
            out.append(row[0])
            changed = True
        else:
            out.append(token)
    return " ".join(out) if changed else ""


def number_feedback(q: str) -> tuple[str, str]:
    """For something typed that looks like a number but is not a valid one: (what is wrong, the query
    with the right check character when that is the mistake, else ''). ('', '') otherwise."""
    from rights.numbers import NumberError, looks_like_number, parse_candidates

    if not q or not looks_like_number(q):
        return "", ""
    try:
        parse_candidates(q)
    except NumberError as exc:
        corrected = ""
        stripped = q.rstrip()
        if exc.expected and stripped and stripped[-1].isalnum():
            corrected = stripped[:-1] + str(exc.expected)
        return exc.message, corrected
    return "", ""


def example_number() -> str:
    """A number, as people type it, of one of the newest published listings of the tenant in context, so
    the search box's example finds something ('' when none has a number); cached ten minutes."""
    from core.cache import cached

    def compute():
        rows = (Listing.objects.filter(state=Listing.State.PUBLISHED).order_by("-published_at", "-id")
                .values_list("numbers", flat=True)[:20])
        fallback = ""
        for keys in rows:
            for k in keys or []:
                parts = k.split(":")
                if len(parts) != 3:
                    continue
                office, kind, value = parts
                if office == "CN" and kind == "APP" and len(value) == 13:
                    return f"ZL {value[:4]} {value[4]} {value[5:12]}.{value[12]}"
                if not fallback and kind in ("REG", "TM", "PUB"):
                    fallback = value
        return fallback

    return cached(f"listings:example-number:{require_tenant().pk}", compute, timeout=600)
