"""Celery tasks: thin wrappers around escrow services, each taking tenant_id."""

from __future__ import annotations

import logging

from celery import shared_task

from core.tenancy import tenant_context

log = logging.getLogger(__name__)


# Tasks that move money: acknowledged only after they finish and redelivered when the worker dies
# (also the project default, stated here so it cannot be lost); the sweeper finishes what the broker
# does not redeliver in time.
MONEY = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="escrow.tasks.execute_disbursement", **MONEY)
def execute_disbursement(*, disbursement_id, tenant_id):
    from .services import disbursement_execute

    with tenant_context(tenant_id):
        return disbursement_execute(disbursement_id=disbursement_id)


@shared_task(name="escrow.tasks.retry_disbursements", **MONEY)
def retry_disbursements():
    """Beat: retry refunds and payouts whose provider call failed (the provider dedups by our id)."""
    from .models import Disbursement
    from .services import disbursement_execute

    rows = list(Disbursement.objects.unscoped().filter(state=Disbursement.State.FAILED, attempts__lt=20)
                .values_list("pk", "tenant_id")[:200])
    for pk, tenant_id in rows:
        with tenant_context(tenant_id):
            disbursement_execute(disbursement_id=pk)
    return len(rows)


@shared_task(name="escrow.tasks.sweep_in_flight", **MONEY)
def sweep_in_flight():
    """Beat: finish payments and payouts in flight for longer than a few minutes (database-driven)."""
    from .services.sweeper import sweep_in_flight as sweep

    return sweep()


@shared_task(name="escrow.tasks.simulated_deliver", **MONEY)
def simulated_deliver(*, body, tenant_id=None):
    """The simulated provider's side: sign the event and deliver it through the webhook path."""
    from .payments.simulated import deliver

    return deliver(body)
