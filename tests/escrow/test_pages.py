"""The escrow website: order start, order page, dashboards; only the two parties and staff see an order."""

import pytest

from escrow.models import Order, OrderState
from listings.models import Listing
from tests.factories import escrow_parties, escrow_staff, make_member, order_in_state

pytestmark = pytest.mark.django_db


def test_contract_summary_then_place(tenant, client):
    listing, seller, buyer = escrow_parties(price_minor=1_000_000)
    client.force_login(buyer)
    page = client.get(f"/orders/new/{listing.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    for text in ("10,000.00", "200.00", "10,200.00", "3 days", "7 days", "14 days"):
        assert text in html, text
    refused = client.post(f"/orders/new/{listing.pk}/", {})
    assert refused.status_code == 200
    assert not Order.objects.exists()
    placed = client.post(f"/orders/new/{listing.pk}/", {"terms": "on"})
    order = Order.objects.get()
    assert placed["Location"] == order.get_absolute_url()


def test_second_buyer_sees_someone_else_ordered(tenant, client):
    listing, seller, buyer = escrow_parties()
    order_in_state(OrderState.PLACED, listing=listing, seller=seller, buyer=buyer)
    other = make_member()
    client.force_login(other)
    page = client.get(f"/orders/new/{listing.pk}/")
    assert "moment ago" in page.content.decode()
    client.post(f"/orders/new/{listing.pk}/", {"terms": "on"})
    assert Order.objects.count() == 1


def test_seller_cannot_order_own_listing(tenant, client):
    listing, seller, buyer = escrow_parties()
    client.force_login(seller)
    assert "own organization" in client.get(f"/orders/new/{listing.pk}/").content.decode()


def test_order_page_for_parties_and_staff_only(tenant, client):
    order, seller, buyer = order_in_state(OrderState.FUNDED)
    url = order.get_absolute_url()
    for user, expected in ((buyer, 200), (seller, 200), (escrow_staff(), 200), (make_member(), 404)):
        client.force_login(user)
        assert client.get(url).status_code == expected
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_order_page_shows_timeline_action_log_and_money(tenant, client):
    order, seller, buyer = order_in_state(OrderState.PLACED)
    client.force_login(seller)
    html = client.get(order.get_absolute_url()).content.decode()
    assert "Confirm the order" in html
    assert 'aria-current="step"' in html
    client.post(f"/orders/{order.reference}/act/confirm/")
    order.refresh_from_db()
    assert order.state == OrderState.SELLER_CONFIRMED
    client.force_login(buyer)
    html = client.get(order.get_absolute_url()).content.decode()
    assert "Pay now" in html
    assert "order.seller_confirm" in html or "Seller confirmed" in html


def test_order_of_another_tenant_is_404(tenant, other_tenant, client):
    order, seller, buyer = order_in_state(OrderState.PLACED)
    client.force_login(buyer)
    assert client.get(order.get_absolute_url(), HTTP_HOST="beta.test").status_code == 404


def test_dispute_from_the_page_with_evidence(tenant, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    order, seller, buyer = order_in_state(OrderState.FUNDED)
    client.force_login(buyer)
    bad = SimpleUploadedFile("x.pdf", b"GIF89a", content_type="application/pdf")
    client.post(f"/orders/{order.reference}/act/dispute/", {"reason": "Not as described", "files": [bad]})
    order.refresh_from_db()
    assert order.state == OrderState.FUNDED
    good = SimpleUploadedFile("x.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")
    client.post(f"/orders/{order.reference}/act/dispute/", {"reason": "Not as described", "files": [good]})
    order.refresh_from_db()
    assert order.state == OrderState.DISPUTED


def test_dashboard_lists_orders_with_bounded_queries(tenant, client, django_assert_max_num_queries):
    listing, seller, buyer = escrow_parties()
    order_in_state(OrderState.FUNDED, listing=listing, seller=seller, buyer=buyer)
    for _ in range(3):
        other_listing = Listing.objects.create(seller_org=listing.seller_org, created_by=seller, title="More",
                                               price_minor=50_000, currency="CNY", state=Listing.State.PUBLISHED)
        order_in_state(OrderState.PLACED, listing=other_listing, seller=seller, buyer=buyer)
    client.force_login(buyer)
    with django_assert_max_num_queries(20):
        page = client.get("/orders/")
    assert page.content.decode().count("IPX-") >= 4


def test_seller_pays_the_margin_on_the_simulated_page_and_the_listing_goes_live(tenant, client):
    from core.models import OutboxMessage
    from escrow import ledger
    from escrow.payments import simulated

    listing, seller, buyer = escrow_parties(listing_state=Listing.State.AWAITING_MARGIN)
    Listing.objects.filter(pk=listing.pk).update(margin_minor=20_000)
    client.force_login(seller)
    response = client.post(f"/orders/margin/{listing.pk}/pay/")
    assert "/pay/simulated/" in response["Location"]
    assert client.get(response["Location"]).status_code == 200
    back = client.post(response["Location"], {"decision": "approve"})
    assert back["Location"] == f"/sell/listings/{listing.pk}/"
    message = OutboxMessage.objects.get(task_name="escrow.tasks.simulated_deliver")
    simulated.deliver(message.kwargs['body'])
    listing.refresh_from_db()
    assert listing.state == Listing.State.PUBLISHED
    assert ledger.margin_balance(listing) == 20_000
    # a buyer cannot reach the seller's payment page
    client.force_login(buyer)
    assert client.get(response["Location"]).status_code == 404


def test_people_see_names_not_codes_in_the_event_log_and_dashboards(tenant, client):
    # given a refunded order (paid through the simulated provider, refunded by staff)
    order, seller, buyer = order_in_state(OrderState.REFUNDED)
    client.force_login(buyer)
    # when the buyer reads the order page in English
    html = client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # then the provider is named for people, and the page says how the trade ended
    assert "· Online payment (simulated)" in html
    assert "· simulated<" not in html
    assert "The trade ended" in html
    # and in Chinese, too
    from accounts.models import User

    User.objects.filter(pk=buyer.pk).update(language="zh-hans")
    html = client.get(order.get_absolute_url()).content.decode()
    assert "交易已终止" in html
    assert "The trade ended" not in html
    # and the seller's dashboard does not promise money from a refunded order
    client.force_login(seller)
    User.objects.filter(pk=seller.pk).update(language="en")
    dashboard = client.get("/orders/").content.decode()
    assert 'data-label="You receive"><span class="muted">—</span>' in dashboard


def test_disputed_order_page_shows_the_deadline_paused(tenant, client):
    order, seller, buyer = order_in_state(OrderState.DISPUTED)
    client.force_login(buyer)
    html = client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "deadline paused during the dispute" in html
    assert "overdue since" not in html


def test_buyer_is_told_what_happens_if_they_do_not_confirm(tenant, client):
    order, seller, buyer = order_in_state(OrderState.TRANSFER_APPROVED)
    client.force_login(buyer)
    html = client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "the platform confirms for you and pays the seller" in html
