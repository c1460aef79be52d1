"""Brokers on the order: a broker signs the papers for its principal where the mandate allows it (the
signature says who signed for whom under which mandate), and reads the orders it brokered — status,
papers, its commission — without the parties' bank details."""

import pytest

from core.errors import NotAllowed, ValidationFailed
from escrow.models import Disbursement, OrderState
from negotiation import services as s
from tests.factories import broker_mandate, licence_listing, make_member, transfer_order
from tests.negotiation.test_licences import drive_to_completion
from transfers.models import TransferDocument
from transfers.services import document_sign, transfer_prepare

pytestmark = pytest.mark.django_db


def papers_of(order):
    transfer_prepare(order=order)
    return list(TransferDocument.objects.filter(order=order, superseded=False).exclude(kind="notice"))


def signable(order):
    return next(d for d in papers_of(order) if d.needs_signatures)


def test_a_broker_signs_for_its_principal_only_where_the_mandate_allows_it(tenant):
    order, seller, _buyer = transfer_order(state=OrderState.FUNDED)
    document = signable(order)
    # a broker whose mandate does not allow signing, and a stranger: refused, nothing signed
    no_sign, broker_a = broker_mandate(principal_org=order.seller_org, listing_ids=[order.listing_id],
                                       accepted_by=seller, broker_name="Wang Fang")
    with pytest.raises(NotAllowed, match="mandate allows signing"):
        document_sign(document=document, user=broker_a, typed_name="Wang Fang", consent=True)
    with pytest.raises(NotAllowed):
        document_sign(document=document, user=make_member(full_name="Zhao Lei"), typed_name="Zhao Lei", consent=True)
    # a mandate that allows signing, but proposed and not yet accepted by the seller: refused
    mandate, broker = broker_mandate(principal_org=order.seller_org, listing_ids=[order.listing_id], may_sign=True,
                                     broker_name="Sun Li")
    with pytest.raises(NotAllowed):
        document_sign(document=document, user=broker, typed_name="Sun Li", consent=True)
    from accounts.mandates import mandate_accept

    mandate_accept(mandate=mandate, actor=seller)
    # the typed name must be the broker's own profile name (not the seller's)
    with pytest.raises(ValidationFailed) as exc:
        document_sign(document=document, user=broker, typed_name="Chen Jing", consent=True)
    assert "typed_name" in exc.value.field_errors
    assert not document.signatures.exists()
    signature = document_sign(document=document, user=broker, typed_name="Sun Li", consent=True)
    assert (signature.party, signature.organization, signature.mandate, signature.broker_org) == (
        "seller", order.seller_org, mandate, mandate.broker_org)
    assert signature.signed_as == (f"Sun Li ({mandate.broker_org.legal_name}) for {order.seller_org.legal_name} "
                                   f"under mandate #{mandate.pk}")
    assert no_sign.may_sign is False


def test_the_paper_page_shows_who_signed_for_whom(client, tenant):
    order, seller, buyer = transfer_order(state=OrderState.FUNDED)
    document = signable(order)
    mandate, broker = broker_mandate(principal_org=order.seller_org, listing_ids=[order.listing_id], may_sign=True,
                                     accepted_by=seller, broker_name="Sun Li")
    document_sign(document=document, user=broker, typed_name="Sun Li", consent=True)
    client.force_login(buyer)
    page = client.get(f"/transfers/papers/{document.pk}/").content.decode()
    assert f"Sun Li ({mandate.broker_org.legal_name}) for {order.seller_org.legal_name} under mandate #{mandate.pk}" \
        in page


def test_a_broker_reads_the_order_it_brokered_with_its_commission_but_no_bank_details(client, tenant):
    listing, seller = licence_listing(exclusive=False, price_minor=1_000_000)
    mandate, broker = broker_mandate(principal_org=listing.seller_org, listing_ids=[listing.pk], commission_bps=500,
                                     accepted_by=seller)
    buyer = make_member()
    offer = s.offer_make(listing=listing, actor=buyer, price_minor=900_000, currency="CNY",
                         terms={"territory": "CN"})
    offer = s.offer_counter(offer=offer, actor=broker, price_minor=1_000_000)  # the broker negotiates
    order = s.offer_accept(offer=offer, actor=buyer).order
    assert order.broker_org == mandate.broker_org
    done = drive_to_completion(order, seller, buyer)
    Disbursement.objects.filter(order=done, recipient_org=listing.seller_org).update(
        destination="Bank of Qingyuan ****4321")
    from django.utils.html import escape

    from escrow.selectors import destination_text

    seller_destination = escape(destination_text(Disbursement.objects.get(order=done, recipient_org=listing.seller_org)))
    assert seller_destination
    client.force_login(broker)
    # the broker's order list names the deal; the page shows status, its commission and its payout
    assert done.reference in client.get("/orders/").content.decode()
    page = client.get(done.get_absolute_url()).content.decode()
    assert 'data-testid="broker-money"' in page
    assert "500.00" in page  # 5 % of 10,000.00
    assert done.get_state_display() in page
    # never the parties' bank details, payments or the seller's payout
    assert "****4321" not in page
    assert seller_destination not in page
    assert "Download the statement" not in page
    client.force_login(seller)
    assert seller_destination in client.get(done.get_absolute_url()).content.decode()
    # a broker of another deal does not find the order at all
    _other, stranger_broker = broker_mandate(principal_org=listing.seller_org, listing_ids=[listing.pk],
                                             accepted_by=seller)
    client.force_login(stranger_broker)
    assert client.get(done.get_absolute_url()).status_code == 404
