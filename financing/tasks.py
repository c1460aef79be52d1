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


@shared_task(name="financing.tasks.expire_deadlines")
def expire_deadlines():
    """Beat: lenders' offers past their validity, and applications past their deadline, expire (each
    through its service, in its tenant)."""
    from .models import ApplicationState, LoanApplication, LoanOffer, OfferState
    from .services import application_expire_if_due, offer_expire_if_due

    now = timezone.now()
    done = 0
    offers = LoanOffer.objects.unscoped().filter(state=OfferState.OPEN, expires_at__lte=now).values_list("tenant_id",
                                                                                                         "pk")
    for tenant_id, pk in list(offers):
        with tenant_context(Tenant.objects.get(pk=tenant_id)):
            done += int(offer_expire_if_due(offer_id=pk))
    applications = (LoanApplication.objects.unscoped().filter(state=ApplicationState.OPEN, offers_due__lte=now)
                    .values_list("tenant_id", "pk"))
    for tenant_id, pk in list(applications):
        with tenant_context(Tenant.objects.get(pk=tenant_id)):
            done += int(application_expire_if_due(application_id=pk))
    return done


@shared_task(name="financing.tasks.alert_overdue_dispute_answers")
def alert_overdue_dispute_answers():
    """Beat: open appraisal disputes whose appraiser let `answer_due` pass without answering: staff are
    alerted once per dispute (the service stamps the dispute; running twice alerts nobody twice)."""
    from .models import AppraisalDispute
    from .services import appraisal_answer_overdue_alert

    due = (AppraisalDispute.objects.unscoped()
           .filter(state=AppraisalDispute.State.OPEN, answered_at__isnull=True, answer_overdue_alerted_at__isnull=True,
                   answer_due__lte=timezone.now()).values_list("tenant_id", "pk"))
    done = 0
    for tenant_id, pk in list(due):
        with tenant_context(Tenant.objects.get(pk=tenant_id)):
            done += int(appraisal_answer_overdue_alert(dispute_id=pk))
    return done


@shared_task(name="financing.tasks.alert_overdue_service_fees")
def alert_overdue_service_fees():
    """Beat: loans whose service fee passed its due date unpaid: borrower and staff told once each."""
    from .models import LoanApplication
    from .services.loan_fees import service_fee_overdue_alert

    due = (LoanApplication.objects.unscoped()
           .filter(service_fee_minor__gt=0, service_fee_paid_at__isnull=True, service_fee_overdue_alerted_at__isnull=True,
                   service_fee_due_on__lt=timezone.localdate()).values_list("tenant_id", "pk"))
    done = 0
    for tenant_id, pk in list(due):
        with tenant_context(Tenant.objects.get(pk=tenant_id)):
            done += int(service_fee_overdue_alert(application_id=pk))
    return done
