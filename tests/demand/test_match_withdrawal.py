"""Matches already sent are withdrawn when what matched leaves: the listing withdrawn, sold or lapsed, the
right closed to wants, transferred or lapsed. Both sides see it (marked on the want's page) and are told
once; nothing more is sent about it, and a listing or right that comes back is matched again."""

import pytest
from django.db import transaction

from accounts.models import Role
from core.models import AuditEvent, Notification
from demand import services as D
from demand.models import Match, WithdrawReason
from listings.models import Listing
from listings.services import listing_lapse, listing_mark_sold, listing_reserve, listing_withdraw
from rights.models import Holding, RegisterRecord
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


def _listed():
    org = OrganizationFactory()
    seller = make_member(roles=(Role.SELLER,), org=org)
    rec = register_record(owner_name=org.legal_name, title="Lithium battery electrode coating", classes=["H01M 4/13"])
    return published_listing(org=org, records=[rec], created_by=seller), seller


def _page(client, user, url):
    client.logout()
    assert client.login(email=user.email, password=PASSWORD)
    return client.get(url).content.decode()


def test_a_withdrawn_listing_withdraws_its_matches_both_sides_see_it_once(client, tenant):
    listing, seller = _listed()
    other, _other_seller = _listed()
    want, buyer = post_want(keywords="lithium electrode", classes="H01M 4/13")
    match = Match.objects.get(want=want, listing=listing)
    assert not match.is_withdrawn
    before = Notification.objects.count()
    # when the seller takes the listing off the market
    listing_withdraw(listing=listing, actor=seller, reason="changed our mind")
    match.refresh_from_db()
    assert match.is_withdrawn
    assert match.withdrawn_reason == WithdrawReason.LISTING_WITHDRAWN
    assert not Match.objects.get(want=want, listing=other).is_withdrawn  # the other listing's match stays
    assert AuditEvent.objects.filter(action="match.withdrawn", data__match=match.pk).exists()
    # both sides are told, once
    told = Notification.objects.filter(kind="demand.match_withdrawn")
    assert told.count() == Notification.objects.count() - before == 2
    assert "Lithium battery electrode coating" in told.get(user=buyer).body
    assert "took the listing off the market" in told.get(user=buyer).body
    assert told.filter(user=seller).exists()
    # the buyer's want page shows it withdrawn, no longer linked; the holder's page too
    page = _page(client, buyer, want.get_absolute_url())
    assert 'data-testid="match-withdrawn"' in page
    assert f'href="{listing.get_absolute_url()}"' not in page
    assert f'href="{other.get_absolute_url()}"' in page
    page = _page(client, seller, want.get_absolute_url())
    assert 'data-testid="my-match-withdrawn"' in page
    # matching again (the buyer's want, every open want against new listings) sends nothing more about it
    count = Notification.objects.count()
    with transaction.atomic():
        assert D.match_want(want) == []
    assert D.match_listing(listing_id=listing.pk) == []  # not published: not matched
    assert Notification.objects.count() == count
    assert Match.objects.get(pk=match.pk).is_withdrawn


def test_sold_and_lapsed_listings_withdraw_their_matches_and_a_republished_one_is_matched_again(tenant):
    sold, _s1 = _listed()
    lapsed, _s2 = _listed()
    want, _buyer = post_want(keywords="lithium electrode", classes="H01M 4/13")
    with transaction.atomic():
        locked = Listing.objects.select_for_update().get(pk=sold.pk)
        listing_reserve(listing=locked)
        listing_mark_sold(listing=locked)
    listing_lapse(listing=lapsed, reason="annual fee not paid")
    reasons = dict(Match.objects.filter(want=want).values_list("listing_id", "withdrawn_reason"))
    assert reasons == {sold.pk: WithdrawReason.LISTING_SOLD, lapsed.pk: WithdrawReason.LISTING_LAPSED}
    # a listing on the market again (here: published anew) is matched again and the buyer told
    Listing.objects.filter(pk=lapsed.pk).update(state=Listing.State.PUBLISHED)
    again = D.match_listing(listing_id=lapsed.pk)
    assert [m.pk for m in again] == [Match.objects.get(want=want, listing=lapsed).pk]
    assert not again[0].is_withdrawn
    assert again[0].withdrawn_reason == ""


def _holder_with_open_right(title="Lithium anode coating", classes=("H01M 4/13",)):
    org = OrganizationFactory()
    holder = make_member(roles=(Role.SELLER,), org=org)
    record = register_record(owner_name=org.legal_name, title=title, classes=list(classes))
    holding = holding_ensure(organization=org, record=record)
    holdings_open_to_wants_set(organization=org, actor=holder, open_=True)
    return org, holder, holding


def test_closing_a_right_to_wants_withdraws_its_matches_without_naming_it(client, tenant):
    org, holder, holding = _holder_with_open_right()
    want, buyer = post_want(title="Anode coatings", keywords="lithium", classes="H01M 4/13")
    match = Match.objects.get(want=want, source=Match.Source.PORTFOLIO)
    holdings_open_to_wants_set(organization=org, actor=holder, open_=False)
    match.refresh_from_db()
    assert match.withdrawn_reason == WithdrawReason.RIGHT_CLOSED
    note = Notification.objects.get(user=buyer, kind="demand.match_withdrawn")
    assert "Lithium anode coating" not in note.subject + note.body  # the buyer never learns which right
    assert Notification.objects.filter(user=holder, kind="demand.match_withdrawn").count() == 1
    assert 'data-testid="match-withdrawn"' in _page(client, buyer, want.get_absolute_url())
    # a new want is not matched with the closed right; re-opening it matches the first want again
    count = Notification.objects.filter(kind="demand.match").count()
    post_want(title="Anodes again", keywords="lithium", classes="H01M 4/13")
    assert Notification.objects.filter(kind="demand.match", user=holder).count() == count
    holdings_open_to_wants_set(organization=org, actor=holder, open_=True)
    created = D.match_open_rights(holding_ids=[holding.pk])
    assert match.pk in [m.pk for m in created]
    assert not Match.objects.get(pk=match.pk).is_withdrawn


def test_a_lapsed_or_transferred_right_withdraws_its_matches(tenant):
    from core.events import emit
    from rights.services import owner_record_transfer

    org, _holder, holding = _holder_with_open_right()
    org2, _holder2, holding2 = _holder_with_open_right(title="Lithium anode binder", classes=("H01M 4/62",))
    want, _buyer = post_want(title="Anode coatings", keywords="lithium", classes="H01M 4/13, H01M 4/62")
    assert Match.objects.filter(want=want, source=Match.Source.PORTFOLIO, withdrawn_at__isnull=True).count() == 2
    # the register shows the first right lapsed (monitoring announces it after its commit)
    RegisterRecord.objects.filter(pk=holding.record_id).update(legal_status="lapsed")
    emit("right.alert", organizations=[org], data={"kind": "lapse", "record": holding.record_id})
    # the second is transferred to another organization
    owner_record_transfer(record=holding2.record, from_org=org2, to_org=OrganizationFactory(), reference="T-1")
    assert Holding.objects.get(pk=holding2.pk).ended_at is not None
    reasons = dict(Match.objects.filter(want=want).values_list("record_key", "withdrawn_reason"))
    assert reasons == {f"holding:{holding.pk}": WithdrawReason.RIGHT_LAPSED,
                       f"holding:{holding2.pk}": WithdrawReason.RIGHT_TRANSFERRED}
    # a lapsed right is no longer offered to new wants
    want2, _b = post_want(title="Coatings", keywords="lithium", classes="H01M 4/13")
    assert not Match.objects.filter(want=want2, source=Match.Source.PORTFOLIO).exists()


def test_holder_opens_rights_by_class_on_the_page_and_closing_them_withdraws_their_matches(client, tenant):
    org = OrganizationFactory()
    holder = make_member(roles=(Role.SELLER,), org=org)
    anode = holding_ensure(organization=org, record=register_record(owner_name=org.legal_name, title="Anode coating",
                                                                   classes=["H01M 4/13"]))
    cell = holding_ensure(organization=org, record=register_record(owner_name=org.legal_name, title="Cell casing",
                                                                  classes=["H01M 50/10"]))
    radio = holding_ensure(organization=org, record=register_record(owner_name=org.legal_name, title="Radio link",
                                                                   classes=["H04L 9/32"]))
    mark = holding_ensure(organization=org, record=register_record(owner_name=org.legal_name, title="ACME",
                                                                  kind="trademark", classes=["9"]))
    assert client.login(email=holder.email, password=PASSWORD)
    # a nonsense class is refused with the reason, nothing opened
    page = client.post("/wants/open-rights/", {"class": "H1M", "open": "1"}, follow=True).content.decode()
    assert "“H1M” is not an IPC/CPC symbol" in page
    assert not Holding.objects.filter(open_to_wants=True).exists()
    # subclass H01M takes in both H01M rights; Nice 9 the trademark; the H04L right stays closed
    page = client.post("/wants/open-rights/", {"class": "H01M, 9", "open": "1"}, follow=True).content.decode()
    assert "3 rights changed." in page
    assert set(Holding.objects.filter(open_to_wants=True).values_list("pk", flat=True)) == {anode.pk, cell.pk, mark.pk}
    # a group opens (closes) only what is under it
    want, buyer = post_want(title="Anode coatings", keywords="anode", classes="H01M 4/13")
    match = Match.objects.get(want=want, source=Match.Source.PORTFOLIO, record_key=f"holding:{anode.pk}")
    client.post("/wants/open-rights/", {"class": "H01M 4/13", "open": "0"})
    assert set(Holding.objects.filter(open_to_wants=True).values_list("pk", flat=True)) == {cell.pk, mark.pk}
    assert Match.objects.get(pk=match.pk).withdrawn_reason == WithdrawReason.RIGHT_CLOSED
    assert not Holding.objects.get(pk=radio.pk).open_to_wants
    # another organization's member changes nothing of ours
    stranger = make_member(roles=(Role.SELLER,))
    client.logout()
    assert client.login(email=stranger.email, password=PASSWORD)
    client.post("/wants/open-rights/", {"class": "H04L", "open": "1"})
    assert not Holding.objects.get(pk=radio.pk).open_to_wants
