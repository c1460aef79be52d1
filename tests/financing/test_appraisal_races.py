"""Two people, one appraisal: on separate database connections exactly one wins, and the held fee is
paid out once."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from escrow.models import Deposit, Disbursement, JournalEntry, Payment
from financing import services
from financing.models import Appraisal, AppraisalDispute, PartnerKind
from tests.escrow.test_concurrency import run_at_once
from tests.factories import (
    deliver_payment,
    finance_partner,
    finance_staff,
    make_member,
    rights_holder,
    signed_report,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _delivered(ca):
    org, client_user, records = rights_holder(n=1)
    appraiser, appraiser_user = finance_partner(kind=PartnerKind.APPRAISER, fee_minor=10_000_00)
    appraisal = services.appraisal_order(actor=client_user, organization=org, appraiser=appraiser,
                                         record_ids=[records[0].pk])
    deliver_payment(services.appraisal_pay_start(actor=client_user, appraisal=appraisal, provider="simulated"))
    report = SimpleUploadedFile("r.pdf", signed_report(*ca), content_type="application/pdf")
    services.appraisal_deliver(actor=appraiser_user, appraisal=appraisal, report=report, value_minor=1_000_000_00,
                               value_date=timezone.localdate())
    return appraisal, client_user


def test_accepting_and_disputing_at_once_one_wins(tenant, appraisers_ca, settings):
    settings.ESCROW_SIMULATED_PAYMENTS = True
    appraisal, client_user = _delivered(appraisers_ca)
    results = run_at_once(tenant, [
        lambda: services.appraisal_accept(actor=client_user, appraisal=appraisal),
        lambda: services.appraisal_dispute_open(actor=client_user, appraisal=appraisal,
                                                reason="The value ignores the licence recorded on it."),
    ])
    assert len([r for r, e in results if r is not None]) == 1, results
    state = Appraisal.objects.get().state
    assert state in ("completed", "disputed")
    assert JournalEntry.objects.filter(kind="deposit_paid_out").count() == (1 if state == "completed" else 0)
    assert AppraisalDispute.objects.count() == (1 if state == "disputed" else 0)


def test_two_staff_settling_at_once_pay_out_once(tenant, appraisers_ca, settings):
    settings.ESCROW_SIMULATED_PAYMENTS = True
    appraisal, client_user = _delivered(appraisers_ca)
    services.appraisal_dispute_open(actor=client_user, appraisal=appraisal, reason="The comparables are wrong.")
    one, two = finance_staff(), finance_staff()
    results = run_at_once(tenant, [
        lambda: services.appraisal_dispute_settle(actor=one, appraisal=appraisal, outcome="refund",
                                                  note="Refund: the report is unusable.",
                                                  expected_refund_minor=10_000_00),
        lambda: services.appraisal_dispute_settle(actor=two, appraisal=appraisal, outcome="split",
                                                  note="Split: half the work is sound.", refund_minor=5_000_00,
                                                  expected_refund_minor=5_000_00),
    ])
    assert len([r for r, e in results if r is not None]) == 1, results
    assert AppraisalDispute.objects.get().state == "resolved"
    assert Deposit.objects.get().state in (Deposit.State.RETURNED, Deposit.State.PAID_OUT)
    refunds = Disbursement.objects.filter(kind=Disbursement.Kind.REFUND).count()
    assert refunds == 1
    assert JournalEntry.objects.filter(kind__in=["deposit_paid_out", "deposit_returned"]).count() == 1


def test_two_first_payment_starts_at_once_make_one_deposit_and_one_payment(tenant, settings):
    settings.ESCROW_SIMULATED_PAYMENTS = True
    org, client_user, records = rights_holder(n=1)
    colleague = make_member(org=org)
    appraiser, _u = finance_partner(kind=PartnerKind.APPRAISER, fee_minor=10_000_00)
    appraisal = services.appraisal_order(actor=client_user, organization=org, appraiser=appraiser,
                                         record_ids=[records[0].pk])
    results = run_at_once(tenant, [
        lambda u=u: services.appraisal_pay_start(actor=u, appraisal=appraisal, provider="simulated")
        for u in (client_user, colleague)])
    assert all(e is None for _r, e in results), results
    assert results[0][0].pk == results[1][0].pk
    assert Deposit.objects.count() == 1
    assert Payment.objects.count() == 1
