"""Query budgets of every list a person or partner reads: the same number of queries for 1 row and for
20 (pinned exactly, so an N+1 or a new query per request shows up as a failing count)."""

import pytest

from escrow.models import Order, OrderState
from listings.models import Listing
from tests.factories import (
    PASSWORD,
    OrganizationFactory,
    api_headers,
    escrow_parties,
    make_api_key,
    make_member,
    order_in_state,
    published_listing,
    register_record,
)

ROWS = [1, 20]


def login(client, user):
    assert client.login(email=user.email, password=PASSWORD)


def catalogue(n, org=None):
    org = org or OrganizationFactory()
    return [published_listing(org=org, title=f"一种图像压缩方法 {i}", featured=i < 3) for i in range(n)]


# Anonymous pages: the tenant comes from the host cache, no session read: only the page's own queries.
@pytest.mark.parametrize("n", ROWS)
def test_search_page(client, tenant, django_assert_num_queries, n):
    catalogue(n)
    client.get("/search/", {"q": "图像压缩"})  # warm the process caches (statistics, host)
    with django_assert_num_queries(2):  # facets (GROUP BY over ≤ 2,001 matches) + the page's rows
        response = client.get("/search/", {"q": "图像压缩"})
    assert len(response.context["result"].listings) == n


@pytest.mark.parametrize("n", ROWS)
def test_search_page_signed_in(client, tenant, django_assert_num_queries, n):
    catalogue(n)
    login(client, make_member())
    client.get("/search/", {"q": "图像压缩"})
    # user (the session comes from the cache), unread count, facets, rows, watched
    with django_assert_num_queries(5):
        response = client.get("/search/", {"q": "图像压缩"})
    assert len(response.context["result"].listings) == n


@pytest.mark.parametrize("n", ROWS)
def test_home_page(client, tenant, django_assert_num_queries, n, settings):
    settings.LISTINGS_CACHE_SECONDS = 60
    catalogue(n)
    client.get("/")  # the counts by kind and the example number are then cached
    with django_assert_num_queries(2):  # featured, recent
        response = client.get("/")
    assert len(response.context["recent"]) + len(response.context["featured"]) == min(n, 3) + min(n - min(n, 3), 8)


@pytest.mark.parametrize("n", ROWS)
def test_listing_page(client, tenant, django_assert_num_queries, n):
    org = OrganizationFactory()
    listing = published_listing(org=org, records=[register_record(owner_name=org.legal_name) for _ in range(n)])
    client.get(f"/listings/{listing.pk}/")  # the tenant of the host is then cached
    # listing + seller, rights + register records, the view counter (financing's market indicator), the
    # valuation panel's comparables and watchers, the price history (negotiation), demand's answer to
    # listing.sale_hold (is it being auctioned?), the rights' status history (rights monitoring's alerts) and
    # demand's answer to right.matching_wants (one count): the same for 1 and 20 rights
    with django_assert_num_queries(10):
        response = client.get(f"/listings/{listing.pk}/")
    assert len(response.context["rights"]) == n


@pytest.mark.parametrize("n", ROWS)
def test_api_search(client, tenant, django_assert_num_queries, n, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    org = OrganizationFactory()
    catalogue(n)
    headers = api_headers(make_api_key(organization=org)[1])
    client.get("/api/v1/listings", headers=headers)
    with django_assert_num_queries(2):  # the key (with tenant, organization, user), the page
        response = client.get("/api/v1/listings", headers=headers)
    assert len(response.json()["results"]) == n


@pytest.mark.parametrize("n", ROWS)
def test_sellers_listings_page(client, tenant, django_assert_num_queries, n):
    from accounts.models import Role

    org = OrganizationFactory()
    seller = make_member(roles=(Role.SELLER,), org=org)
    catalogue(n, org=org)
    login(client, seller)
    client.get("/sell/listings/")
    with django_assert_num_queries(5):  # user, unread count, membership, listings, their rights
        response = client.get("/sell/listings/")
    assert len(response.context["listings"]) == n


@pytest.mark.parametrize("n", ROWS)
def test_order_list_page(client, tenant, django_assert_num_queries, n):
    listing, seller, buyer = escrow_parties()
    order_in_state(OrderState.PLACED, listing=listing, seller=seller, buyer=buyer)
    for _ in range(n - 1):
        more = Listing.objects.create(seller_org=listing.seller_org, created_by=seller, title="More",
                                      price_minor=50_000, currency="CNY", state=Listing.State.PUBLISHED)
        order_in_state(OrderState.PLACED, listing=more, seller=seller, buyer=buyer)
    login(client, buyer)
    client.get("/orders/")
    with django_assert_num_queries(13):  # user, unread, roles, orders bought/sold/brokered with their parts, ...
        page = client.get("/orders/")
    assert page.content.decode().count("IPX-") >= n


@pytest.mark.parametrize("n", ROWS)
def test_api_order_list(client, tenant, django_assert_num_queries, n, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    listing, seller, buyer = escrow_parties()
    order, _, _ = order_in_state(OrderState.PLACED, listing=listing, seller=seller, buyer=buyer)
    for _ in range(n - 1):
        more = Listing.objects.create(seller_org=listing.seller_org, created_by=seller, title="More",
                                      price_minor=50_000, currency="CNY", state=Listing.State.PUBLISHED)
        order_in_state(OrderState.PLACED, listing=more, seller=seller, buyer=buyer)
    headers = api_headers(make_api_key(organization=order.buyer_org)[1])
    client.get("/api/v1/orders", headers=headers)
    with django_assert_num_queries(3):
        response = client.get("/api/v1/orders", headers=headers)
    assert len(response.json()["results"]) == Order.objects.count() == n
