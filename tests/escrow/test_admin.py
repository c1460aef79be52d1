"""Escrow back-office: scoped to the exchange, buttons call the services, errors become messages."""

import pytest

from accounts.models import Role
from core.tenancy import tenant_context
from escrow import services as s
from escrow.models import Order, OrderState, Payment
from tests.factories import escrow_staff, make_member, order_in_state

pytestmark = pytest.mark.django_db


def test_orders_list_is_scoped_to_the_exchange(tenant, other_tenant, client):
    mine, _seller, _buyer = order_in_state(OrderState.PLACED)
    with tenant_context(other_tenant):
        theirs, _s2, _b2 = order_in_state(OrderState.PLACED)
    client.force_login(escrow_staff())
    html = client.get("/admin/escrow/order/").content.decode()
    # references are numbered per exchange (both are IPX-…-000001): tell the rows apart by their links
    assert f"/admin/escrow/order/{mine.pk}/change/" in html
    assert f"/admin/escrow/order/{theirs.pk}/change/" not in html
    assert theirs.buyer_org.legal_name not in html
    assert client.get(f"/admin/escrow/order/{theirs.pk}/change/").status_code in (302, 404)
    overdue = client.get("/admin/escrow/order/?overdue=yes")
    assert overdue.status_code == 200


def test_order_change_page_shows_ledger_and_buttons(tenant, client):
    order, seller, buyer = order_in_state(OrderState.DISPUTED)
    client.force_login(escrow_staff())
    html = client.get(f"/admin/escrow/order/{order.pk}/change/").content.decode()
    assert "order_funded" in html
    assert f"/admin/escrow/order/{order.pk}/resolve/refund/" in html


def test_order_change_page_speaks_the_staff_members_language(tenant, client):
    order, seller, buyer = order_in_state(OrderState.DISPUTED)
    staff = escrow_staff()
    type(staff).objects.filter(pk=staff.pk).update(language="zh-hans")
    client.force_login(staff)
    html = client.get(f"/admin/escrow/order/{order.pk}/change/").content.decode()
    for english in ("Disputed from", "Seller confirm due", "Placed at", "Close reason", "Provider ref", "Received at",
                    "Opened at", "Resolution note", "Last error", "Memo"):
        assert english not in html, english
    assert "争议前状态" in html
    assert "下单时间" in html


def test_resolve_dispute_by_refund_from_the_admin(tenant, client):
    order, seller, buyer = order_in_state(OrderState.DISPUTED)
    client.force_login(escrow_staff())
    url = f"/admin/escrow/order/{order.pk}/resolve/refund/"
    assert client.post(url, {"reason": ""}).status_code == 200  # form error, nothing done
    order.refresh_from_db()
    assert order.state == OrderState.DISPUTED
    # first a summary (how much, to whom, through which provider, cannot be undone); nothing moves yet
    summary = client.post(url, {"reason": "Evidence shows the patent had lapsed"})
    assert summary.status_code == 200
    assert "Check before you confirm" in summary.content.decode()
    assert 'name="confirmed" value="yes"' in summary.content.decode()
    order.refresh_from_db()
    assert order.state == OrderState.DISPUTED
    response = client.post(url, {"reason": "Evidence shows the patent had lapsed", "confirmed": "yes"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.REFUNDED


def test_service_errors_become_admin_messages(tenant, client):
    order, seller, buyer = order_in_state(OrderState.PLACED)
    client.force_login(escrow_staff())
    response = client.post(f"/admin/escrow/order/{order.pk}/refund/", {"reason": "x", "confirmed": "yes"},
                           follow=True)
    assert "cannot do" in response.content.decode()
    order.refresh_from_db()
    assert order.state == OrderState.PLACED


def test_finance_records_a_bank_transfer_and_mismatch_is_explained(tenant, client):
    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    payment = s.payment_start(order=order, actor=buyer, provider="bank_transfer")
    client.force_login(escrow_staff(roles=(Role.FINANCE,)))
    listing = client.get("/admin/escrow/payment/?provider__exact=bank_transfer&state__exact=pending").content.decode()
    assert payment.reference in listing
    url = f"/admin/escrow/payment/{payment.pk}/receipt/"
    wrong = client.post(url, {"amount": "1.00", "bank_reference": "B1"}, follow=True).content.decode()
    assert "is due" in wrong
    total = f"{order.total_minor / 100:.2f}"
    client.post(url, {"amount": total, "bank_reference": "B1"})
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED
    assert order.state == OrderState.FUNDED


def test_sellers_and_buyers_do_not_reach_the_admin(tenant, client):
    order_in_state(OrderState.PLACED)
    client.force_login(make_member(roles=(Role.SELLER, Role.BUYER)))
    assert client.get("/admin/escrow/order/").status_code == 302
    assert Order.objects.count() == 1
