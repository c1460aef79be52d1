"""A holder's answer to an anonymous want reaches the buyer as a negotiation offer; the seller's side sees
"Anonymous buyer" (pages, lists, API, rounds, notifications) until the buyer says who it is or the deal is
agreed (the escrowed order names both parties)."""

import pytest

from accounts.models import Role
from core.errors import InvalidTransition, NotAllowed
from core.models import AuditEvent, Notification
from demand import services as D
from negotiation import services as N
from negotiation.models import Offer, Side
from tests.factories import (
    PASSWORD,
    api_headers,
    make_api_key,
    make_member,
    post_want,
    published_listing,
    register_record,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def anonymous_offer(tenant):
    listing = published_listing(title="Lithium anode coating",
                                records=[register_record(title="Lithium anode coating", classes=["H01M 4/13"])])
    holder = make_member(roles=(Role.SELLER,), org=listing.seller_org)
    want, buyer = post_want(title="Anodes", keywords="lithium", classes="H01M 4/13", anonymous=True)
    answer = D.answer_create(want=want, actor=holder, listing=listing, price_minor=4_000_000, note="Ready to sign")
    return want, buyer, holder, listing, Offer.objects.get(pk=answer.offer_id)


def _page(client, user, url):
    client.logout()
    assert client.login(email=user.email, password=PASSWORD)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_answer_is_an_offer_waiting_for_the_anonymous_buyer(anonymous_offer):
    want, buyer, _holder, _listing, offer = anonymous_offer
    assert offer.buyer_anonymous
    assert (offer.state, offer.waiting_for, offer.price_minor) == (Offer.State.OPEN, Side.BUYER, 4_000_000)
    assert (offer.buyer_org_id, offer.buyer_user_id) == (want.buyer_org_id, buyer.pk)
    assert Notification.objects.filter(user=buyer, kind="offer.made").exists()
    assert AuditEvent.objects.get(action="offer.propose").data["buyer_anonymous"] is True


def test_the_seller_does_not_see_the_buyer_until_it_reveals_itself(client, anonymous_offer):
    want, buyer, holder, listing, offer = anonymous_offer
    name = want.buyer_org.legal_name
    # the buyer's own pages name it and offer to reveal; the want page links the offer
    page = _page(client, buyer, want.get_absolute_url())
    assert f"/deals/offers/{offer.pk}/" in page
    page = _page(client, buyer, offer.get_absolute_url())
    assert name in page
    assert 'data-testid="reveal-buyer"' in page
    # the buyer counters, still anonymous
    N.offer_counter(offer=offer, actor=buyer, price_minor=3_500_000, note="From an anonymous buyer")
    # the seller's pages (offer, offers list, listing's deal page) and its notifications do not name the buyer
    for url in (offer.get_absolute_url(), "/deals/", f"/deals/listings/{listing.pk}/"):
        page = _page(client, holder, url)
        assert name not in page, url
    assert "Anonymous buyer" in _page(client, holder, offer.get_absolute_url())
    assert 'data-testid="reveal-buyer"' not in _page(client, holder, offer.get_absolute_url())
    for note in Notification.objects.filter(user=holder):
        assert name not in note.subject + note.body
    client.logout()
    # the seller cannot reveal the buyer
    with pytest.raises(NotAllowed):
        N.offer_reveal_buyer(offer=offer, actor=holder)
    # the buyer reveals itself: the seller is told and sees the name
    N.offer_reveal_buyer(offer=offer, actor=buyer)
    assert not Offer.objects.get(pk=offer.pk).buyer_anonymous
    told = Notification.objects.get(user=holder, kind="offer.buyer_revealed")
    assert name in told.subject
    assert name in _page(client, holder, offer.get_absolute_url())
    assert AuditEvent.objects.filter(action="offer.buyer_revealed", object_id=str(offer.pk)).exists()
    with pytest.raises(InvalidTransition):
        N.offer_reveal_buyer(offer=offer, actor=buyer)


def test_accepting_agrees_the_deal_and_names_the_buyer(anonymous_offer):
    want, buyer, _holder, _listing, offer = anonymous_offer
    offer = N.offer_accept(offer=offer, actor=buyer)
    assert offer.order.buyer_org_id == want.buyer_org_id
    assert offer.order.price_minor == 4_000_000
    assert not Offer.objects.get(pk=offer.pk).buyer_anonymous


def test_the_api_hides_the_anonymous_buyer_from_the_seller(client, anonymous_offer):
    want, buyer, _holder, listing, offer = anonymous_offer
    N.offer_counter(offer=offer, actor=buyer, price_minor=3_600_000)
    name = want.buyer_org.legal_name
    _k, seller_secret = make_api_key(organization=listing.seller_org)
    _k, buyer_secret = make_api_key(organization=want.buyer_org)
    anonymous = "匿名买方"  # the API answers in the exchange's language (zh-hans here)
    seen = client.get(f"/api/v1/offers/{offer.pk}", headers=api_headers(seller_secret)).json()
    assert seen["buyer"] == anonymous
    assert name not in str(seen)
    assert anonymous in [r["organization"] for r in seen["rounds"]]
    listed = client.get("/api/v1/offers", headers=api_headers(seller_secret)).json()
    assert name not in str(listed)
    assert [o["buyer"] for o in listed["results"]] == [anonymous]
    own = client.get(f"/api/v1/offers/{offer.pk}", headers=api_headers(buyer_secret)).json()
    assert own["buyer"] == name
    assert name in [r["organization"] for r in own["rounds"]]
