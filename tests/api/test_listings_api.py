import pytest

from listings.models import Listing
from partners.models import WebhookDelivery
from tests.factories import (
    OrganizationFactory,
    WebhookEndpointFactory,
    published_listing,
    register_record,
    verifier,
)

pytestmark = pytest.mark.django_db


def test_register_lookup_by_number_in_any_form(api, org):
    record = register_record(owner_name=org.legal_name)
    digits = record.number.replace(".", "")
    response = api.get("/api/v1/register/lookup", {"number": f"ZL {digits[:4]} {digits[4]} {digits[5:12]}.{digits[12:]}"})
    assert response.status_code == 200
    assert response.json()["record"]["number"] == record.number
    unreadable = api.get("/api/v1/register/lookup", {"number": "not a number"})
    assert unreadable.status_code == 400
    assert unreadable["Content-Type"] == "application/problem+json"
    assert "number" in unreadable.json()["errors"]
    unknown = api.get("/api/v1/register/lookup", {"number": "CN 201210379921.4"})
    assert unknown.status_code == 404


def test_search_filters_sorts_and_cursor_pages(api):
    cheap = published_listing(price_minor=100_000)
    mid = published_listing(price_minor=200_000)
    dear = published_listing(price_minor=300_000)
    Listing.objects.filter(pk=mid.pk).update(state=Listing.State.DRAFT)  # not on the market
    response = api.get("/api/v1/listings", {"sort": "price_asc", "page_size": 1})
    body = response.json()
    assert [r["id"] for r in body["results"]] == [cheap.pk]
    second = api.get(body["next"].split("testserver")[-1]).json()
    assert [r["id"] for r in second["results"]] == [dear.pk]
    assert second["next"] is None
    filtered = api.get("/api/v1/listings", {"price_min": 250_000}).json()
    assert [r["id"] for r in filtered["results"]] == [dear.pk]


def test_search_pages_are_kept_briefly_for_every_partner_and_keys_still_checked(api, client, settings,
                                                                                django_assert_num_queries):
    from django.core.cache import cache

    settings.PUBLIC_PAGE_CACHE_SECONDS = 60
    cache.clear()
    cheap = published_listing(price_minor=100_000)
    dear = published_listing(price_minor=300_000)
    first = api.get("/api/v1/listings", {"sort": "price_asc"})
    with django_assert_num_queries(1):  # the key (with its tenant and organization): not the search
        again = api.get("/api/v1/listings", {"sort": "price_asc"})
    assert again.json() == first.json()
    assert [r["id"] for r in again.json()["results"]] == [cheap.pk, dear.pk]
    assert [r["id"] for r in api.get("/api/v1/listings", {"sort": "price_desc"}).json()["results"]] == [
        dear.pk, cheap.pk]
    assert client.get("/api/v1/listings", {"sort": "price_asc"}).status_code == 401  # no key: no copy
    cache.clear()


@pytest.mark.parametrize("params", [{"sort": "bogus"}, {"price_min": "-1"}, {"kind": "x"}, {"cursor": "garbage"},
                                    {"price_max": "1" * 30}])
def test_bad_search_parameters_are_4xx_not_500(api, params):
    response = api.get("/api/v1/listings", params)
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/problem+json"


def test_an_unusable_page_size_falls_back_to_the_default(api):
    assert api.get("/api/v1/listings", {"page_size": "abc"}).status_code == 200


def test_create_update_submit_withdraw_own_listing(api, org, tenant):
    record = register_record(owner_name=org.legal_name)
    created = api.post("/api/v1/seller/listings", {"rights": [{"number": record.number}], "price_minor": 5_000_000})
    assert created.status_code == 201, created.json()
    listing = created.json()
    assert listing["state"] == "draft"
    assert listing["title"] == record.title
    assert created["Location"] == f"/api/v1/seller/listings/{listing['id']}"

    updated = api.patch(f"/api/v1/seller/listings/{listing['id']}", {"price_minor": 6_000_000, "title": "New title"})
    assert updated.status_code == 200
    assert updated.json()["price_minor"] == 6_000_000

    submitted = api.post(f"/api/v1/seller/listings/{listing['id']}/submit")
    assert submitted.json()["state"] == "submitted"
    again = api.post(f"/api/v1/seller/listings/{listing['id']}/submit")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_state"

    withdrawn = api.post(f"/api/v1/seller/listings/{listing['id']}/withdraw", {"reason": "sold elsewhere"})
    assert withdrawn.json()["state"] == "withdrawn"
    assert [r["id"] for r in api.get("/api/v1/seller/listings").json()["results"]] == [listing["id"]]


def test_create_with_unknown_number_reports_the_field(api):
    response = api.post("/api/v1/seller/listings", {"rights": [{"number": "CN 201210379921.5"}], "price_minor": 1})
    assert response.status_code in (400, 404)
    assert "rights.0.number" in response.json()["errors"]


def test_listing_verified_webhook_is_queued_for_the_seller(api, org):
    from listings.selectors import verification_checklist
    from listings.services import listing_decide

    WebhookEndpointFactory(organization=org, url="https://partner.example.com/h", event_types=["listing.verified"])
    record = register_record(owner_name=org.legal_name)
    listing_id = api.post("/api/v1/seller/listings", {"rights": [{"number": record.number}],
                                                      "price_minor": 5_000_000}).json()["id"]
    api.post(f"/api/v1/seller/listings/{listing_id}/submit")
    listing = Listing.objects.get(pk=listing_id)
    checks = {c["code"]: True for c in verification_checklist(listing)}
    listing_decide(listing=listing, actor=verifier(), approve=True, confirmed=checks)
    delivery = WebhookDelivery.objects.get()
    assert delivery.event_type == "listing.verified"
    assert delivery.payload["data"]["listing"] == listing_id


def test_bulk_import_json_all_valid(api, org):
    records = [register_record(owner_name=org.legal_name) for _ in range(3)]
    rows = [{"number": r.number, "price_minor": 1_000_000 + i} for i, r in enumerate(records)]
    rows[2] = {"number": records[2].number, "price": "12,000.50", "industry_tags": "ai;batteries"}
    response = api.post("/api/v1/seller/listings/import", {"rows": rows, "submit": True})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["count"] == 3
    assert {item["state"] for item in body["listings"]} == {"submitted"}
    assert Listing.objects.filter(seller_org=org).count() == 3
    assert Listing.objects.get(pk=body["listings"][2]["id"]).price_minor == 1_200_050


def test_bulk_import_reports_every_row_and_stores_nothing(api, org):
    good = register_record(owner_name=org.legal_name)
    dup = register_record(owner_name=org.legal_name)
    rows = [
        {"number": good.number, "price_minor": 1000},
        {"number": "CN 201210379921.5", "price_minor": 1000},  # bad check character
        {"number": dup.number},  # no price
        {"number": dup.number, "price_minor": 5, "deal_type": "exclusive_licence"},  # licence needs term, territory
        {"number": good.number, "price_minor": 2000},  # same right twice in the batch
        {"number": good.number, "price_minor": 1, "colour": "red"},  # unknown column
    ]
    response = api.post("/api/v1/seller/listings/import", {"rows": rows})
    assert response.status_code == 400
    body = response.json()
    by_row = {}
    for e in body["row_errors"]:
        by_row.setdefault(e["row"], set()).add(e["field"])
    assert 1 not in by_row
    assert by_row[2] == {"number"}
    assert by_row[3] == {"price_minor"}
    assert by_row[6] == {"colour"}
    assert Listing.objects.filter(seller_org=org).count() == 0
    # now without the schema errors: the service errors of rows 4 and 5 are reported, still nothing stored
    response = api.post("/api/v1/seller/listings/import", {"rows": [rows[0], rows[3], rows[4]]})
    assert response.status_code == 400
    fields = {(e["row"], e["field"]) for e in response.json()["row_errors"]}
    assert (2, "licence_term_months") in fields
    assert (3, "number") in fields
    assert Listing.objects.filter(seller_org=org).count() == 0


def test_bulk_import_csv_body_and_upload(api, org, client, headers):
    a, b = register_record(owner_name=org.legal_name), register_record(owner_name=org.legal_name)
    csv_text = f"number,price,deal_type\n{a.number},1000.00,assignment\n"
    response = api.post("/api/v1/seller/listings/import?dry_run=true", csv_text, content_type="text/csv")
    assert response.status_code == 200, response.json()
    assert response.json()["dry_run"] is True
    assert Listing.objects.filter(seller_org=org).count() == 0
    response = api.post("/api/v1/seller/listings/import", csv_text, content_type="text/csv")
    assert response.status_code == 201
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("p.csv", f"number;price_minor\n{b.number};99\n".encode())
    response = client.post("/api/v1/seller/listings/import", {"file": upload}, headers=headers)
    assert response.status_code == 201, response.json()
    assert Listing.objects.filter(seller_org=org).count() == 2


def test_bulk_import_limits(api):
    rows = [{"number": "1", "price_minor": 1}] * 1001
    response = api.post("/api/v1/seller/listings/import", {"rows": rows})
    assert response.status_code == 400
    assert "rows" in response.json()["errors"]


def test_other_orgs_listings_are_404_for_seller_operations(api):
    other = OrganizationFactory()
    theirs = published_listing(org=other)
    assert api.get(f"/api/v1/seller/listings/{theirs.pk}").status_code == 404
    assert api.patch(f"/api/v1/seller/listings/{theirs.pk}", {"price_minor": 1}).status_code == 404
    assert api.post(f"/api/v1/seller/listings/{theirs.pk}/withdraw").status_code == 404
    # the market shows it (published) without seller-only fields
    detail = api.get(f"/api/v1/listings/{theirs.pk}").json()
    assert "rejection_reason" not in detail


def test_pay_margin_of_a_verified_listing(api, org, tenant):
    from listings.selectors import verification_checklist
    from listings.services import listing_decide

    tenant.margin_bps = 100
    tenant.save(update_fields=["margin_bps"])
    record = register_record(owner_name=org.legal_name)
    listing_id = api.post("/api/v1/seller/listings", {"rights": [{"number": record.number}],
                                                      "price_minor": 5_000_000}).json()["id"]
    api.post(f"/api/v1/seller/listings/{listing_id}/submit")
    listing = Listing.objects.get(pk=listing_id)
    listing_decide(listing=listing, actor=verifier(), approve=True,
                   confirmed={c["code"]: True for c in verification_checklist(listing)})
    assert api.get(f"/api/v1/seller/listings/{listing_id}").json()["state"] == "awaiting_margin"
    response = api.post(f"/api/v1/seller/listings/{listing_id}/pay-margin", {"method": "bank_transfer"})
    assert response.status_code == 200, response.json()
    assert response.json()["payment"]["amount_minor"] == 50_000
    assert response.json()["instructions"]["reference"].startswith("MGN")


@pytest.mark.parametrize("url", ["/api/v1/listings", "/api/v1/seller/listings"])
def test_list_query_counts_do_not_grow_with_rows(api, org, url, django_assert_max_num_queries):
    for _ in range(6):
        published_listing(org=org)
    with django_assert_max_num_queries(10):
        response = api.get(url)
    assert len(response.json()["results"]) == 6


def test_search_by_words_ranks_and_by_number_matches_exactly(api):
    battery = published_listing(title="一种锂电池热管理方法")
    other = published_listing(title="一种数据压缩方法")
    by_words = api.get("/api/v1/listings", {"q": "锂电池"}).json()["results"]
    assert [r["id"] for r in by_words] == [battery.pk]
    number = other.rights.first().number
    by_number = api.get("/api/v1/listings", {"q": number, "sort": "relevance"}).json()["results"]
    assert [r["id"] for r in by_number] == [other.pk]


def test_update_with_a_right_without_number_is_400(api, org):
    record = register_record(owner_name=org.legal_name)
    listing_id = api.post("/api/v1/seller/listings", {"rights": [{"number": record.number}],
                                                      "price_minor": 5_000_000}).json()["id"]
    response = api.patch(f"/api/v1/seller/listings/{listing_id}", {"rights": [{"jurisdiction": "CN"}]})
    assert response.status_code == 400
    assert "rights.0.number" in response.json()["errors"]
