"""Issue 11: the money box tells the truth — "paid" only when the payout is paid, pending/held/failed as
such, nothing for the seller of a refunded order; the payout notice and page name the account."""

import pytest
from django.db import transaction
from django.utils import timezone

from core.models import Notification
from escrow import services as s
from escrow.models import Disbursement, OrderState
from escrow.services.core import lock_order
from tests.factories.escrow import escrow_parties, escrow_staff, order_in_state, pay_order

S = OrderState


def _page(client, tenant, order, user):
    client.force_login(user)
    html = client.get(order.get_absolute_url(), HTTP_HOST=tenant.hosts[0], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    return html[html.index('id="money-h"'):]


def _completed_by_bank(tenant, *, verified):
    listing, seller, buyer = escrow_parties()
    org = listing.seller_org
    if verified:
        type(org).objects.filter(pk=org.pk).update(
            payout_bank_name="HSBC Hong Kong", payout_account_name=org.legal_name,
            payout_bank_account="004-123-456789-838", payout_swift="HSBCHKHHHKH", payout_verified_at=timezone.now())
    order = s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    s.order_seller_confirm(order=order, actor=seller)
    pay_order(order, buyer, provider="bank_transfer")
    for step in ("file_transfer", "approve_transfer"):
        with transaction.atomic():
            s.order_step(lock_order(order.pk), step, actor_label="test office")
    s.order_confirm_certificate(order=order, actor=buyer)
    return order, seller, buyer


def test_held_payout_is_shown_held_with_the_reason_not_released(tenant, client):
    order, seller, buyer = _completed_by_bank(tenant, verified=False)
    box = _page(client, tenant, order, seller)
    assert "seller-held" in box
    assert "has not entered the bank account" in box
    assert "seller-paid" not in box


def test_pending_then_paid_payout_names_the_account(tenant, client):
    order, seller, buyer = _completed_by_bank(tenant, verified=True)
    payout = Disbursement.objects.get(order=order, kind=Disbursement.Kind.PAYOUT)
    assert payout.state == Disbursement.State.PENDING
    box = _page(client, tenant, order, seller)
    assert "seller-pending" in box
    assert "seller-paid" not in box
    s.disbursement_mark_paid(disbursement=payout, actor=escrow_staff(), bank_reference="HSBC-001")
    box = _page(client, tenant, order, seller)
    assert "seller-paid" in box
    assert "seller-pending" not in box
    payout.refresh_from_db()
    assert payout.destination
    assert payout.destination in box
    notice = Notification.objects.get(user=seller, kind="payout.paid")
    assert payout.destination in notice.body


def test_failed_payout_says_what_happens_next(tenant, client):
    order, seller, buyer = _completed_by_bank(tenant, verified=True)
    Disbursement.objects.filter(order=order, kind="payout").update(state="failed", last_error="Account closed.")
    box = _page(client, tenant, order, seller)
    assert "seller-failed" in box
    assert "Account closed." in box
    assert "finance retries" in box


@pytest.mark.parametrize("state", [S.REFUNDED])
def test_refunded_order_shows_the_seller_receives_nothing(tenant, client, state):
    order, seller, buyer = order_in_state(state)
    box = _page(client, tenant, order, seller)
    assert "seller-nothing" in box
    assert "seller-paid" not in box


def test_each_party_downloads_its_statement_as_csv_and_pdf(tenant, client):
    order, seller, buyer = _completed_by_bank(tenant, verified=True)
    host = {"HTTP_HOST": tenant.hosts[0]}
    client.force_login(seller)
    seller_csv = client.get(f"/orders/{order.reference}/statement.csv", **host)
    assert seller_csv.status_code == 200
    text = seller_csv.content.decode("utf-8-sig")
    assert str(order.payout_minor) in text
    assert "HSBC" in text  # the payout line names the account
    pdf = client.get(f"/orders/{order.reference}/statement.pdf", **host)
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    client.force_login(buyer)
    buyer_csv = client.get(f"/orders/{order.reference}/statement.csv", **host).content.decode("utf-8-sig")
    assert str(order.total_minor) in buyer_csv
    assert "HSBC" not in buyer_csv  # the buyer does not see the seller's account
    client.force_login(escrow_staff())
    assert client.get(f"/orders/{order.reference}/statement.csv", **host).status_code == 404


def test_finance_exports_the_ledger_as_csv_and_xlsx(tenant, client):
    from io import BytesIO

    from openpyxl import load_workbook

    from accounts.models import Role
    from escrow.models import JournalLine

    order, seller, buyer = _completed_by_bank(tenant, verified=True)
    client.force_login(escrow_staff(roles=(Role.FINANCE,)))
    listing = client.get("/admin/escrow/ledgeraccount/").content.decode()
    assert "/admin/escrow/ledgeraccount/export.xlsx" in listing
    rows = client.get("/admin/escrow/ledgeraccount/export.csv").content.decode("utf-8-sig").splitlines()
    assert len(rows) == JournalLine.objects.count() + 1
    assert any(order.reference in r for r in rows)
    book = load_workbook(BytesIO(client.get("/admin/escrow/ledgeraccount/export.xlsx").content))
    sheet = book["ledger"]
    amounts = [r[7] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(amounts) == JournalLine.objects.count()
    assert sum(amounts) == 0  # balanced
    client.force_login(seller)
    assert client.get("/admin/escrow/ledgeraccount/export.csv").status_code in (302, 404)
