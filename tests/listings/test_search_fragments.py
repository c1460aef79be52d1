"""Cheaper search and listing pages that look the same: choice labels computed once per language, the
filters column cached per filters and language, the newest-first window cached with the facets."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from listings import search
from listings.models import Listing, Right
from tests.factories import OrganizationFactory, published_listing, register_record


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_choice_labels_are_djangos(tenant, language):
    listing = published_listing(records=[register_record(kind="utility_model")], deal_type="exclusive_licence")
    right = Right.objects.filter(listing=listing).first()
    with translation.override(language):
        for obj, names in ((listing, ("kind", "jurisdiction", "deal_type")), (right, ("kind", "jurisdiction"))):
            for name in names:
                field = type(obj)._meta.get_field(name)
                assert getattr(obj, f"get_{name}_display")() == obj._get_FIELD_display(field)
        assert Listing(kind="no-such-kind").get_kind_display() == "no-such-kind"  # unknown values as stored


def _filters_column(html):
    return html[html.index('<aside class="filters"'):html.index("</aside>")]


def test_the_filters_column_is_cached_per_filters_and_language(client, tenant, settings):
    settings.LISTINGS_CACHE_SECONDS = 60
    org = OrganizationFactory()
    published_listing(org=org, title="一种锂电池回收方法")
    published_listing(org=org, records=[register_record(kind="utility_model", title="一种锂电池外壳")])
    zh = client.get("/search/", {"q": "锂电池"}, headers={"Accept-Language": "zh-hans"}).content.decode()
    again = client.get("/search/", {"q": "锂电池"}, headers={"Accept-Language": "zh-hans"}).content.decode()
    en = client.get("/search/", {"q": "锂电池"}, headers={"Accept-Language": "en"}).content.decode()
    kind = client.get("/search/", {"q": "锂电池", "kind": "invention"},
                      headers={"Accept-Language": "zh-hans"}).content.decode()
    assert _filters_column(again) == _filters_column(zh)
    assert "实用新型" in _filters_column(zh)
    assert "Utility model" in _filters_column(en)
    assert "实用新型" not in _filters_column(en)
    assert 'aria-current="true"' in _filters_column(kind)  # the chosen kind is marked: another fragment
    assert 'aria-current="true"' not in _filters_column(zh)


def test_the_newest_window_is_read_once_while_the_facets_are_cached(client, tenant, settings, monkeypatch):
    settings.LISTINGS_CACHE_SECONDS = 60
    org = OrganizationFactory()
    for i in range(6):
        published_listing(org=org, title=f"一种锂电池管理方法 {i}")
    monkeypatch.setattr(search, "EXACT_FACETS_UP_TO", 3)
    monkeypatch.setattr(search, "PAGE_SIZE", 2)
    first = client.get("/search/", {"q": "锂电池"}).context["result"]
    with CaptureQueriesContext(connection) as captured:
        second = client.get("/search/", {"q": "锂电池", "page": 2}).context["result"]
    assert len(captured.captured_queries) == 1  # only the page's rows
    assert first.newest_instead_of_rank
    assert [x.pk for x in first.listings + second.listings] == list(
        Listing.objects.filter(state="published").order_by("-published_at", "-id").values_list("pk", flat=True)[:4])


def _main(html):
    return html[html.index('<main id="main"'):html.index("</main>")]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_anonymous_listing_page_is_the_same_from_its_cached_body(client, tenant, settings, language):
    listing = published_listing(records=[register_record(title="一种锂电池回收方法")])
    headers = {"Accept-Language": language}
    uncached = client.get(f"/listings/{listing.pk}/", headers=headers).content.decode()
    settings.LISTINGS_CACHE_SECONDS = 60
    filled = client.get(f"/listings/{listing.pk}/", headers=headers).content.decode()
    with CaptureQueriesContext(connection) as captured:
        served = client.get(f"/listings/{listing.pk}/", headers=headers).content.decode()
    assert _main(served) == _main(filled)
    # the first copy is the page as rendered without the cache (but for the valuation panel's view count:
    # one more view)
    assert re.sub(r"\d+", "N", _main(filled)) == re.sub(r"\d+", "N", _main(uncached))
    # the listing (visibility, key), demand's auction hold (part of the key), its view; not its rights
    assert len(captured.captured_queries) == 3
    assert "一种锂电池回收方法" in _main(served)


def test_a_changed_listing_is_not_served_from_the_old_body(client, tenant, settings):
    settings.LISTINGS_CACHE_SECONDS = 60
    listing = published_listing(records=[register_record(title="一种锂电池回收方法")], price_minor=5_000_000)
    before = client.get(f"/listings/{listing.pk}/").content.decode()
    Listing.objects.filter(pk=listing.pk).update(price_minor=7_000_000)
    after = client.get(f"/listings/{listing.pk}/").content.decode()
    assert "50,000" in before
    assert "70,000" in after
    Listing.objects.filter(pk=listing.pk).update(state="withdrawn")
    assert client.get(f"/listings/{listing.pk}/").status_code == 404


def _results(html):
    return html[html.index('<ol class="result-list">'):html.index("</ol>")]


def test_result_rows_come_from_the_cache_by_their_content(client, tenant, settings):
    org = OrganizationFactory()
    first = published_listing(org=org, title="一种锂电池回收方法")
    published_listing(org=org, records=[register_record(kind="utility_model", title="一种锂电池外壳")])
    uncached = client.get("/search/", {"q": "锂电池"}).content.decode()
    settings.LISTINGS_CACHE_SECONDS = 60
    filled = client.get("/search/", {"q": "锂电池"}).content.decode()
    served = client.get("/search/", {"q": "锂电池"}).content.decode()
    assert _results(served) == _results(filled) == _results(uncached)
    Listing.objects.filter(pk=first.pk).update(title="一种锂电池回收装置")  # another key: never a stale row
    changed = client.get("/search/", {"q": "锂电池", "sort": "newest"}).content.decode()
    assert "一种锂电池回收装置" in _results(changed)
    assert "一种锂电池回收方法<" not in _results(changed)


def test_home_cards_come_from_the_cache_by_their_content(client, tenant, settings):
    org = OrganizationFactory()
    published_listing(org=org, title="一种锂电池回收方法", featured=True)
    published_listing(org=org, records=[register_record(kind="trademark", title="清源智芯")])
    uncached = _main(client.get("/").content.decode())
    settings.LISTINGS_CACHE_SECONDS = 60
    filled = _main(client.get("/").content.decode())
    served = _main(client.get("/").content.decode())
    assert served == filled == uncached
    assert "清源智芯" in served
    assert "一种锂电池回收方法" in served
