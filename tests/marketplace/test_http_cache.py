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
