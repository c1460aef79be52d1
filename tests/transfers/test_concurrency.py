"""Two workers at once: the poll cycle claims rows with SKIP LOCKED, so each answer is applied once."""

import threading

import pytest
from django.db import connection

from core.models import AuditEvent
from core.tenancy import tenant_context
from escrow.models import OrderState
from tests.factories import filed_order
from transfers.models import OfficeNotice
from transfers.services import transfer_poll_due

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_pollers_at_once_apply_each_answer_once(tenant, settings):
    # given three approved answers waiting, and an office that answers slowly
    orders = [filed_order()[0] for _ in range(3)]
    settings.SIMULATED_OFFICE_LATENCY = 0.5
    barrier = threading.Barrier(2)
    results, errors = [], []

    def poll():
        try:
            with tenant_context(tenant.pk):
                barrier.wait()
                results.append(transfer_poll_due())
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    # when two workers poll at the same moment
    threads = [threading.Thread(target=poll) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # then every filing was claimed by exactly one of them and approved once
    assert errors == []
    assert sum(r.claimed for r in results) == 3
    assert sum(r.approved for r in results) == 3
    for order in orders:
        order.refresh_from_db()
        assert order.state == OrderState.TRANSFER_APPROVED
        assert AuditEvent.objects.filter(action="order.approve_transfer", object_id=str(order.pk)).count() == 1
    assert OfficeNotice.objects.count() == 3
