"""The website: make an offer, counter and accept on the offer page (the order is placed), the seller's
price form and history, questions answered publicly (asker anonymised) or privately."""

import pytest

from escrow.models import Order
from listings.models import Listing
from negotiation.models import Offer, Question
from tests.factories import broker_mandate, licence_listing, make_member, offer_listing

pytestmark = pytest.mark.django_db


def test_offer_counter_accept_on_the_website(client, tenant):
    listing, seller = offer_listing(price_minor=1_000_000)
    buyer = make_member()
    client.force_login(buyer)
    page = client.get(f"/listings/{listing.pk}/")
    assert "Make an offer" in page.content.decode()
    r = client.post(f"/deals/listings/{listing.pk}/offer/", {"price": "8,000.00", "valid_days": 7, "note": "hi"})
    offer = Offer.objects.get()
    assert r.status_code == 302
    assert r["Location"] == offer.get_absolute_url()
    assert offer.price_minor == 800_000
    client.force_login(seller)
    page = client.get(offer.get_absolute_url()).content.decode()
    assert "Accept" in page
    assert "Counter-offer" in page
    client.post(f"/deals/offers/{offer.pk}/counter/", {"price": "9000", "valid_days": 3})
    offer.refresh_from_db()
    assert (offer.price_minor, offer.waiting_for) == (900_000, "buyer")
    client.force_login(buyer)
    # accepting without the confirmation box does nothing
    client.post(f"/deals/offers/{offer.pk}/accept/", {})
    assert not Order.objects.exists()
    r = client.post(f"/deals/offers/{offer.pk}/accept/", {"confirm": "yes"}, follow=True)
    order = Order.objects.get()
    assert order.price_minor == 900_000
    assert r.redirect_chain[-1][0] == order.get_absolute_url()
    # a stranger gets 404 for the offer
    client.force_login(make_member())
    assert client.get(offer.get_absolute_url()).status_code == 404


def test_below_floor_offer_on_the_website_is_a_message_not_an_error(client, tenant):
    listing, _seller = offer_listing(price_minor=1_000_000, floor=700_000)
    client.force_login(make_member())
    r = client.post(f"/deals/listings/{listing.pk}/offer/", {"price": "100", "valid_days": 7}, follow=True)
    assert r.status_code == 200
    assert "below the lowest price" in r.content.decode()
    assert not Offer.objects.exists()


def test_seller_changes_the_price_and_buyers_see_the_history(client, tenant):
    listing, seller = offer_listing(price_minor=1_000_000, pricing=Listing.Pricing.FIXED)
    client.force_login(seller)
    r = client.post(f"/deals/listings/{listing.pk}/price/", {"pricing": "on_request", "price": "9500"}, follow=True)
    assert "The price was changed" in r.content.decode()
    listing.refresh_from_db()
    assert listing.pricing == "on_request"
    client.force_login(make_member())
    page = client.get(f"/listings/{listing.pk}/").content.decode()
    assert "Price on request" in page
    assert "Order with escrow" not in page
    client.force_login(make_member())
    r = client.post(f"/deals/listings/{listing.pk}/price/", {"pricing": "fixed", "price": "1"}, follow=True)
    assert "Only the seller" in r.content.decode()


def test_questions_answered_publicly_are_anonymous_privately_only_for_the_asker(client, tenant):
    listing, seller = offer_listing()
    asker, other = make_member(), make_member()
    client.force_login(asker)
    client.post(f"/deals/listings/{listing.pk}/ask/", {"text": "Is the patent licensed to anyone?"})
    client.post(f"/deals/listings/{listing.pk}/ask/", {"text": "Can you share the claim chart?"})
    q1, q2 = Question.objects.order_by("pk")
    client.force_login(seller)
    assert asker.memberships.get().organization.legal_name in client.get(f"/deals/listings/{listing.pk}/").content.decode()
    client.post(f"/deals/questions/{q1.pk}/answer/", {"answer": "No licence in force.", "public": "on"})
    client.post(f"/deals/questions/{q2.pk}/answer/", {"answer": "Sent by mail."})
    client.force_login(other)
    page = client.get(f"/deals/listings/{listing.pk}/").content.decode()
    assert "No licence in force." in page
    assert "Sent by mail." not in page
    assert asker.memberships.get().organization.legal_name not in page
    client.force_login(asker)
    assert "Sent by mail." in client.get(f"/deals/listings/{listing.pk}/").content.decode()


def test_mandate_proposed_and_accepted_on_the_site_then_the_broker_sees_the_deal(client, tenant):
    listing, seller = licence_listing(exclusive=False)
    mandate, broker = broker_mandate(principal_org=listing.seller_org, listing_ids=[listing.pk])
    client.force_login(seller)
    page = client.get("/deals/mandates/").content.decode()
    assert mandate.broker_org.legal_name in page
    client.post(f"/deals/mandates/{mandate.pk}/accept/")
    mandate.refresh_from_db()
    assert mandate.state == "active"
    buyer = make_member()
    client.force_login(buyer)
    client.post(f"/deals/listings/{listing.pk}/offer/", {"price": "4000", "valid_days": 7, "territory": "CN",
                                                         "term_months": 24, "royalty_percent": "2.5",
                                                         "royalty_base": "net_sales", "royalty_period": "quarter"})
    offer = Offer.objects.get()
    assert offer.terms["royalty_bps"] == 250
    client.force_login(broker)
    assert offer.listing.title in client.get("/deals/").content.decode()
    page = client.get(offer.get_absolute_url()).content.decode()
    assert "Accept" in page
    client.post(f"/deals/offers/{offer.pk}/accept/", {"confirm": "yes"})
    assert Order.objects.get().broker_org == mandate.broker_org


def test_a_buyers_broker_on_the_site_mandate_then_an_offer_for_its_client(client, tenant):
    from accounts.models import Mandate
    from tests.factories import OrganizationFactory

    listing, _seller = offer_listing(price_minor=1_000_000)
    client_member = make_member()
    client_org = client_member.memberships.get().organization
    broker = make_member(org=OrganizationFactory(legal_name="Buyers' Agent Ltd."))
    # the broker proposes a buyer-side mandate that allows signing
    client.force_login(broker)
    client.post("/deals/mandates/", {"side": "buyer", "principal": client_org.pk, "listings": "",
                                     "commission_percent": "2", "months": 12, "may_sign": "on"})
    mandate = Mandate.objects.get()
    assert (mandate.side, mandate.may_sign, mandate.state, mandate.commission_bps) == ("buyer", True, "proposed", 200)
    # no "offer for" choice before the client accepts
    assert 'data-testid="offer-for"' not in client.get(f"/deals/listings/{listing.pk}/").content.decode()
    client.force_login(client_member)
    page = client.get("/deals/mandates/").content.decode()
    assert "For the buyer" in page
    assert "may sign papers" in page
    client.post(f"/deals/mandates/{mandate.pk}/accept/")
    # the broker offers for its client from the deal page
    client.force_login(broker)
    page = client.get(f"/deals/listings/{listing.pk}/").content.decode()
    assert 'data-testid="offer-for"' in page
    assert client_org.legal_name in page
    client.post(f"/deals/listings/{listing.pk}/offer/", {"price": "9000", "valid_days": 7, "for_org": client_org.pk})
    offer = Offer.objects.get()
    assert (offer.buyer_org, offer.buyer_user, offer.buyer_mandate) == (client_org, client_member, mandate)
    # a forged principal is refused with a message, nothing stored
    other = OrganizationFactory()
    response = client.post(f"/deals/listings/{listing.pk}/offer/", {"price": "9000", "valid_days": 7,
                                                                     "for_org": other.pk}, follow=True)
    assert "no mandate in force" in response.content.decode()
    assert Offer.objects.count() == 1
