"""Celery tasks of negotiation: thin wrappers around services."""

from celery import shared_task

from core.models import Tenant
from core.tenancy import tenant_context

from .royalties import royalty_enforce_deadlines
from .services import offer_expire_due


@shared_task(name="negotiation.tasks.expire_offers")
def expire_offers():
    """Beat: every exchange's open offers past their validity expire."""
    expired = {}
    for tenant_id in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
        with tenant_context(tenant_id):
            expired[tenant_id] = offer_expire_due()
    return expired


@shared_task(name="negotiation.tasks.enforce_royalty_deadlines")
def enforce_royalty_deadlines():
    """Beat: missed royalty reports and payments become overdue, both parties told."""
    changed = {}
    for tenant_id in Tenant.objects.filter(is_active=True).values_list("pk", flat=True):
        with tenant_context(tenant_id):
            changed[tenant_id] = royalty_enforce_deadlines()
    return changed
