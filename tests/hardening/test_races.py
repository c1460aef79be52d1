"""Issue 10: four buyers press "place order" at the same moment on the website: one order, the others
read "someone else ordered this", nobody gets a 500."""

import threading

import pytest
from django.db import connection
from django.test import Client

from escrow.models import Order
from tests.factories import escrow_parties, make_member

pytestmark = pytest.mark.django_db(transaction=True)


def test_four_place_order_clicks_at_once_one_order_no_500(tenant):
    listing, _seller, _buyer = escrow_parties()
    buyers = [make_member() for _ in range(4)]
    barrier = threading.Barrier(len(buyers))
    responses = [None] * len(buyers)

    def click(index, user):
        try:
            client = Client(raise_request_exception=False)
            client.force_login(user)
            barrier.wait(timeout=30)
            responses[index] = client.post(f"/orders/new/{listing.pk}/", {"terms": "on"}, follow=True)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(i, u)) for i, u in enumerate(buyers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    codes = [r.status_code for r in responses]
    assert all(code < 500 for code in codes), codes
    assert Order.objects.filter(listing=listing).count() == 1
    losers = [r for r in responses if not r.redirect_chain or "/orders/new/" in r.request["PATH_INFO"]]
    assert len(losers) == 3
    for response in losers:
        text = response.content.decode()
        assert "moment ago" in text or "刚刚" in text or "someone else" in text.lower(), text[:2000]
