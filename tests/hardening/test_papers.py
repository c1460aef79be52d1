"""Issue 10: a buyer address of 120 short lines made paper generation fail and every order page view
re-ran it. Addresses are bounded, papers are generated only by the worker's task, and a failure is a
visible state that escrow staff can act on."""

from unittest import mock

import pytest

from accounts.models import Organization
from escrow.models import OrderState
from tests.factories import transfer_officer, transfer_order
from transfers.models import PaperFailure, TransferDocument

pytestmark = pytest.mark.django_db


def test_papers_are_generated_for_an_address_of_120_lines(tenant):
    from transfers.tasks import prepare_transfer

    order, seller, buyer = transfer_order(state=OrderState.FUNDED)
    # an address stored before the limit existed
    Organization.objects.filter(pk=order.buyer_org_id).update(address="\n".join(f"Line {i}" for i in range(120)))
    prepare_transfer(tenant_id=tenant.pk, order_id=order.pk)
    assert TransferDocument.objects.filter(order=order, superseded=False).count() == 3
    assert not PaperFailure.objects.exists()


def test_the_order_page_never_generates_papers(client, tenant):
    order, seller, buyer = transfer_order(state=OrderState.FUNDED)
    client.force_login(buyer)
    with mock.patch("transfers.services.papers.transfer_prepare") as prepare, \
            mock.patch("transfers.services.transfer_prepare") as prepare2:
        page = client.get(order.get_absolute_url())
    assert page.status_code == 200
    assert prepare.call_count == 0
    assert prepare2.call_count == 0
    assert not TransferDocument.objects.filter(order=order).exists()
    assert "tp-papers-preparing" in page.content.decode()


def test_a_failed_generation_is_visible_and_staff_generate_again(client, tenant, django_capture_on_commit_callbacks):
    from transfers.tasks import prepare_transfer

    order, seller, buyer = transfer_order(state=OrderState.FUNDED)
    officer = transfer_officer()
    with mock.patch("transfers.papers.paper_data", side_effect=RuntimeError("LayoutError: too large")):
        prepare_transfer(tenant_id=tenant.pk, order_id=order.pk)
        prepare_transfer(tenant_id=tenant.pk, order_id=order.pk)
    failure = PaperFailure.objects.get(order=order)
    assert failure.attempts == 2
    assert "LayoutError" in failure.error
    from core.models import Notification
    assert Notification.objects.filter(user=officer, kind="transfer.papers_failed").count() == 1
    # the parties see the state, the officer sees the error and a button
    client.force_login(buyer)
    assert "tp-papers-failed" in client.get(order.get_absolute_url()).content.decode()
    client.force_login(officer)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "LayoutError" in page
    assert f"/transfers/orders/{order.pk}/papers/retry/" in page
    # the officer asks again; the worker's task generates them and the failure is resolved
    with mock.patch("core.outbox.enqueue") as enqueue:
        client.post(f"/transfers/orders/{order.pk}/papers/retry/")
    assert enqueue.call_count == 1
    prepare_transfer(tenant_id=tenant.pk, order_id=order.pk)
    failure.refresh_from_db()
    assert failure.resolved_at is not None
    assert TransferDocument.objects.filter(order=order, superseded=False).count() == 3
