"""Wants matched against rights held but not for sale, where the holder opened them to wants: the holder
is told, the buyer does not learn who holds the right until the holder answers; a holder's answer with a
listing becomes a negotiation offer the buyer can accept (→ escrowed order)."""

import pytest

from accounts.models import Role
from core.errors import NotAllowed
from core.models import AuditEvent, Notification
from demand import services as D
from demand.models import Match
from escrow.models import OrderState
from negotiation import services as N
from negotiation.models import Offer, Side
from rights.models import Holding
from rights.services import holding_ensure
from rights.wants import holdings_open_to_wants_set
from tests.factories import (
    PASSWORD,
    OrganizationFactory,
    make_member,
    post_want,
    published_listing,
    register_record,
)

pytestmark = pytest.mark.django_db


def _holder(title, classes, *, kind="invention", abstract=""):
    org = OrganizationFactory()
    holder = make_member(roles=(Role.SELLER,), org=org)
    record = register_record(owner_name=org.legal_name, title=title, kind=kind, classes=classes, abstract=abstract)
    holding = holding_ensure(organization=org, record=record)
    return org, holder, holding


def test_only_opted_in_unlisted_rights_are_matched_and_the_holder_is_told(tenant):
    open_org, open_holder, open_h = _holder("Lithium anode coating", ["H01M 4/13"])
    closed_org, _closed_holder, _closed_h = _holder("Lithium anode binder", ["H01M 4/62"])
    other_org, other_holder, other_h = _holder("Garden hose reel", ["B65H 75/40"])
    assert holdings_open_to_wants_set(organization=open_org, actor=open_holder, open_=True) == [open_h.pk]
    holdings_open_to_wants_set(organization=other_org, actor=other_holder, open_=True)
    # someone else cannot open another organization's rights
    with pytest.raises(NotAllowed):
        holdings_open_to_wants_set(organization=closed_org, actor=open_holder, open_=True)
    assert AuditEvent.objects.filter(action="holding.open_to_wants").count() == 2
    # when a buyer posts a want for H01M 4/13 lithium electrodes
    want, buyer = post_want(title="Anode coatings", keywords="lithium", classes="H01M 4/13")
    # then the opted-in right is a "portfolio" match, explained; the closed and unrelated ones are not
    matches = list(Match.objects.filter(want=want, source=Match.Source.PORTFOLIO))
    assert [m.record_key for m in matches] == [f"holding:{open_h.pk}"]
    assert matches[0].holder_org_id == open_org.pk
    assert {r["code"] for r in matches[0].reasons} >= {"ipc_symbol", "keywords"}
    # the holder is told why, and that the buyer does not see them
    note = Notification.objects.get(user=open_holder, kind="demand.match")
    assert "Lithium anode coating" in note.subject
    assert "does not know who holds it" in note.body
    # the buyer's notification does not name the right
    told = Notification.objects.get(user=buyer, kind="demand.matches")
    assert "Lithium anode coating" not in told.subject + told.body


def test_a_listed_right_is_matched_as_its_listing_not_as_a_portfolio_right(tenant):
    org, holder, holding = _holder("Lithium anode coating", ["H01M 4/13"])
    holdings_open_to_wants_set(organization=org, actor=holder, open_=True)
    listing = published_listing(org=org, records=[holding.record], title="Lithium anode coating")
    want, _buyer = post_want(title="Anodes", keywords="lithium", classes="H01M 4/13")
    sources = sorted(Match.objects.filter(want=want).values_list("source", "listing_id"))
    assert sources == [("listing", listing.pk)]


def test_buyer_sees_an_unnamed_right_until_the_holder_answers(client, tenant):
    org, holder, holding = _holder("Lithium anode coating", ["H01M 4/13"])
    holdings_open_to_wants_set(organization=org, actor=holder, open_=True)
    want, buyer = post_want(title="Anodes", keywords="lithium", classes="H01M 4/13")
    assert client.login(email=buyer.email, password=PASSWORD)
    page = client.get(want.get_absolute_url()).content.decode()
    assert "A right held but not for sale" in page
    assert "Lithium anode coating" not in page
    assert org.legal_name not in page
    assert holding.record.number not in page
    # the holder sees the match, the right's number and a link that lists it
    client.logout()
    assert client.login(email=holder.email, password=PASSWORD)
    page = client.get(want.get_absolute_url()).content.decode()
    assert "Lithium anode coating" in page
    assert f"/sell/?number={holding.record.number}" in page
    # the holder lists it and answers: now the buyer sees who and what, with the negotiation offer
    listing = published_listing(org=org, records=[holding.record], title="Lithium anode coating")
    answer = D.answer_create(want=want, actor=holder, listing=listing, price_minor=3_000_000)
    client.logout()
    assert client.login(email=buyer.email, password=PASSWORD)
    page = client.get(want.get_absolute_url()).content.decode()
    assert org.legal_name in page
    assert f"/deals/offers/{answer.offer_id}/" in page


def test_the_holders_answer_is_a_negotiation_offer_the_buyer_accepts_into_an_escrowed_order(tenant):
    listing = published_listing(title="Lithium anode coating",
                                records=[register_record(title="Lithium anode coating", classes=["H01M 4/13"])])
    holder = make_member(roles=(Role.SELLER,), org=listing.seller_org)
    want, buyer = post_want(title="Anodes", keywords="lithium", classes="H01M 4/13")
    answer = D.answer_create(want=want, actor=holder, listing=listing, price_minor=4_000_000, note="Ready to sign")
    offer = Offer.objects.get(pk=answer.offer_id)
    assert offer.state == Offer.State.OPEN
    assert offer.waiting_for == Side.BUYER
    assert (offer.buyer_org_id, offer.buyer_user_id, offer.price_minor) == (want.buyer_org_id, buyer.pk, 4_000_000)
    assert Notification.objects.filter(user=buyer, kind="offer.made").exists()
    # the buyer accepts: an escrowed order at the offered price
    offer = N.offer_accept(offer=offer, actor=buyer)
    assert offer.order.price_minor == 4_000_000
    assert offer.order.state == OrderState.PLACED
    assert offer.order.buyer_org_id == want.buyer_org_id


def test_holder_opens_and_closes_rights_on_the_page(client, tenant):
    org, holder, holding = _holder("Lithium anode coating", ["H01M 4/13"])
    _org2, _h2, _holding2 = _holder("Other", ["H04L 9/32"])
    assert client.login(email=holder.email, password=PASSWORD)
    page = client.get("/wants/open-rights/").content.decode()
    assert holding.record.number in page
    response = client.post("/wants/open-rights/", {"holding": [holding.pk], "open": "1"}, follow=True)
    assert "1 right changed." in response.content.decode()
    assert Holding.objects.get(pk=holding.pk).open_to_wants
    client.post("/wants/open-rights/", {"all": "1", "open": "0"})
    assert not Holding.objects.get(pk=holding.pk).open_to_wants
    # another organization's holding id in the form changes nothing
    client.post("/wants/open-rights/", {"holding": [_holding2.pk], "open": "1"})
    assert not Holding.objects.get(pk=_holding2.pk).open_to_wants


def test_a_right_opened_after_the_want_is_matched_at_once_on_the_page(client, tenant):
    # given an open want, then a holder who opens a matching right on the page
    want, buyer = post_want(title="Anodes", keywords="lithium", classes="H01M 4/13")
    org, holder, holding = _holder("Lithium anode coating", ["H01M 4/13"])
    assert client.login(email=holder.email, password=PASSWORD)
    response = client.post("/wants/open-rights/", {"holding": [holding.pk], "open": "1"}, follow=True)
    assert "It matches 1 open want" in response.content.decode()
    # then the match is stored, the holder told, the buyer told without the right's name
    match = Match.objects.get(want=want, source=Match.Source.PORTFOLIO)
    assert match.record_key == f"holding:{holding.pk}"
    assert Notification.objects.filter(user=holder, kind="demand.match").exists()
    note = Notification.objects.get(user=buyer, kind="demand.match")
    assert "Lithium anode coating" not in note.subject + note.body
    assert org.legal_name not in note.subject + note.body
    # opening it again (close, open) stores nothing twice
    client.post("/wants/open-rights/", {"holding": [holding.pk], "open": "0"})
    client.post("/wants/open-rights/", {"holding": [holding.pk], "open": "1"})
    assert Match.objects.filter(want=want).count() == 1
