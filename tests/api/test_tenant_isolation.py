"""Tenant and organization isolation over EVERY operation with an id in its path: the key of another
organization of the same exchange, and the key of another exchange (on its own host), get 404 for
organization A's objects; list endpoints never include foreign rows.

New operations with a path parameter must be added to `ids_of` below, or this test fails."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from core.tenancy import tenant_context
from escrow.models import OrderState
from financing.models import PartnerKind
from listings.models import Listing
from tests.factories import (
    OrganizationFactory,
    WebhookEndpointFactory,
    api_headers,
    draft_listing,
    finance_partner,
    held_record,
    make_api_key,
    make_member,
    post_want,
    transfer_order,
)
from transfers.models import TransferDocument
from transfers.services import transfer_prepare

pytestmark = pytest.mark.django_db

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
OPERATIONS = [(path, method.upper()) for path, item in SCHEMA["paths"].items() for method in item
              if method in ("get", "post", "patch", "put", "delete")]
WITH_IDS = [(p, m) for p, m in OPERATIONS if "{" in p]
LISTS = [p for p, m in OPERATIONS if m == "GET" and "{" not in p and p not in (
    "/api/v1/me", "/api/v1/organization", "/api/v1/register/lookup", "/api/v1/valuation")]


@pytest.fixture
def a_world(tenant, settings):
    """Organization A (the buyer of an order with papers, seller of a draft listing, a webhook endpoint)."""
    settings.API_THROTTLE_RATE = "100000/min"
    order, _seller, buyer = transfer_order(state=OrderState.FUNDED)
    transfer_prepare(order=order)
    org_a = order.buyer_org
    from accounts.models import Role

    seller_a = make_member(roles=(Role.SELLER,), org=org_a)
    listing = draft_listing(seller=seller_a, org=org_a)
    endpoint = WebhookEndpointFactory(organization=org_a, url="https://a.example.com/h")
    document = TransferDocument.objects.filter(order=order).first()
    key_a, secret_a = make_api_key(organization=org_a)
    # financing: A applies for a pledge loan on its right, a bank offers, A accepts (the contract exists);
    # A orders an appraisal
    from financing import services as financing

    record = held_record(org_a)
    application = financing.application_create(actor=seller_a, organization=org_a, record_ids=[record.pk],
                                               amount_minor=100_00, currency="CNY", term_months=6, purpose="x")
    bank, banker = finance_partner(kind=PartnerKind.BANK)
    offer = financing.offer_make(actor=banker, organization=bank.organization, application=application,
                                 amount_minor=100_00, rate_bps=300, term_months=6)
    financing.offer_accept(actor=seller_a, offer=offer)
    # its pledge release agreement (written directly: the loan's run to repayment is tested in tests/financing)
    from django.core.files.base import ContentFile

    from financing.models import FinancingDocument, FinancingDocumentKind
    from financing.papers import release_agreement_pdf, release_data

    application.refresh_from_db()
    pdf = release_agreement_pdf(release_data(application))
    release = FinancingDocument(application=application, kind=FinancingDocumentKind.RELEASE, sha256="0" * 64)
    release.file.save("release.pdf", ContentFile(pdf), save=True)
    appraiser, _u = finance_partner(kind=PartnerKind.APPRAISER, fee_minor=10_00)
    appraisal = financing.appraisal_order(actor=seller_a, organization=org_a, appraiser=appraiser,
                                          record_ids=[record.pk])
    # a dispute about it with an evidence file (rows written directly: the appraisal's run to a dispute is
    # tested in tests/financing)
    from django.utils import timezone as tz

    from financing.models import AppraisalDispute, AppraisalDisputeEvidence

    dispute = AppraisalDispute.objects.create(appraisal=appraisal, opened_by=seller_a, reason="Wrong comparables.",
                                              answer_due=tz.now())
    evidence = AppraisalDisputeEvidence(dispute=dispute, party="client", name="chart.pdf",
                                        content_type="application/pdf", uploaded_by=seller_a)
    evidence.file.save("client-chart.pdf", ContentFile(pdf), save=True)
    # demand: a closed want of A (open ones are public in the exchange) and an ended auction A ran
    from demand.models import Auction, Want

    want, _buyer = post_want(buyer=make_member(org=org_a))
    Want.objects.filter(pk=want.pk).update(state=Want.State.CLOSED)
    auction = Auction.objects.create(listing=listing, seller_org=org_a, created_by=seller_a, currency="CNY",
                                     start_price_minor=100, increment_minor=10, deposit_minor=10,
                                     starts_at=order.placed_at, ends_at=order.placed_at,
                                     scheduled_end=order.placed_at, state=Auction.State.UNSOLD)

    # an offer organization A made (as buyer) on another seller's listing
    from negotiation.services import offer_make
    from tests.factories import offer_listing

    offer_on, _seller = offer_listing()
    deal_offer = offer_make(listing=offer_on, actor=buyer, price_minor=900_000, currency=offer_on.currency)
    # questions, the data room and a private conversation: A asks and writes (with an attachment) as
    # buyer; A's draft listing has a data-room document
    from django.core.files.uploadedfile import SimpleUploadedFile

    from negotiation import conversations, dataroom
    from negotiation.services import question_ask
    from transfers import papers

    question = question_ask(listing=offer_on, actor=buyer, text="Any licence in force?")
    pdf = papers._render([papers._p("Claim chart")], title="Claim chart", reference="X")
    dataroom_document = dataroom.dataroom_upload(listing=listing, actor=seller_a, title="Claim chart",
                                                 file=SimpleUploadedFile("chart.pdf", pdf, "application/pdf"))
    conversation = conversations.conversation_for(listing=offer_on, actor=buyer)
    message = conversations.message_send(conversation=conversation, actor=buyer, body="See attached",
                                         file=SimpleUploadedFile("chart.pdf", pdf, "application/pdf"))
    Listing.objects.filter(pk=offer_on.pk).update(state=Listing.State.RESERVED)  # not in the market's lists
    # a broker proposed a mandate to A (A is the principal; the broker's key is not A's)
    from tests.factories import broker_mandate

    mandate, _broker = broker_mandate(principal_org=org_a)
    return {"order": order, "listing": listing, "endpoint": endpoint, "document": document, "secret": secret_a,
            "application": application, "offer": offer, "appraisal": appraisal, "evidence": evidence, "want": want, "auction": auction,
            "deal_offer": deal_offer, "question": question, "dataroom_document": dataroom_document,
            "conversation": conversation, "message": message, "mandate": mandate}


def ids_of(world, path):
    values = {
        "/api/v1/listings/{id}": {"id": world["listing"].pk},
        "/api/v1/seller/listings/{id}": {"id": world["listing"].pk},
        "/api/v1/seller/listings/{id}/submit": {"id": world["listing"].pk},
        "/api/v1/seller/listings/{id}/withdraw": {"id": world["listing"].pk},
        "/api/v1/seller/listings/{id}/pay-margin": {"id": world["listing"].pk},
        "/api/v1/webhooks/endpoints/{id}": {"id": world["endpoint"].pk},
        "/api/v1/wants/{id}": {"id": world["want"].pk},
        "/api/v1/auctions/{id}": {"id": world["auction"].pk},
        "/api/v1/auctions/{id}/bids": {"id": world["auction"].pk},
        "/api/v1/auctions/{id}/counter-offer": {"id": world["auction"].pk},
        "/api/v1/auctions/{id}/counter-offer/answer": {"id": world["auction"].pk},
        "/api/v1/webhooks/endpoints/{id}/rotate-secret": {"id": world["endpoint"].pk},
        "/api/v1/webhooks/endpoints/{id}/deliveries": {"id": world["endpoint"].pk},
        "/api/v1/orders/{reference}/documents/{id}/file": {"reference": world["order"].reference,
                                                          "id": world["document"].pk},
        "/api/v1/orders/{reference}/documents/{id}/sign": {"reference": world["order"].reference,
                                                          "id": world["document"].pk},
    }
    if path in values:
        return values[path]
    if path == "/api/v1/financing/applications/{reference}/offers/{id}/accept":
        return {"reference": world["application"].reference, "id": world["offer"].pk}
    if path.startswith("/api/v1/financing/applications/{reference}"):
        return {"reference": world["application"].reference}
    if path == "/api/v1/financing/appraisals/{reference}/dispute/evidence/{id}":
        return {"reference": world["appraisal"].reference, "id": world["evidence"].pk}
    if path.startswith("/api/v1/financing/appraisals/{reference}"):
        return {"reference": world["appraisal"].reference}
    if path == "/api/v1/listings/{id}/valuation":
        return {"id": world["listing"].pk}
    if path.startswith("/api/v1/listings/{id}/"):  # questions and the data room of A's draft listing
        return {"id": world["listing"].pk}
    if path == "/api/v1/questions/{id}/answer":
        return {"id": world["question"].pk}
    if path == "/api/v1/dataroom/documents/{id}/file":
        return {"id": world["dataroom_document"].pk}
    if path.startswith("/api/v1/conversations/{id}"):
        return {"id": world["conversation"].pk}
    if path == "/api/v1/messages/{id}/attachment":
        return {"id": world["message"].pk}
    if path.startswith("/api/v1/mandates/{id}"):
        return {"id": world["mandate"].pk}
    if path.startswith("/api/v1/offers/{id}"):
        return {"id": world["deal_offer"].pk}
    if path.startswith("/api/v1/orders/{reference}"):
        return {"reference": world["order"].reference}
    raise AssertionError(f"add {path} to ids_of() in the tenant-isolation test")


def call(client, method, url, headers, host="testserver"):
    kwargs = {"headers": headers, "HTTP_HOST": host}
    if method == "GET":
        return client.get(url, **kwargs)
    return client.generic(method, url, "{}", content_type="application/json", **kwargs)


def test_the_key_only_ever_sees_its_own_organization(client, a_world):
    _key, secret_b = make_api_key(organization=OrganizationFactory(legal_name="Org B"))
    body = client.get("/api/v1/organization", headers=api_headers(secret_b)).json()
    assert body["legal_name"] == "Org B"


def test_every_operation_with_an_id_is_covered():
    assert len(WITH_IDS) >= 15
    assert all("{" in p for p, _ in WITH_IDS)


def test_the_owner_reaches_every_object(client, a_world):
    for path, method in WITH_IDS:
        if method != "GET":
            continue
        url = path.format(**ids_of(a_world, path))
        response = client.get(url, headers=api_headers(a_world["secret"]))
        assert response.status_code == 200, (url, response.status_code)


@pytest.mark.parametrize(("path", "method"), WITH_IDS)
def test_another_organization_gets_404(client, a_world, path, method):
    _key, secret_b = make_api_key(organization=OrganizationFactory(legal_name="Org B"))
    url = path.format(**ids_of(a_world, path))
    response = call(client, method, url, api_headers(secret_b))
    assert response.status_code == 404, (method, url, response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(("path", "method"), WITH_IDS)
def test_another_exchange_gets_404(client, a_world, other_tenant, path, method):
    with tenant_context(other_tenant):
        _key, secret_c = make_api_key(organization=OrganizationFactory(legal_name="Org C"))
    url = path.format(**ids_of(a_world, path))
    # on its own exchange's host: A's ids do not exist there
    response = call(client, method, url, api_headers(secret_c), host="beta.test")
    assert response.status_code == 404, (method, url, response.status_code)
    # on A's exchange's host: the key is refused outright
    response = call(client, method, url, api_headers(secret_c))
    assert response.status_code == 401


@pytest.mark.parametrize("path", LISTS)
def test_lists_never_include_foreign_rows(client, a_world, other_tenant, path):
    Listing.objects.filter(pk=a_world["listing"].pk).update(state=Listing.State.DRAFT)
    _key, secret_b = make_api_key(organization=OrganizationFactory(legal_name="Org B"))
    with tenant_context(other_tenant):
        _key, secret_c = make_api_key(organization=OrganizationFactory(legal_name="Org C"))
    owner = client.get(path, headers=api_headers(a_world["secret"])).json()
    for secret, host in ((secret_b, "testserver"), (secret_c, "beta.test")):
        body = client.get(path, headers=api_headers(secret), HTTP_HOST=host).json()
        text = str(body["results"])
        assert a_world["order"].reference not in text
        assert a_world["endpoint"].url not in text
        assert body["results"] == [], (path, body)  # A's rows are the only rows there are
    # the owner does see its own rows (the market lists published listings only)
    # (the market lists published listings and open wants only)
    assert bool(owner["results"]) == (path not in ("/api/v1/listings", "/api/v1/wants")), (path, owner)
