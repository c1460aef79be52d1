"""The search's single read of the matches: facets, total and every sort's order from one pass (up to
EXACT_FACETS_UP_TO matches), and the estimate of the total from where that pass stopped (more)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from listings import search
from listings.search import SearchParams, search_listings
from tests.factories import OrganizationFactory, published_listing, register_record

SORTS = ["relevance", "newest", "price_asc", "price_desc", "term"]


@pytest.fixture
def varied(tenant):
    """Listings matching 锂电池 with ranks, prices, publication dates and expiries that tie in places."""
    org = OrganizationFactory()
    now = timezone.now()
    today = timezone.localdate()
    made = []
    for i in range(12):
        title = "一种锂电池管理方法" if i % 3 else "锂电池锂电池 一种锂电池热管理装置"  # some rank higher
        records = [register_record(owner_name=org.legal_name, title=f"{title} {i}",
                                   filing_date=today - datetime.timedelta(days=400 * (i % 4)),
                                   kind="utility_model" if i % 4 == 0 else "invention")]
        made.append(published_listing(
            org=org, records=records, price_minor=1_000_000 * (i % 5 + 1),
            published_at=now - datetime.timedelta(days=i % 6), deal_type="assignment" if i % 2 else "exclusive_licence"))
    published_listing(org=org, title="一种图像压缩方法")  # matches no keyword below
    return made


def _ids(result):
    return [listing.pk for listing in result.listings]


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("filters", [{}, {"kind": "invention"}, {"deal_type": "assignment"}, {"term": "1"}])
def test_one_read_orders_and_counts_like_the_database(varied, monkeypatch, sort, filters):
    monkeypatch.setattr(search, "PAGE_SIZE", 5)
    for page in (1, 2, 3):
        params = dict(q="锂电池", sort=sort, page=page, **filters)
        one_read = search_listings(SearchParams(**params))
        # with_facets=False is the ORDER BY ... LIMIT of the database, and its COUNT
        database = search_listings(SearchParams(**params), with_facets=False)
        assert _ids(one_read) == _ids(database)
        assert one_read.total == database.total
        assert not one_read.approximate


def test_facets_count_what_the_other_filters_leave(varied):
    result = search_listings(SearchParams(q="锂电池", kind="invention"))
    assert result.facets["kind"] == {**result.facets["kind"], "invention": 9, "utility_model": 3}
    assert result.total == 9
    assert result.facets["deal_type"]["assignment"] + result.facets["deal_type"]["exclusive_licence"] == 9


def test_a_search_reads_its_matches_once_then_only_the_page(varied, monkeypatch):
    monkeypatch.setattr(search, "PAGE_SIZE", 5)
    with CaptureQueriesContext(connection) as captured:
        result = search_listings(SearchParams(q="锂电池"))
    reads = [q["sql"] for q in captured.captured_queries if "pg_stats" not in q["sql"] and "pg_class" not in q["sql"]]
    assert len(reads) == 2  # the matches (facets + order), then the five rows shown
    assert len(result.listings) == 5
    assert result.total == 12


def test_the_total_is_estimated_from_where_the_read_stopped():
    # the exchange's listings spread evenly over blocks 1..200: 10 matches read up to block 50 = a quarter
    quantiles = list(range(1, search.BLOCK_QUANTILES + 1))
    scan = [(i, "invention", "CN", "assignment", None, 0, None, 5 * i) for i in range(1, 11)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(search, "_tenant_block_quantiles", lambda: quantiles)
        assert search._estimated_total(scan) == 10 * search.BLOCK_QUANTILES // 50
        mp.setattr(search, "_tenant_block_quantiles", lambda: [])
        assert search._estimated_total(scan) is None  # unknown spread: the caller samples instead


def test_more_matches_than_are_read_give_scaled_facets_without_a_second_read(tenant, monkeypatch):
    org = OrganizationFactory()
    for i in range(8):
        published_listing(org=org, title=f"一种锂电池回收方法 {i}")
    monkeypatch.setattr(search, "EXACT_FACETS_UP_TO", 3)
    monkeypatch.setattr(search, "BLOCK_QUANTILES", 4)  # this small table has enough rows to tell
    with CaptureQueriesContext(connection) as captured:
        result = search_listings(SearchParams(q="锂电池"))
    assert result.approximate
    assert result.newest_instead_of_rank
    assert sum(result.facets["kind"].values()) >= 4  # at least what was read, scaled
    assert result.total == 8  # the one page shows every match: the page tells the truth
    assert not [q for q in captured.captured_queries if "TABLESAMPLE" in q["sql"] and "GROUP BY" in q["sql"]]
    assert len(result.listings) == min(search.PAGE_SIZE, 8)
