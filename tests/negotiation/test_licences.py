"""Licensing as a product: a non-exclusive licence sold to many licensees (each an order, the listing
stays on the market, optional cap); an exclusive licence blocks overlapping ones; the licence is
recorded when the office records the licence contract."""

import pytest
from django.db import transaction

from core.errors import Conflict
from core.models import AuditEvent
from escrow import ledger
from escrow import services as escrow
from escrow.models import Order, OrderState
from escrow.services.core import lock_order
from listings.models import Listing
from negotiation import services as s
from negotiation.models import Licence
from tests.factories import escrow_staff, licence_listing, make_member, pay_order

pytestmark = pytest.mark.django_db


def drive_to_completion(order, seller, buyer):
    escrow.order_seller_confirm(order=order, actor=seller)
    pay_order(order, buyer)
    for step in ("file_transfer", "approve_transfer"):
        with transaction.atomic():
            escrow.order_step(lock_order(order.pk), step, actor_label="test office")
    escrow.order_confirm_certificate(order=order, actor=buyer)
    return Order.objects.get(pk=order.pk)


def negotiated(listing, seller, *, territory="CN", field="", price=400_000, royalty_bps=300):
    buyer = make_member()
    offer = s.offer_make(listing=listing, actor=buyer, price_minor=price, currency=listing.currency,
                         terms={"territory": territory, "field": field, "royalty_bps": royalty_bps,
                                "royalty_period": "quarter", "royalty_base": "net_sales",
                                "royalty_minimum_minor": 10_000})
    return s.offer_accept(offer=offer, actor=seller), buyer


def test_a_non_exclusive_licence_is_sold_to_three_licensees_each_recorded(tenant):
    # given a non-exclusive licence listing
    listing, seller = licence_listing(exclusive=False)
    # when three buyers each agree a licence
    deals = [negotiated(listing, seller, field=f) for f in ("vehicles", "phones", "")]
    orders = [offer.order for offer, _ in deals]
    # then three live orders at once, the listing still on the market
    assert {o.state for o in orders} == {OrderState.PLACED}
    assert all(not o.holds_listing for o in orders)
    listing.refresh_from_db()
    assert listing.state == Listing.State.PUBLISHED
    assert orders[0].terms["royalty_bps"] == 300
    assert orders[0].terms["royalty_period"] == "quarter"
    # and each completes: the licence is recorded when the office records it, the listing stays published
    for (_offer, buyer), order in zip(deals, orders, strict=True):
        done = drive_to_completion(order, seller, buyer)
        assert done.state == OrderState.COMPLETED
        assert ledger.escrow_balance(done) == 0
    licences = Licence.objects.filter(listing=listing)
    assert licences.count() == 3
    assert set(licences.values_list("state", flat=True)) == {Licence.State.RECORDED}
    assert set(licences.values_list("licensee_org", flat=True)) == {o.buyer_org_id for o in orders}
    listing.refresh_from_db()
    assert listing.state == Listing.State.PUBLISHED
    # a buy-now licence at the listed price is a fourth order, not a sale of the listing
    fourth = escrow.order_place(listing=listing, buyer=make_member(), terms_accepted=True)
    assert not fourth.holds_listing
    listing.refresh_from_db()
    assert listing.state == Listing.State.PUBLISHED


def test_the_licence_cap_is_enforced_and_a_cancelled_licence_frees_its_place(tenant):
    listing, seller = licence_listing(exclusive=False, cap=2)
    buyer3 = make_member()
    offer3 = s.offer_make(listing=listing, actor=buyer3, price_minor=400_000, currency="CNY")
    (first, buyer1), _ = negotiated(listing, seller), negotiated(listing, seller)
    # at the cap the listing leaves the market as sold out, through the listing service (audited)
    listing.refresh_from_db()
    assert listing.state == Listing.State.SOLD_OUT
    assert AuditEvent.objects.filter(action="listing.sold_out", object_id=str(listing.pk)).exists()
    with pytest.raises(Conflict, match="All 2 licences"):
        s.offer_accept(offer=offer3, actor=seller)
    with pytest.raises(Conflict, match="All 2 licences"):
        escrow.order_place(listing=listing, buyer=make_member(), terms_accepted=True)
    with pytest.raises(Conflict, match="All 2 licences"):
        s.offer_make(listing=listing, actor=make_member(), price_minor=400_000, currency="CNY")
    # the first licensee cancels before paying: its place is free again, the listing offered again
    escrow.order_buyer_cancel(order=first.order, actor=buyer1)
    listing.refresh_from_db()
    assert listing.state == Listing.State.PUBLISHED
    assert s.offer_accept(offer=offer3, actor=seller).order is not None
    assert Licence.objects.get(order=first.order).state == Licence.State.ENDED
    listing.refresh_from_db()
    assert listing.state == Listing.State.SOLD_OUT


def test_a_sold_out_licence_listing_is_shown_as_sold_out_and_reopens_on_a_refund(tenant, client):
    listing, seller = licence_listing(exclusive=False, cap=1)
    (offer, buyer) = negotiated(listing, seller)
    # the listing page says sold out, offers no order button, and search no longer lists it
    page = client.get(f"/listings/{listing.pk}/").content.decode()
    assert 'data-testid="sold-out"' in page
    assert f"/orders/new/{listing.pk}/" not in page
    assert "This listing is not public" not in page
    search = client.get("/search/").content.decode()
    assert f"/listings/{listing.pk}/" not in search
    # paid, then refunded before recordal: the place is free, the listing is offered again
    escrow.order_seller_confirm(order=offer.order, actor=seller)
    pay_order(offer.order, buyer)
    escrow.order_refund(order=Order.objects.get(pk=offer.order.pk), actor=escrow_staff(),
                        reason="The licensor cannot record the licence.")
    listing.refresh_from_db()
    assert listing.state == Listing.State.PUBLISHED
    assert 'data-testid="sold-out"' not in client.get(f"/listings/{listing.pk}/").content.decode()
    assert f"/listings/{listing.pk}/" in client.get("/search/").content.decode()


def test_a_completed_licence_keeps_its_place_taken(tenant):
    listing, seller = licence_listing(exclusive=False, cap=1)
    offer, buyer = negotiated(listing, seller)
    drive_to_completion(offer.order, seller, buyer)
    listing.refresh_from_db()
    assert listing.state == Listing.State.SOLD_OUT


def test_an_exclusive_licence_blocks_overlapping_ones_only(tenant):
    listing, seller = licence_listing(exclusive=True, licence_territory="CN, US")
    negotiated(listing, seller, territory="CN", field="vehicles")
    # same territory, same field: refused; same territory, all fields: refused
    for territory, field in (("CN", "vehicles"), ("CN", ""), ("worldwide", "vehicles")):
        buyer = make_member()
        offer = s.offer_make(listing=listing, actor=buyer, price_minor=400_000, currency="CNY",
                             terms={"territory": territory, "field": field})
        with pytest.raises(Conflict, match="exclusive licence covering"):
            s.offer_accept(offer=offer, actor=seller)
    # another territory or another field: granted
    assert negotiated(listing, seller, territory="US", field="vehicles")[0].order is not None
    assert negotiated(listing, seller, territory="CN", field="phones")[0].order is not None
    # buying the whole exclusive licence outright is no longer possible
    with pytest.raises(Conflict, match="Exclusive licences of parts"):
        escrow.order_place(listing=listing, buyer=make_member(), terms_accepted=True)
    assert Order.objects.filter(listing=listing).count() == 3


def test_licence_terms_bad_input(tenant):
    from core.errors import ValidationFailed

    listing, _seller = licence_listing(exclusive=False)
    buyer = make_member()
    with pytest.raises(ValidationFailed) as err:
        s.offer_make(listing=listing, actor=buyer, price_minor=400_000, currency="CNY",
                     terms={"royalty_bps": 300, "royalty_base": "vibes", "term_months": "x", "sublicensing": True})
    assert set(err.value.field_errors) == {"royalty_base", "term_months", "sublicensing"}


def test_refund_of_a_licence_order_leaves_another_buyers_reservation_alone(tenant):
    """A licence order refunded must not release the listing (it never held it)."""
    listing, seller = licence_listing(exclusive=False)
    (offer, buyer), = [negotiated(listing, seller)]
    escrow.order_seller_confirm(order=offer.order, actor=seller)
    pay_order(offer.order, buyer)
    from tests.factories import escrow_staff

    escrow.order_refund(order=offer.order, actor=escrow_staff(), reason="Test refund")
    listing.refresh_from_db()
    assert listing.state == Listing.State.PUBLISHED
    assert ledger.escrow_balance(Order.objects.get(pk=offer.order.pk)) == 0
    assert ledger.margin_balance(listing) == 0
