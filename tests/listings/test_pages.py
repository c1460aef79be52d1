"""Search, listing page, watchlist and the seller's wizard through HTTP."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Role
from core.tenancy import tenant_context
from listings.models import Listing, Watch
from tests.factories import (
    PASSWORD,
    OrganizationFactory,
    draft_listing,
    make_member,
    published_listing,
    register_record,
    seller_with_org,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def login(client, user):
    assert client.login(email=user.email, password=PASSWORD)


def found(response):
    return [listing.pk for listing in response.context["result"].listings]


@pytest.fixture
def catalogue(tenant):
    org = OrganizationFactory(legal_name="清源大学技术转移中心", legal_name_en="Qingyuan University TTO")
    battery = published_listing(org=org, records=[register_record(
        owner_name=org.legal_name, title="一种基于深度学习的锂电池健康状态估计方法", number="201210379921.4",
        publication_number="CN103000000B", classes=["H01M 10/48"])], price_minor=50_000_000)
    charger = published_listing(org=org, records=[register_record(
        owner_name=org.legal_name, title="Wireless charging coil alignment device", number="202310397744.0",
        publication_number="CN116455754B", classes=["H02J 50/90"])], price_minor=30_000_000,
        deal_type="exclusive_licence", licence_term_months=24, licence_territory="中国大陆")
    mark = published_listing(org=org, records=[register_record(
        owner_name=org.legal_name, kind="trademark", title="清源智芯", number="18181400", classes=["09", "42"])],
        price_minor=15_000_000)
    draft = draft_listing(title="一种锂电池回收方法 草稿")
    return {"battery": battery, "charger": charger, "mark": mark, "draft": draft}


@pytest.mark.parametrize("q", ["锂电池", "健康状态", "电池", "深度学习 锂电池", "清源大学"])
def test_chinese_keywords_find_chinese_titles(client, catalogue, q):
    assert catalogue["battery"].pk in found(client.get("/search/", {"q": q}))


@pytest.mark.parametrize("q", ["wireless", "Wireless charging", "align", "Qingyuan"])
def test_english_keywords_match_words_and_prefixes(client, catalogue, q):
    response = client.get("/search/", {"q": q})
    if q == "Qingyuan":
        assert set(found(response)) >= {catalogue["battery"].pk, catalogue["charger"].pk}
    else:
        assert found(response) == [catalogue["charger"].pk]


@pytest.mark.parametrize("q", ["ZL 2012 1 0379921.4", "201210379921.4", "201210379921", "CN201210379921.4",
                               "CN103000000B", "cn 103000000"])
def test_a_number_in_any_typed_form_finds_the_right(client, catalogue, q):
    response = client.get("/search/", {"q": q})
    assert found(response) == [catalogue["battery"].pk]
    assert response.context["result"].is_number


def test_trademark_number_finds_the_mark(client, catalogue):
    assert found(client.get("/search/", {"q": "第18181400号"})) == [catalogue["mark"].pk]


def test_unpublished_listings_are_never_found(client, catalogue):
    assert catalogue["draft"].pk not in found(client.get("/search/", {"q": "锂电池"}))
    assert catalogue["draft"].pk not in found(client.get("/search/"))


def test_filters_and_facets(client, catalogue):
    response = client.get("/search/", {"kind": "trademark"})
    assert found(response) == [catalogue["mark"].pk]
    facets = response.context["result"].facets
    assert facets["kind"] == {"invention": 2, "utility_model": 0, "design": 0, "trademark": 1,
                              "software_copyright": 0, "works_copyright": 0}
    assert facets["deal_type"]["assignment"] == 1  # only the trademark among the chosen kind
    assert found(client.get("/search/", {"klass": "H01M"})) == [catalogue["battery"].pk]
    assert found(client.get("/search/", {"klass": "9"})) == [catalogue["mark"].pk]
    assert found(client.get("/search/", {"q": "锂电池", "klass": "H01M"})) == [catalogue["battery"].pk]
    assert found(client.get("/search/", {"q": "锂电池", "klass": "H02J"})) == []
    assert found(client.get("/search/", {"deal_type": "exclusive_licence"})) == [catalogue["charger"].pk]
    assert set(found(client.get("/search/", {"price_min": "200000", "price_max": "400,000"}))) == {
        catalogue["charger"].pk}
    assert found(client.get("/search/", {"jurisdiction": "US"})) == []
    assert len(found(client.get("/search/", {"term": "5"}))) == 3


def test_bad_filter_values_do_not_crash(client, catalogue):
    response = client.get("/search/", {"price_min": "abc", "klass": "99", "page": "x", "sort": "nope"})
    assert response.status_code == 200
    assert len(found(response)) == 3


def test_sorts(client, catalogue):
    by_price = found(client.get("/search/", {"sort": "price_asc"}))
    assert by_price == [catalogue["mark"].pk, catalogue["charger"].pk, catalogue["battery"].pk]
    assert found(client.get("/search/", {"sort": "price_desc"})) == by_price[::-1]
    assert len(found(client.get("/search/", {"sort": "term"}))) == 3
    assert found(client.get("/search/", {"sort": "newest"}))[0] == catalogue["mark"].pk


def test_pagination(client, tenant):
    org = OrganizationFactory()
    for i in range(23):
        published_listing(org=org, title=f"数据压缩方法 {i}")
    first = client.get("/search/", {"q": "数据压缩"})
    assert (first.context["result"].total, len(found(first)), first.context["result"].pages) == (23, 20, 2)
    second = client.get("/search/", {"q": "数据压缩", "page": 2})
    assert len(found(second)) == 3
    assert not set(found(first)) & set(found(second))


@pytest.mark.parametrize("n", [1, 20])
def test_search_page_query_count_is_fixed(client, tenant, django_assert_max_num_queries, n):
    org = OrganizationFactory()
    for i in range(n):
        published_listing(org=org, title=f"一种图像压缩方法 {i}")
    user = make_member()
    login(client, user)
    with django_assert_max_num_queries(10):
        response = client.get("/search/", {"q": "图像压缩"})
    assert len(found(response)) == n


@pytest.mark.parametrize("n", [1, 20])
def test_listing_page_query_count_is_fixed(client, tenant, django_assert_max_num_queries, n):
    org = OrganizationFactory()
    records = [register_record(owner_name=org.legal_name) for _ in range(n)]
    listing = published_listing(org=org, records=records)
    login(client, make_member())
    # 10 for the page, +3 for financing's valuation panel (comparables, views, watchers), +1 for demand's
    # answer to listing.sale_hold (is it being auctioned?), +2 for the status history (rights monitoring's
    # alerts) and demand's answer to right.matching_wants, whatever n is
    with django_assert_max_num_queries(16):
        response = client.get(f"/listings/{listing.pk}/")
    assert response.status_code == 200
    assert len(response.context["rights"]) == n


def test_home_page_shows_featured_and_recent(client, catalogue, django_assert_max_num_queries):
    Listing.objects.filter(pk=catalogue["mark"].pk).update(featured=True)
    with django_assert_max_num_queries(6):
        response = client.get("/")
    assert response.context["featured"][0].pk == catalogue["mark"].pk
    assert catalogue["battery"] in response.context["recent"]
    assert dict((k, n) for k, _label, n in response.context["kinds"])["invention"] == 2


def test_listing_page_has_register_data_and_order_link(client, catalogue):
    listing = catalogue["battery"]
    body = client.get(f"/listings/{listing.pk}/").content.decode()
    assert "201210379921.4" in body
    assert f'href="/orders/new/{listing.pk}/"' in body
    assert listing.seller_org.legal_name in body


def test_the_seller_is_named_in_the_readers_language_where_it_gave_an_english_name(client, catalogue, settings):
    listing = catalogue["battery"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    for path in (f"/listings/{listing.pk}/", "/search/?q=battery", "/search/?q=锂电池", "/"):
        body = client.get(path).content.decode()
        assert "Qingyuan University TTO" in body, path
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    body = client.get(f"/listings/{listing.pk}/").content.decode()
    assert "清源大学技术转移中心" in body
    assert "Qingyuan University TTO" not in body


def test_unpublished_listing_is_404_except_to_seller_and_staff(client, tenant):
    seller, org = seller_with_org()
    listing = draft_listing(seller=seller, org=org)
    assert client.get(f"/listings/{listing.pk}/").status_code == 404
    login(client, make_member(roles=(Role.BUYER,)))
    assert client.get(f"/listings/{listing.pk}/").status_code == 404
    login(client, seller)
    assert client.get(f"/listings/{listing.pk}/").status_code == 200
    login(client, make_member(roles=(Role.VERIFIER,), org=False))
    assert client.get(f"/listings/{listing.pk}/").status_code == 200


def test_other_tenants_listings_are_404_and_not_searchable(client, tenant, other_tenant):
    with tenant_context(other_tenant):
        foreign = published_listing(title="一种外部交易所的锂电池专利")
    assert client.get(f"/listings/{foreign.pk}/").status_code == 404
    assert found(client.get("/search/", {"q": "锂电池"})) == []
    assert client.get(f"/listings/{foreign.pk}/", HTTP_HOST="beta.test").status_code == 200


def test_watchlist(client, catalogue):
    user = make_member()
    login(client, user)
    listing = catalogue["battery"]
    client.post(f"/listings/{listing.pk}/watch/")
    assert Watch.objects.filter(user=user, listing=listing).exists()
    assert listing in [w.listing for w in client.get("/watchlist/").context["watches"]]
    client.post(f"/listings/{listing.pk}/watch/")
    assert not Watch.objects.filter(user=user, listing=listing).exists()


def test_watch_needs_login(client, catalogue):
    response = client.post(f"/listings/{catalogue['battery'].pk}/watch/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_wizard_lookup_fills_the_form_and_saves_a_draft(client, tenant):
    seller, org = seller_with_org(legal_name="清源大学技术转移中心")
    record = register_record(owner_name=org.legal_name, number="201210379921.4", title="一种图像处理方法")
    login(client, seller)
    card = client.get(reverse("listings:sell_lookup"), {"number": "ZL 2012 1 0379921.4"}, HTTP_HX_REQUEST="true")
    assert card.status_code == 200
    assert f'name="record" value="{record.pk}"' in card.content.decode()
    bad = client.get(reverse("listings:sell_lookup"), {"number": "ZL201210379921.5"}, HTTP_HX_REQUEST="true")
    assert bad["HX-Retarget"] == "#lookup-result"
    assert "4" in bad.content.decode()
    response = client.post("/sell/", {
        "record": [record.pk], "title": "图像处理专利转让", "price": "560,000", "deal_type": "assignment",
        "description": "成熟技术", "industry_tags": "图像, AI", "action": "save",
        f"certificate_{record.pk}": SimpleUploadedFile("cert.pdf", PDF, "application/pdf"),
    })
    assert response.status_code == 302
    listing = Listing.objects.get(seller_org=org)
    assert (listing.price_minor, listing.state, listing.industry_tags) == (56_000_000, "draft", ["图像", "AI"])
    assert listing.rights.get().certificate_content_type == "application/pdf"
    client.post(f"/sell/listings/{listing.pk}/submit/")
    listing.refresh_from_db()
    assert listing.state == Listing.State.SUBMITTED


def test_wizard_without_javascript_looks_up_by_posting(client, tenant):
    seller, org = seller_with_org()
    record = register_record(owner_name=org.legal_name, title="一种数据压缩方法")
    login(client, seller)
    response = client.post("/sell/", {"number": record.number, "action": "lookup", "deal_type": "assignment"})
    assert response.status_code == 200
    assert [c["record"] for c in response.context["cards"]] == [record]
    assert response.context["form"].initial["title"] == "一种数据压缩方法"


def test_wizard_rejects_a_fake_certificate_and_writes_nothing(client, tenant):
    seller, org = seller_with_org()
    record = register_record(owner_name=org.legal_name)
    login(client, seller)
    response = client.post("/sell/", {
        "record": [record.pk], "title": "x", "price": "100", "deal_type": "assignment", "action": "save",
        f"certificate_{record.pk}": SimpleUploadedFile("cert.pdf", b"<html>not a pdf</html>", "application/pdf"),
    })
    assert response.status_code == 200
    assert response.context["errors"]
    assert not Listing.objects.exists()


def test_wizard_form_errors_are_shown(client, tenant):
    seller, org = seller_with_org()
    record = register_record(owner_name=org.legal_name)
    login(client, seller)
    response = client.post("/sell/", {"record": [record.pk], "title": "", "price": "-5", "action": "save",
                                      "deal_type": "exclusive_licence"})
    form = response.context["form"]
    assert set(form.errors) >= {"title", "price", "licence_term_months", "licence_territory"}


def test_wizard_blocks_unverified_sellers(client, tenant):
    seller, org = seller_with_org(verification_status="pending")
    login(client, seller)
    response = client.get("/sell/")
    assert "listings/sell/blocked.html" in [t.name for t in response.templates]


def test_my_listings_shows_rejection_reasons(client, tenant):
    seller, org = seller_with_org()
    listing = draft_listing(seller=seller, org=org)
    from listings.services import listing_decide, listing_submit
    from tests.factories import verifier

    listing_submit(listing=listing, actor=seller)
    listing_decide(listing=listing, actor=verifier(), approve=False, reasons="权利人与卖方不一致")
    login(client, seller)
    body = client.get("/sell/listings/").content.decode()
    assert "权利人与卖方不一致" in body
    assert f"/sell/listings/{listing.pk}/edit/" in body


def test_my_listings_in_pages_most_recent_first(client, tenant, monkeypatch):
    from listings.views import sell

    monkeypatch.setattr(sell, "MINE_PER_PAGE", 3)
    seller, org = seller_with_org()
    made = [published_listing(org=org, title=f"清单 {i}") for i in range(7)]
    published_listing(title="another seller's")  # never on this seller's pages
    login(client, seller)
    pages = [client.get("/sell/listings/", {"page": n}) for n in (1, 2, 3)]
    seen = [[row.pk for row in page.context["listings"]] for page in pages]
    newest_first = [x.pk for x in sorted(made, key=lambda x: (x.updated_at, x.pk), reverse=True)]
    assert seen == [newest_first[:3], newest_first[3:6], newest_first[6:]]
    assert [(p.context["has_previous"], p.context["has_next"]) for p in pages] == [
        (False, True), (True, True), (True, False)]
    assert 'href="?page=2"' in pages[0].content.decode()
    assert 'rel="prev"' not in pages[0].content.decode()
    beyond = client.get("/sell/listings/", {"page": 9})
    assert beyond.status_code == 200
    assert 'href="?page=1"' in beyond.content.decode()
    assert client.get("/sell/listings/", {"page": "x"}).context["page"] == 1
    first_right = Listing.objects.get(pk=newest_first[0]).rights.get()
    assert f"{first_right.jurisdiction} {first_right.number}" in pages[0].content.decode()  # each row's rights


def test_seller_pages_of_another_org_are_404(client, tenant):
    seller, org = seller_with_org()
    listing = draft_listing(seller=seller, org=org)
    login(client, make_member(roles=(Role.SELLER,)))
    assert client.get(f"/sell/listings/{listing.pk}/").status_code == 404
    assert client.post(f"/sell/listings/{listing.pk}/withdraw/").status_code == 404


def test_mark_image(client, tenant):
    record = register_record(kind="trademark", title="清源智芯", number="18181400")
    response = client.get(f"/marks/CN/{record.number}.svg")
    assert response["Content-Type"] == "image/svg+xml"
    assert "清源智芯" in response.content.decode()


def test_very_large_result_sets_get_estimated_counts(client, tenant, monkeypatch):
    from listings import search

    org = OrganizationFactory()
    for i in range(7):
        published_listing(org=org, title=f"一种数据压缩方法 {i}")
    monkeypatch.setattr(search, "EXACT_FACETS_UP_TO", 5)
    response = client.get("/search/")
    result = response.context["result"]
    assert result.approximate
    assert result.total == 7  # the sample reads the whole (small) table here
    assert "about 7 listings" in response.content.decode() or "约" in response.content.decode()


def test_very_broad_keywords_show_the_newest_matches_first(client, tenant, monkeypatch):
    import datetime

    from django.utils import timezone

    from listings import search

    org = OrganizationFactory()
    now = timezone.now()
    for i in range(6):
        published_listing(org=org, title=f"一种锂电池管理方法 {i}", published_at=now - datetime.timedelta(days=i))
    published_listing(org=org, title="一种图像压缩方法", published_at=now)
    monkeypatch.setattr(search, "EXACT_FACETS_UP_TO", 3)
    monkeypatch.setattr(search, "PAGE_SIZE", 2)
    result = client.get("/search/", {"q": "锂电池"}).context["result"]
    assert result.newest_instead_of_rank
    assert [listing.title for listing in result.listings] == ["一种锂电池管理方法 0", "一种锂电池管理方法 1"]
    result = client.get("/search/", {"q": "锂电池", "page": 2}).context["result"]
    assert [listing.title for listing in result.listings] == ["一种锂电池管理方法 2", "一种锂电池管理方法 3"]
    monkeypatch.setattr(search, "PAGE_SIZE", 1)  # page 5 is past the first three pages: the full query
    result = client.get("/search/", {"q": "锂电池", "page": 5}).context["result"]
    assert [listing.title for listing in result.listings] == ["一种锂电池管理方法 4"]
