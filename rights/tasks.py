"""Celery tasks of rights: the monitoring cycle per tenant (beat: `rights-monitor`) and portfolio imports."""

import logging

from celery import shared_task

from core.models import Tenant
from core.tenancy import tenant_context

log = logging.getLogger(__name__)


@shared_task(name="rights.tasks.monitor_tenant")
def monitor_tenant(*, tenant_id):
    from .monitoring import monitor_due

    with tenant_context(tenant_id):
        stats = monitor_due()
    log.info("rights monitor tenant=%s %s", tenant_id, stats)
    return {"checked": stats.checked, "alerts": stats.alerts, "unavailable": stats.unavailable}


@shared_task(name="rights.tasks.monitor_rights")
def monitor_rights():
    """Beat: one monitoring cycle per tenant (each touches only the holdings that are due)."""
    return {tenant_id: monitor_tenant(tenant_id=tenant_id)
            for tenant_id in Tenant.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True)}


@shared_task(name="rights.tasks.run_portfolio_import")
def run_portfolio_import(*, tenant_id, import_id):
    from .portfolio import run_import

    with tenant_context(tenant_id):
        job = run_import(import_id)
    return {"import": import_id, "imported": job.imported if job else 0}


@shared_task(name="rights.tasks.send_alert_digests")
def send_alert_digests():
    """Beat (daily): the alert digest e-mail of every member who chose it, per tenant."""
    from .alerts import alert_digests_send

    sent = {}
    for tenant_id in Tenant.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True):
        with tenant_context(tenant_id):
            sent[tenant_id] = alert_digests_send()
    return sent
