"""Celery tasks: thin wrappers around the services, named explicitly, idempotent (row locks and
state checks), `acks_late` with redelivery on worker loss (settings). Periodic tasks: the office
poller and the trade deadlines, each over every active tenant."""

import logging

from celery import shared_task

from core.models import Tenant
from core.tenancy import tenant_context
from escrow.models import Order

log = logging.getLogger(__name__)



@shared_task(name="transfers.tasks.prepare_transfer")
def prepare_transfer(*, tenant_id, order_id):
    """Generate the papers of a funded order (enqueued by the funded transition; idempotent)."""
    from .services import transfer_prepare_or_record

    with tenant_context(tenant_id):
        order = Order.objects.filter(pk=order_id).first()
        if order is not None:
            transfer_prepare_or_record(order=order)


@shared_task(name="transfers.tasks.poll_tenant")
def poll_tenant(*, tenant_id):
    from .services import transfer_poll_due

    with tenant_context(tenant_id):
        stats = transfer_poll_due()
    log.info("transfer poll tenant=%s %s", tenant_id, stats.as_dict())
    return stats.as_dict()


@shared_task(name="transfers.tasks.poll_offices")
def poll_offices():
    """Beat: one poll cycle per tenant (each only touches filings that are due)."""
    totals = {}
    for tenant_id in Tenant.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True):
        totals[tenant_id] = poll_tenant(tenant_id=tenant_id)
    return totals


@shared_task(name="transfers.tasks.enforce_deadlines_tenant")
def enforce_deadlines_tenant(*, tenant_id):
    from .services import trade_deadlines_enforce

    with tenant_context(tenant_id):
        return trade_deadlines_enforce()


@shared_task(name="transfers.tasks.enforce_deadlines")
def enforce_deadlines():
    """Beat: every deadline of the trade in every tenant."""
    return {tenant_id: enforce_deadlines_tenant(tenant_id=tenant_id)
            for tenant_id in Tenant.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)}


@shared_task(name="transfers.tasks.poll_recordals")
def poll_recordals():
    """Beat: pledge and release recordals that are due, in every tenant."""
    from .services import recordal_poll_due

    totals = {}
    for tenant_id in Tenant.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True):
        with tenant_context(tenant_id):
            totals[tenant_id] = recordal_poll_due()
    return totals
