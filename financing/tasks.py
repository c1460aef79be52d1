"""Thin Celery wrappers around financing's services, each run in its tenant."""

from celery import shared_task
from django.utils import timezone

from core.models import Tenant
from core.tenancy import tenant_context


@shared_task(name="financing.tasks.release_due_appraisal_fees")
def release_due_appraisal_fees():
    """Beat: delivered appraisal reports whose dispute period ended undisputed: the fee is released."""
    from .models import Appraisal, AppraisalState
    from .services import appraisal_release_if_due

    done = 0
    due = (Appraisal.objects.unscoped().filter(state=AppraisalState.DELIVERED, dispute_due__lte=timezone.now())
           .values_list("tenant_id", "pk"))
    for tenant_id, pk in list(due):
        with tenant_context(Tenant.objects.get(pk=tenant_id)):
            done += int(appraisal_release_if_due(appraisal_id=pk))
    return done
