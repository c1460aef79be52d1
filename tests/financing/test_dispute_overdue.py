"""Staff are alerted once when an appraiser lets the dispute's answer deadline pass: the beat task run
twice sends exactly one alert; an answered dispute or one still within its deadline alerts nobody."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.models import AuditEvent, Notification
from financing import services
from financing.models import AppraisalDispute, PartnerKind
from financing.tasks import alert_overdue_dispute_answers
from tests.factories import deliver_payment, finance_partner, finance_staff, rights_holder, signed_report

pytestmark = pytest.mark.django_db


def _disputed(ca):
    org, client_user, records = rights_holder(n=1)
    appraiser, appraiser_user = finance_partner(kind=PartnerKind.APPRAISER, fee_minor=10_000_00,
                                                legal_name="Haidian Appraisal Co.")
    appraisal = services.appraisal_order(actor=client_user, organization=org, appraiser=appraiser,
                                         record_ids=[records[0].pk])
    deliver_payment(services.appraisal_pay_start(actor=client_user, appraisal=appraisal, provider="simulated"))
    report = SimpleUploadedFile("r.pdf", signed_report(*ca), content_type="application/pdf")
    services.appraisal_deliver(actor=appraiser_user, appraisal=appraisal, report=report, value_minor=1_000_000_00,
                               value_date=timezone.localdate())
    dispute = services.appraisal_dispute_open(actor=client_user, appraisal=appraisal,
                                              reason="The value ignores the licence recorded on it.")
    return appraisal, dispute, appraiser_user


def _overdue(dispute):
    AppraisalDispute.objects.filter(pk=dispute.pk).update(answer_due=timezone.now() - datetime.timedelta(minutes=1))


def test_staff_are_alerted_exactly_once_when_the_answer_is_overdue(tenant, settings, appraisers_ca, client):
    settings.ESCROW_SIMULATED_PAYMENTS = True
    staff = finance_staff()
    appraisal, dispute, appraiser_user = _disputed(appraisers_ca)
    # still within the deadline: nothing
    assert alert_overdue_dispute_answers() == 0
    assert not Notification.objects.filter(kind="appraisal.answer_overdue").exists()
    _overdue(dispute)
    assert alert_overdue_dispute_answers() == 1
    assert alert_overdue_dispute_answers() == 0  # the second run alerts nobody
    alerts = Notification.objects.filter(kind="appraisal.answer_overdue")
    assert alerts.filter(user=staff).count() == 1
    assert alerts.filter(user=appraiser_user).count() == 1  # the appraiser is reminded once too
    assert AuditEvent.objects.filter(action="appraisal.answer_overdue").count() == 1
    assert appraisal.reference in alerts.get(user=staff).subject
    dispute.refresh_from_db()
    assert dispute.answer_overdue_alerted_at is not None
    # the pipeline marks it
    client.force_login(staff)
    page = client.get("/financing/staff/", headers={"Accept-Language": "en"}).content.decode()
    assert "the appraiser&#x27;s answer is overdue" in page or "the appraiser's answer is overdue" in page


def test_an_answered_dispute_alerts_nobody(tenant, settings, appraisers_ca):
    settings.ESCROW_SIMULATED_PAYMENTS = True
    finance_staff()
    appraisal, dispute, appraiser_user = _disputed(appraisers_ca)
    services.appraisal_dispute_answer(actor=appraiser_user, appraisal=appraisal,
                                      text="The licence is non-exclusive and was taken into account.")
    _overdue(dispute)
    assert alert_overdue_dispute_answers() == 0
    assert not Notification.objects.filter(kind="appraisal.answer_overdue").exists()
