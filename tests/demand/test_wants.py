"""Wants: validation, matching both ways on fixed data (ranked and explained), answers, tenders."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import Role
from core.errors import InvalidTransition, NotAllowed, ValidationFailed
from core.models import Notification, OutboxMessage
from demand import services as D
from demand.matching import explain
from demand.models import Match, Tender, Want
from escrow.models import OrderState
from tests.factories import (
    OrganizationFactory,
    make_member,
    post_want,
    published_listing,
    register_record,
    want_input,
)

pytestmark = pytest.mark.django_db


def _listing(title, classes, *, kind="invention", price=5_000_000, jurisdiction="CN", abstract=""):
    org = OrganizationFactory()
    rec = register_record(owner_name=org.legal_name, title=title, kind=kind, classes=classes,
                          jurisdiction=jurisdiction, abstract=abstract,
                          **({"number": f"US{10_000_000 + len(title)}"} if jurisdiction == "US" else {}))
    return published_listing(org=org, records=[rec], title=title, price_minor=price)


@pytest.fixture
def market(tenant):
    return {
        "battery": _listing("Lithium battery electrode coating", ["H01M 4/13"], abstract="electrode for lithium cells"),
        "battery_group": _listing("Solid electrolyte for secondary cells", ["H01M 10/0562"]),
        "crypto": _listing("Data encryption method", ["H04L 9/32"]),
        "mark": _listing("ACME mark", ["09"], kind="trademark"),
        "pricey": _listing("Lithium battery separator", ["H01M 50/40"], price=90_000_000),
    }


@pytest.mark.parametrize(("classes", "message"), [
    ("X01M", "section letter A–H"),
    ("H1M", "too short"),
    ("H1MA", "two digits"),
    ("46", "Nice classes are numbered 1 to 45"),
    ("H01M 4/1a3", "digits, a slash and digits"),
])
def test_nonsense_classes_are_refused_with_the_reason(tenant, classes, message):
    buyer = make_member()
    with pytest.raises(ValidationFailed) as exc:
        D.want_create(actor=buyer, data=want_input(classes=classes))
    assert message in " ".join(exc.value.field_errors["classes"])
    assert not Want.objects.exists()


def test_want_input_errors_are_named(tenant):
    buyer = make_member()
    with pytest.raises(ValidationFailed) as exc:
        D.want_create(actor=buyer, data=want_input(budget_min_minor=500, budget_max_minor=100,
                                                   deadline=timezone.localdate() - datetime.timedelta(days=1)))
    assert set(exc.value.field_errors) == {"budget_max_minor", "deadline"}


def test_new_want_matches_listings_ranked_and_explained(market):
    # when a buyer posts a want for battery electrodes in H01M with a budget
    want, buyer = post_want(title="Battery electrodes", keywords="lithium electrode", classes="H01M 4/13",
                            budget_max_minor=10_000_000, territories=["CN"])
    matches = list(Match.objects.filter(want=want).order_by("-score"))
    titles = [m.title for m in matches]
    # then the same-symbol listing ranks first, explained; same-subclass ones follow; others are absent
    assert titles[0] == "Lithium battery electrode coating"
    assert set(titles) == {"Lithium battery electrode coating", "Solid electrolyte for secondary cells",
                           "Lithium battery separator"}
    first = explain(matches[0].reasons)
    assert "same IPC symbol H01M 4/13" in first
    assert "2 keywords (lithium, electrode)" in first
    assert "in CN" in first
    assert "within budget" in first
    pricey = next(m for m in matches if m.title == "Lithium battery separator")
    assert "over budget" in explain(pricey.reasons)
    assert "same IPC subclass H01M" in explain(next(m for m in matches if m.title.startswith("Solid")).reasons)
    # and both sides are told: the buyer about the matches, each holder about the want
    assert Notification.objects.filter(user=buyer, kind="demand.matches").count() == 1
    holder_note = Notification.objects.get(user__memberships__organization=market["battery"].seller_org,
                                           kind="demand.match")
    assert "same IPC symbol H01M 4/13" in holder_note.body


def test_trademark_want_matches_by_nice_class_only_trademarks(market):
    want, _buyer = post_want(title="A mark for electronics", keywords="", classes="9", kinds=["trademark"])
    assert [m.title for m in want.matches.all()] == ["ACME mark"]
    assert "same Nice class 09" in explain(want.matches.get().reasons)


def test_anonymous_want_hides_the_buyer_from_holders(market):
    want, _buyer = post_want(classes="H04L 9/32", keywords="encryption", anonymous=True)
    note = Notification.objects.get(user__memberships__organization=market["crypto"].seller_org, kind="demand.match")
    assert want.buyer_org.legal_name not in note.body
    assert "Anonymous buyer" in note.body


def test_new_listing_matches_open_wants(tenant):
    # given two open wants, one expired and one closed
    battery, buyer = post_want(title="Battery electrodes", keywords="electrode", classes="H01M")
    crypto, _b = post_want(title="Encryption", keywords="encryption", classes="H04L 9/32")
    old, _b = post_want(title="Old battery want", keywords="electrode", classes="H01M")
    Want.objects.filter(pk=old.pk).update(deadline=timezone.localdate() - datetime.timedelta(days=1))
    # when a battery listing is published (the verifier approves it)
    from listings.selectors import verification_checklist
    from listings.services import listing_decide, listing_submit
    from tests.factories import draft_listing, seller_with_org, verifier

    seller, org = seller_with_org()
    rec = register_record(owner_name=org.legal_name, title="Electrode coating for lithium cells", classes=["H01M 4/13"])
    listing = draft_listing(seller=seller, org=org, records=[rec], title="Electrode coating for lithium cells")
    listing_submit(listing=listing, actor=seller)
    checks = {c["code"]: True for c in verification_checklist(listing)}
    listing_decide(listing=listing, actor=verifier(), approve=True, confirmed=checks)
    # then listings' announcement queued the matching task, and the task matches it with the open battery want
    message = OutboxMessage.objects.get(task_name="demand.tasks.match_listing")
    assert message.kwargs == {"tenant_id": tenant.pk, "listing_id": listing.pk}
    created = D.match_listing(listing_id=listing.pk)
    assert [m.want_id for m in created] == [battery.pk]
    assert "same IPC subclass H01M" in explain(created[0].reasons)
    assert "1 keyword (electrode)" in explain(created[0].reasons)
    assert Notification.objects.filter(user=buyer, kind="demand.match").exists()
    # running it again stores nothing twice
    assert D.match_listing(listing_id=listing.pk) == []


def test_holder_answers_and_buyer_runs_a_tender_to_an_escrowed_order(market):
    want, buyer = post_want(title="Battery electrodes", keywords="lithium electrode", classes="H01M")
    a_listing, b_listing = market["battery"], market["battery_group"]
    a_seller = make_member(roles=(Role.SELLER,), org=a_listing.seller_org)
    b_seller = make_member(roles=(Role.SELLER,), org=b_listing.seller_org)
    # the holders answer
    a = D.answer_create(want=want, actor=a_seller, listing=a_listing, price_minor=4_000_000)
    b = D.answer_create(want=want, actor=b_seller, listing=b_listing, price_minor=4_500_000)
    with pytest.raises(NotAllowed):
        D.answer_create(want=want, actor=a_seller, listing=b_listing, price_minor=1)
    # the buyer opens a tender; the holders send sealed offers
    deadline = timezone.now() + datetime.timedelta(hours=1)
    tender = D.tender_open(want=want, actor=buyer, deadline=deadline)
    D.tender_offer_submit(tender=tender, actor=a_seller, answer=a, price_minor=3_800_000)
    D.tender_offer_submit(tender=tender, actor=b_seller, answer=b, price_minor=3_600_000)
    offer_b = D.tender_offer_submit(tender=tender, actor=b_seller, answer=b, price_minor=3_500_000)  # improved
    # before the deadline the buyer cannot pick
    with pytest.raises(InvalidTransition, match="sealed until the deadline"):
        D.tender_award(tender=tender, actor=buyer, offer=offer_b)
    # after it, no more offers
    Tender.objects.filter(pk=tender.pk).update(deadline=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(InvalidTransition, match="offers are no longer accepted"):
        D.tender_offer_submit(tender=tender, actor=a_seller, answer=a, price_minor=1_000_000)
    # the buyer picks b's offer: an escrowed order at the tendered price
    order = D.tender_award(tender=tender, actor=buyer, offer=offer_b)
    assert order.price_minor == 3_500_000
    assert order.listing_id == b_listing.pk
    assert order.state == OrderState.PLACED
    tender.refresh_from_db()
    assert tender.state == Tender.State.AWARDED
    assert tender.order_id == order.pk
    with pytest.raises(InvalidTransition, match="already decided"):
        D.tender_award(tender=tender, actor=buyer, offer=offer_b)
    assert Notification.objects.filter(kind="demand.tender_lost",
                                       user__memberships__organization=a_listing.seller_org).exists()


def test_tender_award_undone_when_the_listing_was_sold_meanwhile(market):
    from escrow.services import order_place

    want, buyer = post_want(classes="H04L 9/32", keywords="encryption")
    listing = market["crypto"]
    seller = make_member(roles=(Role.SELLER,), org=listing.seller_org)
    answer = D.answer_create(want=want, actor=seller, listing=listing, price_minor=1_000_000)
    tender = D.tender_open(want=want, actor=buyer, deadline=timezone.now() + datetime.timedelta(hours=1))
    offer = D.tender_offer_submit(tender=tender, actor=seller, answer=answer, price_minor=900_000)
    Tender.objects.filter(pk=tender.pk).update(deadline=timezone.now() - datetime.timedelta(seconds=1))
    order_place(listing=listing, buyer=make_member(), terms_accepted=True)
    with pytest.raises(Exception, match="moment ago"):
        D.tender_award(tender=tender, actor=buyer, offer=offer)
    tender.refresh_from_db()
    assert tender.state == Tender.State.OPEN
    assert tender.awarded_offer_id is None
