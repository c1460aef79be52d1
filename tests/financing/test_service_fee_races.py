"""The service fee of one loan, paid twice at once on separate database connections: the borrower's
gateway payment arriving while staff record a bank transfer — exactly one settles it."""

import pytest
from django.utils import timezone

from escrow import ledger
from escrow.models import AccountKind, JournalEntry
from financing import services
from financing.models import LoanApplication, PartnerKind
from tests.escrow.test_concurrency import run_at_once
from tests.factories import deliver_payment, finance_partner, finance_staff, pledged_application

pytestmark = pytest.mark.django_db(transaction=True)


def test_gateway_payment_and_staff_record_at_once_settle_the_fee_once(tenant, settings):
    settings.ESCROW_SIMULATED_PAYMENTS = True
    bank = finance_partner(kind=PartnerKind.BANK)
    application, holder, _b = pledged_application(amount_minor=2_000_000_00, bank=bank)
    services.loan_confirm_disbursement(actor=bank[1], application=application, disbursed_on=timezone.localdate(),
                                       amount_minor=2_000_000_00)
    application.refresh_from_db()
    fee = application.service_fee_minor
    assert fee == 1_000_000  # 0.5% (settings' default, no terms row)
    payment = services.service_fee_pay_start(actor=holder, application=application, provider="simulated")
    staff = finance_staff()
    results = run_at_once(tenant, [
        lambda: deliver_payment(payment),
        lambda: services.service_fee_record_paid(actor=staff, application=application,
                                                 received_on=timezone.localdate(), bank_reference="CMB-7",
                                                 expected_minor=fee),
    ])
    assert all(not isinstance(e, Exception) or "was paid on" in str(e) for _r, e in results), results
    settled = (JournalEntry.objects.filter(kind="service_fee_settled").count()
               + JournalEntry.objects.filter(kind="deposit_settled_receivable").count())
    assert settled == 1
    receivable = ledger.account(AccountKind.RECEIVABLE, application.currency, organization=application.applicant_org)
    assert ledger.balance(receivable) == 0
    assert LoanApplication.objects.get(pk=application.pk).service_fee_paid_via in ("simulated", "recorded")
    assert ledger.entries_unbalanced() == []
