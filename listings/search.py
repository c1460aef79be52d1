"""Listing search: the denormalised search columns and the query behind /search/.

The search document is a tsvector in the 'simple' configuration over title (weight A), owner, numbers
and tags (B), abstracts and description (C); Chinese is indexed as character bigrams
(listings.search_text). Numbers typed in any accepted form become lookup keys matched against
`Listing.numbers` (GIN). Only published listings are searchable (partial indexes).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Count, F, Q, Value
from django.utils import timezone

from .models import Listing, RightKind
from .numbers import search_keys
from .search_text import document_text, tsquery

PAGE_SIZE = 20
SORTS = ("relevance", "newest", "price_asc", "price_desc", "term")
TERM_FILTERS = {"1": 1, "3": 3, "5": 5, "10": 10}  # at least N years left


def class_keys(kind: str, classes: list[str]) -> list[str]:
    """Prefixes of each class, so 'H04', 'H04L' or 'H04L9' all find 'H04L 9/32'; Nice classes as '09'."""
    keys = set()
    for c in classes or []:
        c = c.replace(" ", "").upper()
        if not c:
            continue
        if kind == RightKind.TRADEMARK and c.isdigit():
            keys.add(f"{int(c):02d}")
            continue
        main = c.split("/")[0]
        keys.update({main[:1], main[:3], main[:4], main})
        keys.add(c)
    return sorted(k for k in keys if k)


def refresh_listing_search(listing: Listing) -> None:
    """Recompute the denormalised search columns of one listing from its rights (inside the caller's
    transaction)."""
    rights = list(listing.rights.all().order_by("position", "id"))
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

    @property
    def pages(self):
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def has_next(self):
        return self.params.page < self.pages

    @property
    def has_previous(self):
        return self.params.page > 1


def _base(params: SearchParams, *, skip: str = ""):
    """Published listings of the tenant in context, filtered by every parameter except `skip`."""
    qs = Listing.objects.filter(state=Listing.State.PUBLISHED)
    keys = search_keys(params.q) if params.q else []
    text_query = None
    if keys:
        qs = qs.filter(numbers__overlap=keys)
    elif params.q:
        expression = tsquery(params.q)
        if expression:
            text_query = SearchQuery(expression, config="simple", search_type="raw")
            qs = qs.filter(search_document=text_query)
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


def facet_counts(params: SearchParams) -> dict:
    """Counts by kind, jurisdiction and deal type in one query over the filtered set.

    Each facet counts what the other filters leave (so choosing a kind still shows the other kinds'
    counts): that is three FILTERed aggregates over the set without the three facet filters."""
    qs, _, _ = _base(SearchParams(**{**params.__dict__, "kind": "", "jurisdiction": "", "deal_type": ""}))
    aggregates = {}
    for value in RightKind.values:
        cond = Q(kind=value)
        if params.jurisdiction:
            cond &= Q(jurisdiction=params.jurisdiction)
        if params.deal_type:
            cond &= Q(deal_type=params.deal_type)
        aggregates[f"kind__{value}"] = Count("id", filter=cond)
    from .models import Jurisdiction

    for value in Jurisdiction.values:
        cond = Q(jurisdiction=value)
        if params.kind:
            cond &= Q(kind=params.kind)
        if params.deal_type:
            cond &= Q(deal_type=params.deal_type)
        aggregates[f"jurisdiction__{value}"] = Count("id", filter=cond)
    for value in Listing.DealType.values:
        cond = Q(deal_type=value)
        if params.kind:
            cond &= Q(kind=params.kind)
        if params.jurisdiction:
            cond &= Q(jurisdiction=params.jurisdiction)
        aggregates[f"deal_type__{value}"] = Count("id", filter=cond)
    row = qs.aggregate(**aggregates)
    facets: dict[str, dict[str, int]] = {"kind": {}, "jurisdiction": {}, "deal_type": {}}
    for name, count in row.items():
        facet, value = name.split("__", 1)
        facets[facet][value] = count or 0
    return facets


def search_listings(params: SearchParams, *, with_facets: bool = True) -> SearchResult:
    qs, text_query, is_number = _base(params)
    sort = params.effective_sort()
    if sort == "relevance" and text_query is not None:
        qs = qs.annotate(rank=SearchRank(F("search_document"), text_query)).order_by("-rank", "-published_at", "-id")
    elif sort == "price_asc":
        qs = qs.order_by("price_minor", "-id")
    elif sort == "price_desc":
        qs = qs.order_by("-price_minor", "-id")
    elif sort == "term":
        qs = qs.order_by(F("expiry_date").desc(nulls_last=True), "-id")
    else:
        qs = qs.order_by("-published_at", "-id")
    facets = facet_counts(params) if with_facets else {}
    if with_facets:
        # Each kind count already applies every other filter, so the total is their sum (or the chosen
        # kind's count): no separate COUNT query. Published listings always have a kind.
        total = facets["kind"].get(params.kind, 0) if params.kind else sum(facets["kind"].values())
    else:
        total = qs.count()
    page = max(1, min(params.page, max(1, -(-total // PAGE_SIZE))))
    params.page = page
    start = (page - 1) * PAGE_SIZE
    rows = list(
        qs.defer("search_document", "description", "verification")
        .select_related("seller_org")[start:start + PAGE_SIZE]
    )
    return SearchResult(params=params, listings=rows, total=total, facets=facets, is_number=is_number)


def explain(sql_params: SearchParams) -> str:  # pragma: no cover - a tool for tuning
    qs, _, _ = _base(sql_params)
    sql, args = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN ANALYZE " + sql, args)
        return "\n".join(r[0] for r in cur.fetchall())
