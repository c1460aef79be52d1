"""Brokers: a mandate the principal accepts; the broker negotiates within it; its commission is split
out of the seller's payout in the ledger at release."""

import pytest

from accounts.mandates import mandate_accept, mandate_revoke
from accounts.models import Mandate
from core.errors import NotAllowed, ValidationFailed
from escrow import ledger
from escrow.models import AccountKind, Disbursement, JournalEntry, Order
from negotiation import selectors as s_selectors
from negotiation import services as s
from tests.factories import broker_mandate, licence_listing, make_member, offer_listing
from tests.negotiation.test_licences import drive_to_completion

pytestmark = pytest.mark.django_db


def test_a_broker_cannot_act_before_the_principal_accepts_nor_outside_the_mandate(tenant):
    listing, seller = offer_listing()
    other_listing, _ = offer_listing()
    mandate, broker = broker_mandate(principal_org=listing.seller_org, listing_ids=[listing.pk])
    offer = s.offer_make(listing=listing, actor=make_member(), price_minor=900_000, currency="CNY")
    with pytest.raises(NotAllowed):
        s.offer_counter(offer=offer, actor=broker, price_minor=950_000)
    with pytest.raises(NotAllowed):
        mandate_accept(mandate=mandate, actor=broker)  # only the principal accepts
    mandate_accept(mandate=mandate, actor=seller)
    assert s.offer_counter(offer=offer, actor=broker, price_minor=950_000).seller_mandate == mandate
    other = s.offer_make(listing=other_listing, actor=make_member(), price_minor=900_000, currency="CNY")
    with pytest.raises(NotAllowed):
        s.offer_accept(offer=other, actor=broker)  # not in the mandate's scope
    mandate_revoke(mandate=mandate, actor=seller)
    offer.refresh_from_db()
    with pytest.raises(NotAllowed):
        s.offer_reject(offer=offer, actor=broker)


def test_mandate_bad_input(tenant):
    listing, seller = offer_listing()
    with pytest.raises(ValidationFailed, match="mandate"):
        broker_mandate(principal_org=listing.seller_org, listing_ids=[listing.pk], commission_bps=9000)
    assert not Mandate.objects.exists()


def test_a_broker_deal_pays_the_broker_its_commission_out_of_the_sellers_share(tenant):
    # given a licence listing whose seller gave a broker a 5 % mandate
    listing, seller = licence_listing(exclusive=False, price_minor=1_000_000)
    mandate, broker = broker_mandate(principal_org=listing.seller_org, listing_ids=[listing.pk], commission_bps=500,
                                     accepted_by=seller)
    buyer = make_member()
    # when the broker counters for the seller and the buyer accepts
    offer = s.offer_make(listing=listing, actor=buyer, price_minor=800_000, currency="CNY",
                         terms={"territory": "CN", "royalty_bps": 200, "royalty_period": "year"})
    offer = s.offer_counter(offer=offer, actor=broker, price_minor=1_000_000, note="Our client's best price")
    offer = s.offer_accept(offer=offer, actor=buyer)
    order = offer.order
    # then the order carries the broker and 5 % of the price
    assert order.broker_org == mandate.broker_org
    assert order.broker_commission_minor == 50_000
    assert order.payout_minor == 1_000_000 - order.seller_commission_minor - 50_000
    # and at release the broker's share is split out in the ledger and paid out to the broker
    done = drive_to_completion(order, seller, buyer)
    assert ledger.escrow_balance(done) == 0
    release = JournalEntry.objects.get(order=order, kind="order_released")
    lines = {(line.account.kind, line.account.organization_id): line.amount_minor for line in release.lines.all()}
    assert lines[(AccountKind.SELLER_PAYABLE, mandate.broker_org_id)] == -50_000
    assert lines[(AccountKind.SELLER_PAYABLE, listing.seller_org_id)] == -done.payout_minor
    assert sum(lines.values()) == 0
    payouts = {d.recipient_org_id: d.amount_minor for d in Disbursement.objects.filter(
        order=order, kind=Disbursement.Kind.PAYOUT)}
    assert payouts == {listing.seller_org_id: done.payout_minor, mandate.broker_org_id: 50_000}
    assert not ledger.entries_unbalanced()


def test_a_buyers_broker_offers_for_its_client_and_is_paid_its_commission_on_top(tenant):
    # given a listing and a buyer organization that mandates a broker (3 %, all listings)
    listing, seller = offer_listing(price_minor=1_000_000)
    client_member = make_member()
    client_org = client_member.memberships.get().organization
    mandate, broker = broker_mandate(principal_org=client_org, commission_bps=300, side="buyer")
    # before the principal accepts, the broker cannot offer for it; a stranger never can
    with pytest.raises(NotAllowed, match="no mandate"):
        s.offer_make(listing=listing, actor=broker, price_minor=900_000, currency="CNY", for_org=client_org)
    with pytest.raises(NotAllowed):
        mandate_accept(mandate=mandate, actor=broker)
    mandate_accept(mandate=mandate, actor=client_member)
    with pytest.raises(NotAllowed, match="no mandate"):
        s.offer_make(listing=listing, actor=make_member(), price_minor=900_000, currency="CNY", for_org=client_org)
    # when the broker offers for its client, the seller counters and the broker accepts
    offer = s.offer_make(listing=listing, actor=broker, price_minor=900_000, currency="CNY", for_org=client_org)
    assert (offer.buyer_org, offer.buyer_user, offer.buyer_mandate) == (client_org, client_member, mandate)
    assert offer.rounds.get().acting_org == mandate.broker_org
    assert offer in s_selectors.offers_for_user(broker)
    offer = s.offer_counter(offer=offer, actor=seller, price_minor=950_000)
    offer = s.offer_accept(offer=offer, actor=broker)
    order = offer.order
    # then the order is the client's, and the client pays the broker's 3 % on top of price and fee
    assert (order.buyer_org, order.buyer, order.buyer_broker_org) == (client_org, client_member, mandate.broker_org)
    assert order.buyer_broker_commission_minor == 28_500
    assert order.total_minor == 950_000 + order.buyer_fee_minor + 28_500
    assert order.payout_minor == 950_000 - order.seller_commission_minor  # the seller's share is untouched
    # and at release the broker's commission is split out in the ledger and paid to the broker
    done = drive_to_completion(order, seller, client_member)
    assert ledger.escrow_balance(done) == 0
    release = JournalEntry.objects.get(order=order, kind="order_released")
    lines = {(line.account.kind, line.account.organization_id): line.amount_minor for line in release.lines.all()}
    assert lines[(AccountKind.SELLER_PAYABLE, mandate.broker_org_id)] == -28_500
    assert lines[(AccountKind.SELLER_PAYABLE, listing.seller_org_id)] == -done.payout_minor
    payouts = {d.recipient_org_id: d.amount_minor for d in Disbursement.objects.filter(
        order=order, kind=Disbursement.Kind.PAYOUT)}
    assert payouts == {listing.seller_org_id: done.payout_minor, mandate.broker_org_id: 28_500}
    assert not ledger.entries_unbalanced()


def test_a_buyers_broker_whose_mandate_was_revoked_cannot_close_the_deal(tenant):
    listing, seller = offer_listing(price_minor=1_000_000)
    client_member = make_member()
    client_org = client_member.memberships.get().organization
    mandate, broker = broker_mandate(principal_org=client_org, commission_bps=300, side="buyer",
                                     accepted_by=client_member)
    offer = s.offer_make(listing=listing, actor=broker, price_minor=900_000, currency="CNY", for_org=client_org)
    offer = s.offer_counter(offer=offer, actor=seller, price_minor=950_000)
    mandate_revoke(mandate=mandate, actor=client_member)
    with pytest.raises(NotAllowed):
        s.offer_accept(offer=offer, actor=broker)
    # nor can the client accept what the broker negotiated under a mandate no longer in force
    from core.errors import Conflict

    with pytest.raises(Conflict, match="no longer in force"):
        s.offer_accept(offer=offer, actor=client_member)
    assert not Order.objects.exists()
