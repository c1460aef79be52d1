"""Query budgets of the negotiation pages and API lists: the same number of queries for 1 row and for 20
(pinned exactly, so an N+1 shows up as a failing count): offers, conversations, the data room, questions
on the deal page, the brokers' pages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.mandates import mandate_accept, mandate_propose
from negotiation import conversations, dataroom
from negotiation import services as s
from tests.factories import (
    PASSWORD,
    OrganizationFactory,
    api_headers,
    broker_mandate,
    make_api_key,
    make_member,
    offer_listing,
)
from transfers import papers

pytestmark = pytest.mark.django_db
ROWS = [1, 20]
PDF = papers._render([papers._p("Claim chart")], title="Claim chart", reference="X")


@pytest.fixture(autouse=True)
def _fast_throttle(settings):
    settings.API_THROTTLE_RATE = "100000/min"


def login(client, user):
    assert client.login(email=user.email, password=PASSWORD)


def org_of(user):
    return user.memberships.get().organization


def offers_of_one_buyer(n):
    """A buyer organization with n open offers on n listings (one of them brokered for the seller)."""
    buyer = make_member()
    for i in range(n):
        listing, seller = offer_listing()
        offer = s.offer_make(listing=listing, actor=buyer, price_minor=900_000, currency="CNY", note=f"#{i}")
        if i == 0:
            _m, broker = broker_mandate(principal_org=listing.seller_org, accepted_by=seller)
            s.offer_counter(offer=offer, actor=broker, price_minor=950_000)
    return buyer


def busy_listing(n):
    """A listing with n offers, n questions (answered publicly), n data-room documents opened by n buyers
    (each with the NDA) and n private conversations."""
    listing, seller = offer_listing()
    buyers = [make_member(full_name=f"Buyer {i}") for i in range(n)]
    for i, buyer in enumerate(buyers):
        s.offer_make(listing=listing, actor=buyer, price_minor=900_000, currency="CNY")
        question = s.question_ask(listing=listing, actor=buyer, text=f"Question {i}?")
        s.question_answer(question=question, actor=seller, answer=f"Answer {i}.", public=True)
        document = dataroom.dataroom_upload(listing=listing, actor=seller, title=f"Document {i}",
                                            file=SimpleUploadedFile(f"d{i}.pdf", PDF, "application/pdf"))
        dataroom.nda_accept(listing=listing, actor=buyer, typed_name=f"Buyer {i}", consent=True)
        dataroom.document_open(document=document, actor=buyer)
        conversation = conversations.conversation_for(listing=listing, actor=buyer)
        conversations.message_send(conversation=conversation, actor=buyer, body=f"Hello {i}")
    return listing, seller, buyers


@pytest.mark.parametrize("n", ROWS)
def test_offer_list_page(client, tenant, django_assert_num_queries, n):
    buyer = offers_of_one_buyer(n)
    login(client, buyer)
    client.get("/deals/")
    # user, unread count, the user's organizations, mandates in force, the offers with their parts, session
    with django_assert_num_queries(6):
        page = client.get("/deals/")
    assert page.content.decode().count("/deals/offers/") >= n


@pytest.mark.parametrize("n", ROWS)
def test_api_offer_list(client, tenant, django_assert_num_queries, n):
    buyer = offers_of_one_buyer(n)
    headers = api_headers(make_api_key(organization=org_of(buyer))[1])
    client.get("/api/v1/offers", headers=headers)
    with django_assert_num_queries(5):  # the key, organizations, mandates, count-free cursor page, ...
        response = client.get("/api/v1/offers", headers=headers)
    assert len(response.json()["results"]) == n


@pytest.mark.parametrize("n", ROWS)
def test_deal_page_for_the_seller(client, tenant, django_assert_num_queries, n):
    listing, seller, _buyers = busy_listing(n)
    login(client, seller)
    url = f"/deals/listings/{listing.pk}/"
    client.get(url)
    with django_assert_num_queries(DEAL_PAGE_SELLER):
        page = client.get(url)
    body = page.content.decode()
    assert body.count("Question ") >= n
    assert body.count("Document ") >= n


@pytest.mark.parametrize("n", ROWS)
def test_deal_page_for_a_buyer_with_the_nda(client, tenant, django_assert_num_queries, n):
    listing, _seller, buyers = busy_listing(n)
    login(client, buyers[0])
    url = f"/deals/listings/{listing.pk}/"
    client.get(url)
    with django_assert_num_queries(DEAL_PAGE_BUYER):
        page = client.get(url)
    body = page.content.decode()
    assert body.count("Answer ") >= n
    assert body.count("Document ") >= n


@pytest.mark.parametrize("n", ROWS)
def test_conversation_page(client, tenant, django_assert_num_queries, n):
    listing, seller = offer_listing()
    buyer = make_member()
    conversation = conversations.conversation_for(listing=listing, actor=buyer)
    for i in range(n):
        conversations.message_send(conversation=conversation, actor=buyer if i % 2 else seller, body=f"Message {i}")
    login(client, buyer)
    url = conversation.get_absolute_url()
    client.get(url)
    with django_assert_num_queries(CONVERSATION_PAGE):
        page = client.get(url)
    assert page.content.decode().count("Message ") >= n


@pytest.mark.parametrize("n", ROWS)
def test_api_questions_dataroom_and_conversations(client, tenant, django_assert_num_queries, n):
    listing, seller, buyers = busy_listing(n)
    seller_headers = api_headers(make_api_key(organization=listing.seller_org)[1])
    buyer_headers = api_headers(make_api_key(organization=org_of(buyers[0]))[1])
    for url, headers, budget, rows in (
            (f"/api/v1/listings/{listing.pk}/questions", seller_headers, API_QUESTIONS, n),
            (f"/api/v1/listings/{listing.pk}/questions", buyer_headers, API_QUESTIONS_BUYER, n),
            (f"/api/v1/listings/{listing.pk}/dataroom/log", seller_headers, API_DATAROOM_LOG, n),
            ("/api/v1/conversations", seller_headers, API_CONVERSATIONS, n)):
        client.get(url, headers=headers)
        with django_assert_num_queries(budget):
            response = client.get(url, headers=headers)
        assert len(response.json()["results"]) == rows, url
    url = f"/api/v1/listings/{listing.pk}/dataroom"
    client.get(url, headers=buyer_headers)
    with django_assert_num_queries(API_DATAROOM):
        response = client.get(url, headers=buyer_headers)
    assert len(response.json()["documents"]) == n


@pytest.mark.parametrize("n", ROWS)
def test_brokers_pages(client, tenant, django_assert_num_queries, n):
    """The mandates page and the broker's order list with n mandates / brokered orders."""
    broker_org = OrganizationFactory(legal_name="Broker Ltd.")
    broker = make_member(org=broker_org)
    for _ in range(n):
        listing, seller = offer_listing()
        mandate = mandate_propose(actor=broker, broker_org=broker_org, principal_org=listing.seller_org,
                                  listing_ids=[listing.pk], commission_bps=300)
        mandate_accept(mandate=mandate, actor=seller)
        offer = s.offer_make(listing=listing, actor=make_member(), price_minor=900_000, currency="CNY")
        s.offer_counter(offer=offer, actor=broker, price_minor=950_000)
        s.offer_accept(offer=offer, actor=offer.buyer_user)
    login(client, broker)
    client.get("/deals/mandates/")
    with django_assert_num_queries(MANDATES_PAGE):
        page = client.get("/deals/mandates/")
    assert page.content.decode().count("Broker Ltd.") >= n
    client.get("/orders/")
    with django_assert_num_queries(BROKER_ORDER_LIST):
        page = client.get("/orders/")
    assert page.content.decode().count("IPX-") >= n


# Pinned budgets (the same for 1 and 20 rows; counted on this branch, session cache): a page's own queries.
DEAL_PAGE_SELLER = 18
DEAL_PAGE_BUYER = 22
CONVERSATION_PAGE = 5
API_QUESTIONS = 6
API_QUESTIONS_BUYER = 8
API_DATAROOM_LOG = 5
API_CONVERSATIONS = 6
API_DATAROOM = 10
MANDATES_PAGE = 5  # the principal chooser searches by name: no list of the whole exchange
BROKER_ORDER_LIST = 13
