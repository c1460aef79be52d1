"""Issue 10, bad input: every text field has a limit with a message (form, API, model), deeply nested
JSON is a 400 problem, absurd CSV prices are row errors, single-line fields refuse control characters,
CSV row limits come before the work, a notification email that fails is retried, then reported."""

import json
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError

from accounts.models import Organization
from core.models import Notification
from core.notifications import notify
from core.text import LONG_TEXT
from listings.models import Listing
from tests.factories import api_headers, make_api_key, make_member, register_record, seller_with_org

pytestmark = pytest.mark.django_db


def _wizard(client, org, **fields):
    record = register_record(owner_name=org.legal_name)
    data = {"title": "A patent", "price": "1000", "deal_type": "assignment", "record": [record.pk],
            "action": "save"}
    data.update(fields)
    return client.post("/sell/", data)


def test_a_megabyte_description_in_the_wizard_is_a_form_error(client, tenant):
    seller, org = seller_with_org()
    client.force_login(seller)
    response = _wizard(client, org, description="专" * 600_000)
    assert response.status_code == 200
    assert "20000" in response.content.decode() or "20,000" in response.content.decode()
    assert not Listing.objects.exists()


@pytest.mark.parametrize("field", ["title", "licence_territory"])
def test_line_breaks_in_a_listing_title_are_refused_in_the_wizard(client, tenant, field):
    seller, org = seller_with_org()
    client.force_login(seller)
    response = _wizard(client, org, **{field: "Patent\r\nBcc: victim@example.com"})
    assert response.status_code == 200
    assert not Listing.objects.exists()


def test_the_listing_model_holds_its_limits(tenant):
    listing = Listing(title="ok\nBcc: x", description="x" * (LONG_TEXT + 1))
    with pytest.raises(ValidationError) as exc:
        listing.clean_fields(exclude=[f.name for f in Listing._meta.fields if f.name not in ("title", "description")])
    assert set(exc.value.message_dict) == {"title", "description"}


def test_the_listing_service_refuses_what_no_form_checked(tenant):
    from core.errors import ValidationFailed
    from listings.services import ListingInput, listing_create_from_register

    seller, org = seller_with_org()
    record = register_record(owner_name=org.legal_name)
    for data in (ListingInput(title="a\r\nb", price_minor=100), ListingInput(title="a", price_minor=10**17),
                 ListingInput(title="a", price_minor=100, description="x" * (LONG_TEXT + 1))):
        with pytest.raises(ValidationFailed):
            listing_create_from_register(actor=seller, organization=org, records=[record], data=data)
    assert not Listing.objects.exists()


def test_organization_name_with_a_line_break_is_refused(client, tenant):
    user = make_member(org=False)
    client.force_login(user)
    response = client.post("/account/organizations/new/", {
        "legal_name": "Acme\r\nBcc: x@example.com", "kind": "company", "country": "US",
        "registration_number": "", "contact_email": "a@example.com", "address": "1 Road"})
    assert response.status_code == 200
    assert not Organization.objects.filter(legal_name__contains="Acme").exists()


def test_an_address_of_many_lines_is_refused(client, tenant):
    user = make_member(org=False)
    client.force_login(user)
    response = client.post("/account/organizations/new/", {
        "legal_name": "Acme", "kind": "company", "country": "US", "registration_number": "",
        "contact_email": "a@example.com", "address": "\n".join(["x"] * 120)})
    assert response.status_code == 200
    assert not Organization.objects.filter(legal_name="Acme").exists()


# --- API ------------------------------------------------------------------------------------------

@pytest.fixture
def api(client, tenant, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    _key, secret = make_api_key()
    return client, api_headers(secret)


@pytest.mark.parametrize("url", ["/api/v1/orders", "/api/v1/seller/listings", "/api/v1/seller/listings/import"])
def test_deeply_nested_json_is_a_400_problem(api, url):
    client, headers = api
    body = "[" * 5000 + "]" * 5000
    response = client.post(url, body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 400


def test_api_title_with_a_line_break_is_a_field_error(api):
    client, headers = api
    response = client.post("/api/v1/seller/listings", {
        "title": "x\r\nBcc: y", "price_minor": 1000, "deal_type": "assignment",
        "rights": [{"number": "ZL 2012 1 0379921.4"}]}, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert "title" in response.json()["errors"]


@pytest.mark.parametrize("price", ["1e17", "100000000000000000", "9" * 25, "1e400"])
def test_csv_price_beyond_the_limit_is_a_row_error(api, price):
    client, headers = api
    record = register_record()
    body = f"number,price\n{record.number},{price}\n"
    response = client.post("/api/v1/seller/listings/import", body, content_type="text/csv", headers=headers)
    assert response.status_code == 400, response.content[:300]
    rows = response.json()["row_errors"]
    assert rows
    assert rows[0]["row"] == 1
    assert not Listing.objects.exists()


def test_csv_row_limit_is_checked_before_any_row_is_looked_up(api):
    client, headers = api
    body = "number,price\n" + "".join(f"ZL 2012 1 0379921.{i % 10},100\n" for i in range(1001))
    with mock.patch("listings.api.bulk.BulkRowSerializer.is_valid") as validate, \
            mock.patch("rights.registry.embedded.EmbeddedRegister.lookup") as lookup:
        response = client.post("/api/v1/seller/listings/import", body, content_type="text/csv", headers=headers)
    assert response.status_code == 400
    assert validate.call_count == 0
    assert lookup.call_count == 0


def test_json_row_limit_is_checked_before_any_row_is_looked_up(api):
    client, headers = api
    body = json.dumps({"rows": [{"number": "ZL 2012 1 0379921.4", "price": "100"}] * 1001})
    with mock.patch("listings.api.bulk.BulkRowSerializer.is_valid") as validate:
        response = client.post("/api/v1/seller/listings/import", body, content_type="application/json",
                               headers=headers)
    assert response.status_code == 400
    assert validate.call_count == 0


# --- notification emails --------------------------------------------------------------------------

def test_a_subject_with_a_line_break_is_still_emailed_on_one_line(tenant, mailoutbox):
    from core.tasks import send_notification_email

    user = make_member()
    (note,) = notify(users=[user], kind="x", subject="Order %(ref)s", params={"ref": "A\r\nBcc: evil@example.com"})
    send_notification_email(notification_id=note.pk, tenant_id=tenant.pk)
    assert len(mailoutbox) == 1
    assert "\n" not in mailoutbox[0].subject
    assert "Bcc" in mailoutbox[0].subject
    note.refresh_from_db()
    assert note.emailed_at is not None


def test_a_failing_email_is_retried_then_reported_never_dropped(tenant, caplog):
    from core.tasks import send_notification_email

    user = make_member()
    (note,) = notify(users=[user], kind="x", subject="Hello")
    with mock.patch("core.tasks.send_mail", side_effect=BadHeaderError("boom")), \
            mock.patch.object(send_notification_email, "retry", side_effect=RuntimeError("retry asked")) as retry:
        with pytest.raises(RuntimeError, match="retry asked"):
            send_notification_email(notification_id=note.pk, tenant_id=tenant.pk)
    assert retry.call_count == 1
    note.refresh_from_db()
    assert note.emailed_at is None
    assert note.email_attempts == 1
    assert "boom" in note.email_error
    # the last attempt gives up visibly: the failure stays on the notification and is logged as an error
    note.email_attempts = send_notification_email.max_retries
    note.save(update_fields=["email_attempts"])
    with mock.patch("core.tasks.send_mail", side_effect=OSError("smtp down")):
        send_notification_email(notification_id=note.pk, tenant_id=tenant.pk)
    note.refresh_from_db()
    assert note.email_failed_at is not None
    assert "smtp down" in note.email_error
    assert any(r.levelname == "ERROR" and "smtp down" in r.getMessage() for r in caplog.records)
    assert Notification.objects.filter(email_failed_at__isnull=False).count() == 1
