"""Celery tasks: thin wrappers around escrow services, each taking tenant_id."""

from __future__ import annotations

import json
import logging
import urllib.request

from celery import shared_task
from django.conf import settings

from marketplace.celery import app
from marketplace.tenancy import tenant_context

log = logging.getLogger(__name__)


@shared_task(name="escrow.tasks.execute_disbursement")
def execute_disbursement(*, disbursement_id, tenant_id):
    from .services import disbursement_execute

    with tenant_context(tenant_id):
        return disbursement_execute(disbursement_id=disbursement_id)


@shared_task(name="escrow.tasks.retry_disbursements")
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


@shared_task(name="escrow.tasks.simulated_deliver")
def simulated_deliver(*, body, tenant_id=None):
    """The simulated provider's side: sign the event and deliver it through the webhook path — by
    HTTP when ESCROW_SIMULATED_WEBHOOK_URL is set, else by calling the same handler the view calls."""
    from .payments.simulated import HEADER, sign
    from .webhooks import handle

    header = sign(body)
    url = getattr(settings, "ESCROW_SIMULATED_WEBHOOK_URL", "")
    if url:
        request = urllib.request.Request(url, data=body.encode(), method="POST",  # noqa: S310 (our own URL)
                                         headers={"Content-Type": "application/json", HEADER: header})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    status, result = handle("simulated", body.encode(), {HEADER: header})
    log.info("simulated event %s → %s %s", json.loads(body)["id"], status, result)
    return status


@app.on_after_finalize.connect
def setup_periodic_tasks(sender, **kwargs):
    sender.add_periodic_task(300.0, retry_disbursements.s(), name="escrow: retry failed payouts and refunds")
