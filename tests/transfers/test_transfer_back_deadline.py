"""The signing deadline of the assignment back (issue 11): halfway the party that has not signed is reminded,
once; when it passes escrow officers are told, once; they then settle by a split as before. The deadline is on
the order page and in the API."""

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.models import AuditEvent, Notification
from core.tenancy import tenant_context
from escrow import services as s
from escrow.models import OrderState
from tests.factories import api_headers, escrow_staff, make_api_key
from transfers.models import TransferDocument
from transfers.selectors import return_document, return_sign_deadline
from transfers.services import document_sign, trade_deadlines_enforce

from .test_transfer_back import recorded_order

DAY = timedelta(days=1)


def refunded_order():
    order, seller, buyer, officer = recorded_order()
    s.order_refund(order=order, actor=escrow_staff(), reason="The patent is licensed to a third party.")
    order.refresh_from_db()
    assert order.state == OrderState.RETURN_PENDING
    return order, seller, buyer, officer


def opened(order):
    return return_document(order).created_at


def reminders(user):
    return Notification.objects.filter(user=user, kind="transfer.return_sign_reminder").count()


def alerts(user):
    return Notification.objects.filter(user=user, kind="transfer.return_sign_overdue").count()


@pytest.mark.django_db
def test_the_party_that_has_not_signed_is_reminded_once_halfway(tenant):
    # given a transfer back the buyer signed and the seller did not
    order, seller, buyer, officer = refunded_order()
    document_sign(document=return_document(order), user=buyer, typed_name=buyer.full_name, consent=True)
    start = opened(order)
    # before halfway (7 of 14 days) nobody is chased
    assert not trade_deadlines_enforce(now=start + 6 * DAY).get("return_sign_reminders")
    assert reminders(seller) == 0
    # when the deadlines run twice after halfway
    assert trade_deadlines_enforce(now=start + 8 * DAY).get("return_sign_reminders") == 1
    assert not trade_deadlines_enforce(now=start + 9 * DAY).get("return_sign_reminders")
    # then only the seller is reminded, once, with the deadline; staff are not alerted yet
    assert reminders(seller) == 1
    assert reminders(buyer) == 0
    note = Notification.objects.get(user=seller, kind="transfer.return_sign_reminder")
    assert f"{timezone.localtime(start + 14 * DAY):%Y-%m-%d %H:%M}" in str(note.subject)
    assert alerts(officer) == 0
    assert AuditEvent.objects.filter(action="transfer.return_sign_reminder", data__party="seller").count() == 1


@pytest.mark.django_db
def test_staff_are_alerted_once_when_the_deadline_passes_then_settle_by_a_split(tenant):
    order, seller, buyer, officer = refunded_order()
    start = opened(order)
    # neither party signed: at the deadline the officers are told, once, even when the beat runs twice
    assert trade_deadlines_enforce(now=start + 15 * DAY).get("return_sign_overdue") == 1
    assert not trade_deadlines_enforce(now=start + 16 * DAY).get("return_sign_overdue")
    assert alerts(officer) == 1
    alert = Notification.objects.get(user=officer, kind="transfer.return_sign_overdue")
    assert "neither party" in str(alert.body)
    assert alerts(seller) == 0
    assert alerts(buyer) == 0
    order.refresh_from_db()
    assert order.state == OrderState.RETURN_PENDING  # nothing is decided by the beat
    # and staff settle by a split, as before
    s.order_return_split(order=order, actor=escrow_staff(), refund_minor=1_000_000, expected_refund_minor=1_000_000,
                         note="Seller unreachable; the buyer keeps the patent at half the price.")
    order.refresh_from_db()
    assert order.state == OrderState.SETTLED
    assert not trade_deadlines_enforce(now=start + 20 * DAY).get("return_sign_overdue")


@pytest.mark.django_db
def test_nothing_is_chased_once_both_signed(tenant):
    order, seller, buyer, officer = refunded_order()
    for user in (buyer, seller):
        document_sign(document=return_document(order), user=user, typed_name=user.full_name, consent=True)
    counts = trade_deadlines_enforce(now=opened(order) + 30 * DAY)
    assert not counts.get("return_sign_reminders")
    assert not counts.get("return_sign_overdue")
    assert return_sign_deadline(order).phase == "signed"


@pytest.mark.django_db
def test_the_number_of_days_is_a_setting(tenant, settings):
    settings.TRANSFER_BACK_SIGN_DAYS = 4
    order, seller, buyer, officer = refunded_order()
    start = opened(order)
    rule = return_sign_deadline(order, now=start + 2 * DAY)
    assert rule.due == start + 4 * DAY
    assert rule.phase == "remind"
    assert trade_deadlines_enforce(now=start + 2 * DAY + timedelta(minutes=1)).get("return_sign_reminders") == 2
    assert trade_deadlines_enforce(now=start + 5 * DAY).get("return_sign_overdue") == 1


@pytest.mark.django_db
def test_the_order_page_and_the_api_show_the_deadline(tenant, client):
    order, seller, buyer, officer = refunded_order()
    due = return_sign_deadline(order).due
    client.force_login(buyer)
    page = client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    local = timezone.localtime(due)
    assert f"Both parties sign the assignment back by {local:%Y-%m-%d %H:%M}" in page
    type(buyer).objects.filter(pk=buyer.pk).update(language="zh-hans")
    zh = client.get(order.get_absolute_url()).content.decode()
    assert f"{local:%Y-%m-%d %H:%M}" in zh
    assert "assignment back" not in zh
    # past the deadline the panel says staff were told
    type(buyer).objects.filter(pk=buyer.pk).update(language="en")
    TransferDocument.objects.filter(order=order).update(created_at=timezone.now() - 20 * DAY)  # its age decides
    late = client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The deadline to sign the assignment back passed on" in late
    # the partner API gives the same moment
    headers = api_headers(make_api_key(organization=order.seller_org)[1])
    summary = client.get(f"/api/v1/orders/{order.reference}", headers=headers).json()["transfer"]["transfer_back"]
    assert datetime.fromisoformat(summary["sign_due"]) == return_sign_deadline(order).due


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_remind_once(tenant):
    order, seller, buyer, officer = refunded_order()
    now = opened(order) + 8 * DAY
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            with tenant_context(tenant.pk):
                barrier.wait()
                results.append(trade_deadlines_enforce(now=now))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(r.get("return_sign_reminders", 0) for r in results) == 2  # one for each party, not four
    assert reminders(seller) == 1
    assert reminders(buyer) == 1
