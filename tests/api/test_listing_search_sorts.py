"""The partner API's listing search pages through every sort in the order of the index that serves it,
without a gap or a repeat across cursor pages."""

import datetime

import pytest
from django.utils import timezone

from listings.models import Listing
from tests.factories import OrganizationFactory, published_listing


@pytest.fixture
def listings(tenant):
    org = OrganizationFactory()
    now = timezone.now()
    made = []
    for i in range(13):
        made.append(published_listing(org=org, title=f"一种锂电池热管理方法 {i}", price_minor=(i % 4 + 1) * 100_000,
                                      published_at=now - datetime.timedelta(days=i * 40)))
    Listing.objects.filter(pk=made[3].pk).update(expiry_date=None)
    return made


def walk(api, params):
    seen, url = [], "/api/v1/listings"
    data = {**params, "page_size": 5}
    while url:
        body = api.get(url, data).json()
        seen += [row["id"] for row in body["results"]]
        url, data = body["next"], None
    return seen


@pytest.mark.parametrize(("sort", "key"), [
    ("newest", lambda listing: (-listing.published_at.timestamp(), -listing.pk)),
    ("price_asc", lambda listing: (listing.price_minor, listing.pk)),
    ("price_desc", lambda listing: (-listing.price_minor, -listing.pk)),
    ("term", lambda listing: (-(listing.expiry_date or datetime.date(1, 1, 1)).toordinal(), -listing.pk)),
])
@pytest.mark.parametrize("q", ["", "锂电池"])
def test_every_sort_pages_in_order(api, listings, sort, key, q):
    rows = sorted(Listing.objects.filter(state="published"), key=key)
    assert walk(api, {"sort": sort, **({"q": q} if q else {})}) == [row.pk for row in rows]
