"""The listing page's view counter: written at once without Redis; with Redis as the cache, buffered
(no database write per view) and added to Listing.view_count by the flush task."""

import uuid

import pytest
from django.core.cache import caches

from listings.models import Listing
from listings.tasks import flush_listing_views
from tests.factories import published_listing
from tests.transfers.workers import REDIS_URL, redis_up


def test_without_redis_a_view_is_written_at_once(client, tenant):
    listing = published_listing()
    client.get(f"/listings/{listing.pk}/")
    client.get(f"/listings/{listing.pk}/")
    assert Listing.objects.get(pk=listing.pk).view_count == 2


@pytest.fixture
def redis_cache(settings):
    if not redis_up():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    settings.CACHES = {"default": {"BACKEND": "core.cache.FailSoftRedisCache", "LOCATION": REDIS_URL,
                                   "KEY_PREFIX": f"ipex-test-{uuid.uuid4().hex[:8]}"}}
    yield caches["default"]
    caches["default"].clear()


def test_with_redis_views_are_buffered_then_flushed(client, tenant, redis_cache, django_assert_num_queries):
    listing, other = published_listing(), published_listing()
    client.get(f"/listings/{listing.pk}/")  # warm the host cache
    # the page without the counter's UPDATE (with demand's auction hold and the valuation's wants count and
    # status history)
    with django_assert_num_queries(9):
        client.get(f"/listings/{listing.pk}/")
    client.get(f"/listings/{other.pk}/")
    assert Listing.objects.get(pk=listing.pk).view_count == 0  # not written yet

    assert flush_listing_views() == {"updated": 2}
    assert Listing.objects.get(pk=listing.pk).view_count == 2
    assert Listing.objects.get(pk=other.pk).view_count == 1
    assert flush_listing_views() == {"updated": 0}  # drained: nothing is added twice
    assert Listing.objects.get(pk=listing.pk).view_count == 2
