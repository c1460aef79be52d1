"""Ownership moves when the office records a trade made on ipex; the former owner cannot sell the
right again; licences appear as encumbrances; copyrights go to the CPCC; rights without a filing
route wait for the seller to name one."""

import pytest

from core.errors import Conflict, ValidationFailed
from escrow.models import OrderState
from listings.models import Right
from listings.services import (
    ListingInput,
    listing_create_from_register,
    listing_mark_sold,
    listing_name_filing_route,
    listing_submit,
)
from rights.models import Holding, RegisterRecord
from rights.selectors import holdings_of
from rights.services import owner_record_transfer
from tests.factories.accounts import make_member
from tests.factories.listings import draft_listing, register_record, seller_with_org
from tests.factories.transfers import filed_order, sign_all_papers, transfer_order
from transfers.services import transfer_poll_due

pytestmark = pytest.mark.django_db


def _approved(**kwargs):
    order, seller, buyer, officer, filing = filed_order(outcome="approve", **kwargs)
    transfer_poll_due()
    order.refresh_from_db()
    filing.refresh_from_db()
    assert order.state == OrderState.TRANSFER_APPROVED, order.state
    return order, seller, buyer, filing


def test_recorded_transfer_moves_the_owner_and_refuses_the_resale(tenant):
    order, seller, buyer, filing = _approved()
    record = order.listing.rights.get().register_record
    record.refresh_from_db()
    # The register names the buyer; the right is in the buyer's holdings and left the seller's.
    assert record.owner_name == order.buyer_org.legal_name
    assert [h.record_id for h in holdings_of(order.buyer_org)] == [record.pk]
    assert list(holdings_of(order.seller_org)) == []
    ended = Holding.objects.get(organization=order.seller_org, record=record)
    assert ended.transferred_to == order.buyer_org
    assert filing.reference in ended.ended_reference
    # The old owner tries to list the same right again: refused, naming the recorded transfer.
    with pytest.raises(Conflict) as exc:
        listing_create_from_register(actor=seller, organization=order.seller_org, records=[record],
                                     data=ListingInput(title="again", price_minor=100))
    assert "transferred to" in exc.value.message
    assert filing.reference in exc.value.message
    assert order.buyer_org.legal_name in exc.value.message
    # Once the listing is sold (the order completes), the new owner can list it.
    listing_mark_sold(listing=order.listing)
    buyer_seller = make_member(roles=("seller",), org=order.buyer_org)
    listing = listing_create_from_register(actor=buyer_seller, organization=order.buyer_org, records=[record],
                                           data=ListingInput(title="resale by the new owner", price_minor=100))
    assert listing.rights.get().owner_name == order.buyer_org.legal_name


def test_recording_twice_changes_nothing(tenant):
    order, _seller, _buyer, filing = _approved()
    record = order.listing.rights.get().register_record
    reference = Holding.objects.get(organization=order.buyer_org).acquired_reference
    again = owner_record_transfer(record=record, from_org=order.seller_org, to_org=order.buyer_org,
                                  reference=reference)
    assert Holding.objects.filter(record=record).count() == 2
    assert again.organization == order.buyer_org
    transfer_poll_due()
    assert Holding.objects.filter(record=record).count() == 2


def test_recorded_licence_appears_as_encumbrance_and_owner_stays(tenant):
    order, _seller, _buyer, filing = _approved(deal_type="exclusive_licence")
    record = RegisterRecord.objects.get(pk=order.listing.rights.get().register_record_id)
    assert record.owner_name == order.seller_org.legal_name
    [enc] = record.encumbrances
    assert enc["type"] == "exclusive_licence"
    assert enc["holder"] == order.buyer_org.legal_name
    assert filing.reference in enc["reference"]
    assert enc["source"] == "ipex"  # recorded through ipex (rights.encumbrances)


def test_software_copyright_is_filed_with_the_cpcc_and_recorded(tenant):
    order, seller, buyer, filing = _approved(kind="software_copyright")
    assert filing.office == "cpcc"
    cover = order.transfer_documents.get(kind="cover", superseded=False)
    assert cover.data["form"] == "计算机软件著作权转让合同登记申请表"
    assert cover.data["after_change"] == order.buyer_org.legal_name
    record = order.listing.rights.get().register_record
    record.refresh_from_db()
    assert record.owner_name == order.buyer_org.legal_name


def test_granted_ep_patent_waits_for_the_seller_to_name_the_route(tenant):
    seller, org = seller_with_org()
    record = register_record(owner_name=org.legal_name, jurisdiction="EP", number="EP 06 009 468.7",
                             title="Battery management system")
    listing = draft_listing(seller=seller, org=org, records=[record])
    with pytest.raises(ValidationFailed) as exc:
        listing_submit(listing=listing, actor=seller)
    assert "no filing route" in exc.value.message
    assert "national offices" in exc.value.message
    listing.refresh_from_db()
    assert listing.state == "draft"
    listing_name_filing_route(right=listing.rights.get(), actor=seller, route="DE, FR, GB")
    assert listing_submit(listing=listing, actor=seller).state == "submitted"


def test_validation_states_are_checked_and_written_the_same_way(tenant):
    seller, org = seller_with_org()
    record = register_record(owner_name=org.legal_name, jurisdiction="EP", number="EP 06 009 468.7")
    listing = draft_listing(seller=seller, org=org, records=[record])
    right = listing.rights.get()
    with pytest.raises(ValidationFailed) as exc:
        listing_name_filing_route(right=right, actor=seller, route="DE, UK, XX")
    assert "UK, XX" in exc.value.message
    right.refresh_from_db()
    assert right.filing_route == ""
    assert listing_name_filing_route(right=right, actor=seller, route="de fr;GB, de").filing_route == "DE, FR, GB"


def test_a_pending_ep_application_is_filed_with_the_epo_without_naming_states(tenant):
    from transfers.selectors import current_filing

    order, seller, buyer = transfer_order(jurisdiction="EP")
    Right.objects.filter(listing=order.listing).update(legal_status="pending")
    sign_all_papers(order, seller, buyer)
    assert current_filing(order).office == "epo"


def test_a_granted_ep_patent_is_filed_with_the_named_national_offices(tenant):
    from transfers.models import DocumentKind, TransferDocument
    from transfers.selectors import current_filing

    order, seller, buyer = transfer_order(jurisdiction="EP")
    Right.objects.filter(listing=order.listing).update(filing_route="DE, FR, GB")
    sign_all_papers(order, seller, buyer)
    filing = current_filing(order)
    assert filing.office == "ep_national"
    cover = TransferDocument.objects.get(order=order, filing=filing, kind=DocumentKind.COVER, superseded=False)
    assert cover.data["validation_states"] == ["DE", "FR", "GB"]
    assert [n for n in cover.data["numbers"]] == [order.listing.rights.get().number]


def test_the_seller_names_the_states_on_the_listing_page(tenant, client):
    seller, org = seller_with_org()
    record = register_record(owner_name=org.legal_name, jurisdiction="EP", number="EP 06 009 468.7")
    listing = draft_listing(seller=seller, org=org, records=[record])
    right = listing.rights.get()
    client.force_login(seller)
    page = client.get(f"/sell/listings/{listing.pk}/").content.decode()
    assert "national office of each state" in page
    assert 'value="DE"' in page
    response = client.post(f"/sell/listings/{listing.pk}/rights/{right.pk}/route/", {"states": ["FR", "DE"]},
                           follow=True)
    assert "FR, DE" in response.content.decode()
    right.refresh_from_db()
    assert right.filing_route == "FR, DE"
    response = client.post(f"/sell/listings/{listing.pk}/rights/{right.pk}/route/", {}, follow=True)
    assert "Name the offices" in response.content.decode()
    assert listing_submit(listing=listing, actor=seller).state == "submitted"
    assert "national office of each state" not in client.get(f"/sell/listings/{listing.pk}/").content.decode()
