"""Security review: bad input never answers 500, POSTs need the CSRF token, `next` never leaves the site,
uploaded files are never served from /media/ without a check.

Given the main forms (listing wizard, order placement, dispute, signing, organization), when odd values
arrive (huge, negative, non-numeric, unicode, missing, wrong content types), then the answer is a page with
a message (2xx/3xx/4xx), never a server error, and no half-written row."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Organization, Role
from core.tenancy import tenant_context
from escrow.models import Dispute, OrderState
from listings.models import Listing
from tests.factories import (
    escrow_listing,
    make_member,
    order_in_state,
    register_record,
    seller_with_org,
    transfer_order,
)
from transfers.models import TransferDocument
from transfers.services import transfer_prepare

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
HUGE_INT = "9" * 30
ODD = ["", " ", "-1", "-100000000", "0", "1e309", "NaN", "Infinity", HUGE_INT, "abc", "１２３", "1,2,3.4.5",
       "<script>alert(1)</script>", "' OR 1=1 --", "\u202e\u0000", "x" * 5000, "中文价格"]
SHORT = ["", "-1", HUGE_INT, "abc", "\u202e\u0000", "x" * 5000]
NUMERIC = {"price", "licence_term_months", "record", "price_min", "price_max", "page"}


def no_server_errors(responses):
    return [(what, r.status_code) for what, r in responses if r.status_code >= 500]


def _int_urls():
    """Every website URL pattern with an <int:…> converter (admin, allauth and the API excluded)."""
    found = []

    def walk(resolver, prefix):
        for p in resolver.url_patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                if route.startswith(("admin/", "accounts/", "api/")):
                    continue
                walk(p, route)
            elif isinstance(p, URLPattern) and "<int:" in route:
                found.append(route)
    walk(get_resolver(), "")
    return found


def test_huge_and_negative_ids_in_urls_are_404_not_500(client, tenant):
    """Postgres integer overflow (an id beyond bigint) must not become a 500."""
    client.force_login(make_member(roles=(Role.BUYER, Role.SELLER)))
    routes = _int_urls()
    assert len(routes) >= 20
    responses = []
    for route in routes:
        for value in (HUGE_INT, "2147483648", "0"):
            url = "/" + re.sub(r"<int:\w+>", value, route)
            responses.append((("GET", url), client.get(url)))
            responses.append((("POST", url), client.post(url, {})))
    assert no_server_errors(responses) == []


def test_odd_order_references_are_404(client, tenant):
    """NUL in a reference was a 500 (PostgreSQL refuses NUL in text); fixed in escrow selectors/views."""
    client.force_login(make_member())
    responses = [("payment nul", client.get("/orders/X/pay/simulated/?payment=%00")),
                 ("payment nul", client.get("/orders/X/pay/bank/?payment=%00"))]
    for ref in ("%00", "a\x00", "..%2F..%2Fetc%2Fpasswd", "IPX-" + "9" * 500, "中文", "'; DROP TABLE x;--"):
        responses.append((ref, client.get(f"/orders/{ref}/")))
        responses.append((ref, client.post(f"/orders/{ref}/act/confirm/")))
        responses.append((ref, client.get(f"/api/v1/orders/{ref}")))
    assert no_server_errors(responses) == []


def test_listing_wizard_survives_odd_values(client, tenant):
    seller, org = seller_with_org()
    record = register_record(owner_name=org.legal_name)
    client.force_login(seller)
    before = Listing.objects.count()
    responses = []
    for field in ("price", "licence_term_months", "title", "deal_type", "record", "action", "licence_territory",
                  "industry_tags"):
        for value in ODD if field in NUMERIC else SHORT:
            data = {"title": "A patent", "price": "1000", "deal_type": "assignment", "record": [record.pk],
                    "action": "save"}
            data[field] = value
            responses.append(((field, value[:20]), client.post("/sell/", data)))
    for value in ODD[:8]:
        responses.append((("lookup", value), client.post("/sell/", {"action": "lookup", "number": value,
                                                                   "jurisdiction": value, "kind": value})))
        responses.append((("htmx lookup", value), client.get("/sell/lookup/", {"number": value, "record": value})))
        responses.append((("GET number", value), client.get("/sell/", {"number": value})))
    # a certificate that is not a document, and a missing record list
    responses.append(("exe certificate", client.post("/sell/", {
        "title": "A patent", "price": "1000", "deal_type": "assignment", "record": [record.pk], "action": "save",
        f"certificate_{record.pk}": SimpleUploadedFile("c.pdf", EXE, content_type="application/pdf")})))
    responses.append(("no fields", client.post("/sell/", {})))
    assert no_server_errors(responses) == []
    # negative / absurd prices never made a listing
    assert not Listing.objects.filter(price_minor__lte=0).exists()
    assert Listing.objects.count() - before <= len(ODD) * 8


def test_search_survives_odd_values(client, tenant):
    responses = []
    for value in ODD + ["a & | ! ( ) :*", "\\", "'", "(((", "*"]:
        for field in ("q", "price_min", "price_max", "page", "klass", "kind", "sort", "term"):
            if field in NUMERIC or field == "q" or value in SHORT:
                responses.append(((field, value[:20]), client.get("/search/", {field: value})))
    assert no_server_errors(responses) == []


# found in review, fixed
def test_search_with_a_price_beyond_bigint_is_not_a_500(client, tenant):
    assert client.get("/search/", {"price_min": "1e309"}).status_code < 500


# found in review, fixed
def test_mark_image_with_nul_is_not_a_500(client, tenant):
    assert client.get("/marks/CN/%00.svg").status_code < 500


def test_order_placement_survives_odd_values(client, tenant):
    listing = escrow_listing()
    client.force_login(make_member())
    responses = [(v, client.post(f"/orders/new/{listing.pk}/", {"terms": v})) for v in ODD[:6]]
    assert no_server_errors(responses) == []


def test_dispute_upload_rejects_executables_and_survives_odd_input(client, tenant):
    order, _seller, buyer = order_in_state(OrderState.FUNDED)
    client.force_login(buyer)
    url = f"/orders/{order.reference}/act/dispute/"
    responses = [
        ("exe as pdf", client.post(url, {"reason": "fraud", "files": [
            SimpleUploadedFile("evidence.pdf", EXE, content_type="application/pdf")]})),
        ("html", client.post(url, {"reason": "fraud", "files": [
            SimpleUploadedFile("e.html", b"<html><script>alert(1)</script>", content_type="text/html")]})),
        ("too many", client.post(url, {"reason": "fraud", "files": [
            SimpleUploadedFile(f"e{i}.pdf", PDF, content_type="application/pdf") for i in range(8)]})),
        ("empty reason", client.post(url, {"reason": ""})),
        ("huge reason", client.post(url, {"reason": "x" * 100_000})),
        ("nul", client.post(url, {"reason": "a\x00b"})),
    ]
    assert no_server_errors(responses) == []
    assert not Dispute.objects.filter(order=order).exists()


def test_signing_survives_odd_values(client, tenant):
    order, seller, _buyer = transfer_order(state=OrderState.FUNDED)
    transfer_prepare(order=order)
    document = TransferDocument.objects.filter(order=order, superseded=False).first()
    client.force_login(seller)
    url = f"/transfers/papers/{document.pk}/"
    responses = []
    for value in ODD:
        responses.append((("name", value[:20]), client.post(url, {"typed_name": value, "consent": "on",
                                                                  "sha256": document.sha256})))
        responses.append((("sha", value[:20]), client.post(url, {"typed_name": seller.full_name, "consent": "on",
                                                                 "sha256": value})))
    responses.append(("no consent", client.post(url, {"typed_name": seller.full_name})))
    assert no_server_errors(responses) == []
    assert not document.signatures.exclude(typed_name=seller.full_name).exists()
    responses = [("exe certificate", client.post(f"/transfers/orders/{order.pk}/export-certificate/", {
        "file": SimpleUploadedFile("c.pdf", EXE, content_type="application/pdf")}))]
    assert no_server_errors(responses) == []


def test_organization_forms_survive_odd_values(client, tenant):
    user = make_member(org=False)
    client.force_login(user)
    responses = []
    fields = ("legal_name", "kind", "country", "registration_number", "legal_name_en", "address", "contact_email")
    for field in fields:
        for value in ODD if field in ("registration_number", "legal_name") else SHORT:
            data = {"legal_name": "Acme", "kind": "company", "country": "CN", "registration_number": "",
                    "contact_email": "a@example.com"}
            data[field] = value
            responses.append(((field, value[:20]), client.post("/account/organizations/new/", data)))
    assert no_server_errors(responses) == []
    _s, org = seller_with_org(verification_status=Organization.Verification.UNVERIFIED)
    admin_user = org.memberships.first().user
    client.force_login(admin_user)
    responses = [
        ("exe doc", client.post(f"/account/organizations/{org.pk}/documents/", {
            "kind": "business_licence", "file": SimpleUploadedFile("l.pdf", EXE, content_type="application/pdf")})),
        ("svg doc", client.post(f"/account/organizations/{org.pk}/documents/", {
            "kind": "business_licence",
            "file": SimpleUploadedFile("l.svg", b"<svg onload=alert(1)>", content_type="image/svg+xml")})),
        ("bad kind", client.post(f"/account/organizations/{org.pk}/documents/", {
            "kind": "zzz", "file": SimpleUploadedFile("l.pdf", PDF)})),
        ("bad member", client.post(f"/account/organizations/{org.pk}/members/", {"email": "x" * 500})),
        *[((f"edit {v[:10]}"), client.post(f"/account/organizations/{org.pk}/edit/", {"legal_name": v}))
          for v in ODD[:8]],
    ]
    assert no_server_errors(responses) == []
    assert not org.documents.exists()


def test_api_survives_odd_values(client, tenant, settings):
    from tests.factories import api_headers, make_api_key

    settings.API_THROTTLE_RATE = "100000/min"
    _key, secret = make_api_key()
    h = api_headers(secret)
    responses = []
    for value in [HUGE_INT, -1, "abc", None, 1e308, [], {}]:
        responses.append((("order", value), client.post("/api/v1/orders", {"listing_id": value, "terms_accepted": True},
                                                        content_type="application/json", headers=h)))
        responses.append((("listing", value), client.post("/api/v1/seller/listings", {
            "title": "x", "price_minor": value, "deal_type": "assignment", "rights": [{"number": value}]},
            content_type="application/json", headers=h)))
    responses.append(("not json", client.post("/api/v1/orders", "{{{", content_type="application/json", headers=h)))
    responses.append(("xml", client.post("/api/v1/orders", "<a/>", content_type="application/xml", headers=h)))
    responses.append(("huge id", client.get(f"/api/v1/listings/{HUGE_INT}", headers=h)))
    assert no_server_errors(responses) == []


# --- CSRF ---------------------------------------------------------------------------------------

def test_every_website_post_needs_the_csrf_token(tenant):
    """With CSRF checks enforced (as in production), a POST without the token is refused (403) everywhere
    except the payment providers' signed webhooks."""
    seller, org = seller_with_org()
    order, _s, buyer = order_in_state(OrderState.PLACED)
    listing = escrow_listing()
    client = Client(enforce_csrf_checks=True)
    client.force_login(seller)
    urls = ["/sell/", f"/sell/listings/{listing.pk}/edit/", f"/sell/listings/{listing.pk}/submit/",
            f"/sell/listings/{listing.pk}/withdraw/", f"/listings/{listing.pk}/watch/",
            "/account/organizations/new/", f"/account/organizations/{org.pk}/edit/",
            f"/account/organizations/{org.pk}/submit/", f"/account/organizations/{org.pk}/members/",
            f"/account/organizations/{org.pk}/default/", f"/account/organizations/{org.pk}/documents/",
            "/account/profile/", "/notifications/read-all/", "/notifications/1/open/", "/i18n/setlang/",
            f"/orders/new/{listing.pk}/", f"/orders/{order.reference}/act/confirm/",
            f"/orders/{order.reference}/pay/", f"/orders/margin/{listing.pk}/pay/",
            "/transfers/papers/1/", "/transfers/orders/1/export-certificate/", "/transfers/orders/1/file/",
            "/transfers/staff/1/reference/", "/accounts/logout/", "/accounts/email/", "/accounts/password/change/",
            "/admin/logout/"]
    refused = {url: client.post(url, {"x": "1"}).status_code for url in urls}
    assert {u: s for u, s in refused.items() if s != 403} == {}
    assert Client(enforce_csrf_checks=True).post("/accounts/login/", {"login": "a", "password": "b"}).status_code == 403


def test_every_post_form_in_the_templates_carries_the_token():
    root = Path(__file__).resolve().parents[2]
    missing = []
    for path in root.glob("*/templates/**/*.html"):
        if ".venv" in path.parts:
            continue
        text = path.read_text()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", text, flags=re.S | re.I):
            head = form[:form.index(">")]
            if re.search(r"method=[\"']?post", head, re.I) and "csrf_token" not in form:
                missing.append(str(path.relative_to(root)))
    assert missing == []


# --- redirects ----------------------------------------------------------------------------------

EVIL = ["https://evil.example.com/", "//evil.example.com/", "/\\evil.example.com", "https:evil.example.com"]


def _offsite(response):
    location = response.get("Location", "")
    return response.status_code in (301, 302, 303, 307, 308) and not (
        location.startswith("/") and not location.startswith(("//", "/\\")))


def test_login_and_organization_switch_never_redirect_off_site(client, tenant):
    from tests.factories import PASSWORD

    user = make_member()
    org = user.memberships.first().organization
    for evil in EVIL:
        client.logout()
        response = client.post(f"/accounts/login/?next={evil}", {"login": user.email, "password": PASSWORD})
        assert not _offsite(response), (evil, response.get("Location"))
        response = client.post(f"/account/organizations/{org.pk}/default/", {"next": evil})
        assert not _offsite(response), (evil, response.get("Location"))
        response = client.post("/i18n/setlang/", {"language": "en", "next": evil})
        assert not _offsite(response), (evil, response.get("Location"))


# found in review, fixed
def test_watch_toggle_never_redirects_off_site(client, tenant):
    listing = escrow_listing()
    client.force_login(make_member())
    for evil in EVIL:
        response = client.post(f"/listings/{listing.pk}/watch/", {"next": evil})
        assert not _offsite(response), (evil, response.get("Location"))


# --- files --------------------------------------------------------------------------------------

def test_uploaded_files_are_not_served_under_media(client, tenant, settings):
    seller, org = seller_with_org(verification_status=Organization.Verification.UNVERIFIED)
    from accounts.services import organization_add_document

    doc = organization_add_document(organization=org, actor=seller, kind="business_licence",
                                    file=SimpleUploadedFile("licence.pdf", PDF), content_type="application/pdf")
    assert Path(doc.file.path).exists()
    for who in (None, make_member(), seller):
        if who:
            client.force_login(who)
        assert client.get(f"/media/{doc.file.name}").status_code == 404
        assert client.get(settings.MEDIA_URL + doc.file.name).status_code == 404


def test_no_setting_serves_the_storage_directly():
    text = (Path(__file__).resolve().parents[2] / "marketplace/settings/production.py").read_text()
    assert re.search(r"^DEBUG\s*=\s*False", text, re.M)
    urls = (Path(__file__).resolve().parents[2] / "marketplace/urls.py").read_text()
    assert "django.views.static" not in urls
    assert "MEDIA_ROOT" not in urls
    assert "media/" not in urls  # no setting serves the storage directly (issue 10)


def test_the_api_ignores_website_sessions(client, tenant):
    """A logged-in browser (cookie) is no API credential: cross-site requests cannot act through the API."""
    order, _s, buyer = order_in_state(OrderState.PLACED)
    client.force_login(buyer)
    assert client.get("/api/v1/orders").status_code == 401
    assert client.post(f"/api/v1/orders/{order.reference}/cancel", {}, content_type="application/json"
                       ).status_code == 401


def test_an_api_key_of_one_exchange_is_refused_on_another(client, tenant, other_tenant, settings):
    from tests.factories import api_headers, make_api_key

    settings.API_THROTTLE_RATE = "100000/min"
    with tenant_context(other_tenant):
        _key, secret_b = make_api_key()
    _key, secret_a = make_api_key()
    assert client.get("/api/v1/me", headers=api_headers(secret_b)).status_code == 401
    assert client.get("/api/v1/me", headers=api_headers(secret_a), HTTP_HOST="beta.test").status_code == 401
    assert client.get("/api/v1/orders", headers=api_headers(secret_b), HTTP_HOST="beta.test").status_code == 200


def test_webhook_urls_cannot_point_inside_the_network(client, tenant, settings):
    from tests.factories import api_headers, make_api_key

    settings.API_THROTTLE_RATE = "100000/min"
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    _key, secret = make_api_key()
    for url in ("http://127.0.0.1:6379/", "http://169.254.169.254/latest/meta-data/", "http://localhost/",
                "http://[::1]/", "http://10.0.0.5/", "file:///etc/passwd", "http://0x7f000001/"):
        response = client.post("/api/v1/webhooks/endpoints", {"url": url, "event_types": ["order.state_changed"]},
                               content_type="application/json", headers=api_headers(secret))
        assert response.status_code in (400, 422), (url, response.status_code)
