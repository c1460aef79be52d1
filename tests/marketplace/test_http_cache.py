"""Anonymous pages can be kept by a shared cache: no cookie, Cache-Control public with s-maxage, no
Vary: Cookie; pages of signed-in people stay private; the language switch still works without a token
for visitors and stays CSRF-checked for signed-in users."""

import pytest
from django.test import Client

from tests.factories import PASSWORD, OrganizationFactory, make_member, published_listing


@pytest.fixture
def listing(tenant):
    return published_listing(org=OrganizationFactory(), title="一种锂电池热管理方法")


@pytest.mark.parametrize("path", ["/", "/search/", "/search/?q=锂电池", "LISTING"])
def test_anonymous_pages_are_public_and_set_no_cookie(client, listing, path):
    response = client.get(f"/listings/{listing.pk}/" if path == "LISTING" else path)
    assert response.status_code == 200
    assert not response.cookies, list(response.cookies)
    cache_control = response["Cache-Control"]
    assert "public" in cache_control
    assert "s-maxage=" in cache_control
    assert "cookie" not in response.get("Vary", "").lower()
    assert "accept-language" in response.get("Vary", "").lower()
    assert b"csrfmiddlewaretoken" not in response.content


def test_signed_in_pages_are_private(client, listing):
    user = make_member()
    assert client.login(email=user.email, password=PASSWORD)
    response = client.get("/")
    assert "private" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


def test_visitor_switches_language_without_a_token(listing):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
    assert "Browse rights" in client.get("/").content.decode()


def test_signed_in_language_switch_is_csrf_checked(tenant):
    user = make_member()
    client = Client(enforce_csrf_checks=True)
    assert client.login(email=user.email, password=PASSWORD)
    assert client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}).status_code == 403
    page = client.get("/")
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else client.cookies["csrftoken"].value
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/",
                                               "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "zh-hans"


def test_the_cache_table_exists_whatever_the_settings_the_database_was_migrated_with(db):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('ipex_cache')")
        assert cursor.fetchone()[0] == "ipex_cache"


@pytest.fixture
def page_cache(settings):
    from django.core.cache import cache

    settings.PUBLIC_PAGE_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("path", ["/", "/search/?q=锂电池", "LISTING"])
def test_anonymous_pages_come_from_the_application_cache(client, listing, page_cache, path,
                                                         django_assert_num_queries):
    is_listing = path == "LISTING"
    path = f"/listings/{listing.pk}/" if is_listing else path
    first = client.get(path)
    # not the view: the copy the shared cache may keep too (the listing's view is still counted: without
    # Redis, at once in the database)
    with django_assert_num_queries(1 if is_listing else 0):
        again = client.get(path)
    assert again.content == first.content
    assert again["Content-Type"] == first["Content-Type"]
    assert "public" in again["Cache-Control"]
    assert not again.cookies
    assert "accept-language" in again.get("Vary", "").lower()


def test_the_copy_is_per_language_and_per_query(client, listing, page_cache):
    zh = client.get("/search/", {"q": "锂电池"}).content.decode()
    client.cookies["django_language"] = "en"
    en = client.get("/search/", {"q": "锂电池"}).content.decode()
    assert '<html lang="en"' in en
    assert '<html lang="zh' in zh
    other = client.get("/search/", {"q": "无人机"})
    link = f'href="/listings/{listing.pk}/"'
    assert link in en
    assert link in zh
    assert other.context is not None
    assert other.context["result"].total == 0


def test_signed_in_people_and_other_cookies_never_get_the_copy(client, listing, page_cache):
    from django.test import RequestFactory

    from core.http_cache import _page_key

    path = f"/listings/{listing.pk}/"
    anonymous = client.get(path)
    user = make_member()
    assert client.login(email=user.email, password=PASSWORD)
    signed_in = client.get(path)
    assert "private" in signed_in["Cache-Control"]
    assert signed_in.content != anonymous.content
    factory = RequestFactory()
    assert _page_key(factory.get("/")) is not None
    assert _page_key(factory.get("/", HTTP_COOKIE="django_language=en; csrftoken=abc")) is not None
    assert _page_key(factory.get("/", HTTP_COOKIE="messages=x")) is None  # a message to show: the live page
    assert _page_key(factory.get("/", HTTP_COOKIE="sessionid=x")) is None
    assert _page_key(factory.post("/")) is None


def test_a_cached_listing_page_still_counts_the_view(client, listing, page_cache):
    from listings.models import Listing

    before = Listing.objects.get(pk=listing.pk).view_count
    for _ in range(3):
        client.get(f"/listings/{listing.pk}/")
    assert Listing.objects.get(pk=listing.pk).view_count == before + 3  # written at once without Redis
