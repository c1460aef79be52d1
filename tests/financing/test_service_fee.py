"""The exchange's service fee on a pledge loan: the exchange's terms (rate, minimum, days) shown next to
every offer before the borrower accepts one and kept on acceptance; charged when the bank confirms the
disbursement (API, as the bank); paid by the borrower through escrow's payment gateway (summary + second
confirmation) or recorded by staff (summary + second confirmation); one balanced entry each way;
exactly one payment counts."""

import pytest
from django.utils import timezone

from core.errors import Conflict, InvalidTransition, NotAllowed
from escrow import ledger
from escrow.models import AccountKind, Deposit, Disbursement, JournalEntry, Payment
from financing import services
from financing.models import FinancingTerms, LoanApplication, PartnerKind
from tests.factories import (
    api_headers,
    deliver_payment,
    finance_partner,
    finance_staff,
    make_api_key,
    open_application,
    pledged_application,
)

pytestmark = pytest.mark.django_db
EN = {"Accept-Language": "en"}


@pytest.fixture
def world(tenant, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    settings.ESCROW_SIMULATED_PAYMENTS = True
    FinancingTerms.objects.create(tenant=tenant, service_fee_bps=100, service_fee_min_minor=20_000_00,
                                  service_fee_days=20)
    bank = finance_partner(kind=PartnerKind.BANK, legal_name="Bank of Beijing Zhongguancun Branch")
    _k, bank_secret = make_api_key(organization=bank[0].organization)
    return {"tenant": tenant, "bank": bank, "b": {**api_headers(bank_secret), **EN}, "staff": finance_staff()}


def _receivable(application) -> int:
    return ledger.balance(ledger.account(AccountKind.RECEIVABLE, application.currency,
                                         organization=application.applicant_org))


def _disburse(client, world, application, amount_minor):
    r = client.post(f"/api/v1/financing/applications/{application.reference}/disbursement",
                    {"on": str(timezone.localdate()), "amount_minor": amount_minor, "reference": "BJ-1"},
                    content_type="application/json", headers=world["b"])
    assert r.status_code == 200, r.content
    application.refresh_from_db()
    return r.json()


def test_the_fee_is_shown_next_to_each_offer_before_accepting_and_kept_on_acceptance(client, world):
    application, holder, _records = open_application(amount_minor=3_000_000_00)
    bank, banker = world["bank"]
    small, _u = finance_partner(kind=PartnerKind.GUARANTOR)
    services.offer_make(actor=banker, organization=bank.organization, application=application,
                        amount_minor=2_500_000_00, rate_bps=385, term_months=12)
    services.offer_make(actor=_u, organization=small.organization, application=application,
                        amount_minor=1_000_000, rate_bps=500, term_months=12)  # CNY 10,000: the minimum applies
    client.force_login(holder)
    page = client.get(application.get_absolute_url(), headers=EN).content.decode()
    assert "Exchange service fee if this loan is paid out: ¥25,000.00" in page  # 1% of 2.5M
    assert "Exchange service fee if this loan is paid out: ¥10,000.00" in page  # capped at the amount
    assert "1% of the amount paid out, at least ¥20,000.00" in page
    assert "payable within 20 days of the disbursement" in page
    assert "I will pay the exchange's service fee of ¥25,000.00 when the loan is paid out." in page
    holder.language = "zh-hans"
    holder.save(update_fields=["language"])
    zh = client.get(application.get_absolute_url(), headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "若此笔贷款放款，交易所服务费：¥25,000.00" in zh
    # the API shows the same figure on each offer
    _k, holder_secret = make_api_key(organization=application.applicant_org)
    offers = client.get(f"/api/v1/financing/applications/{application.reference}",
                        headers={**api_headers(holder_secret), **EN}).json()["offers"]
    assert sorted(o["service_fee_minor"] for o in offers) == [1_000_000, 2_500_000]
    # accepting keeps the terms shown; a later change of the exchange's terms does not touch this loan
    offer = application.offers.get(lender_org=bank.organization)
    services.offer_accept(actor=holder, offer=offer)
    application.refresh_from_db()
    assert (application.service_fee_bps, application.service_fee_min_minor) == (100, 20_000_00)
    FinancingTerms.objects.update(service_fee_bps=900)
    assert services.loan_fees.application_terms(application).fee(2_500_000_00, "CNY") == 2_500_000


def test_bank_confirms_disbursement_then_the_borrower_pays_through_the_gateway(client, world):
    application, holder, _bank = pledged_application(amount_minor=3_000_000_00, offer_minor=2_500_000_00,
                                                     bank=world["bank"])
    client.force_login(holder)
    # nothing is due before the disbursement
    assert client.get(f"{application.get_absolute_url()}service-fee/pay/").status_code == 302
    with pytest.raises(InvalidTransition, match="falls due when the lender confirms"):
        services.service_fee_pay_start(actor=holder, application=application, provider="simulated")
    body = _disburse(client, world, application, 2_500_000_00)
    assert body["service_fee_minor"] == 2_500_000
    assert body["service_fee_state"] == "due"
    assert body["service_fee_bps"] == 100
    assert application.service_fee_due_on == timezone.localdate() + timezone.timedelta(days=20)
    assert _receivable(application) == 2_500_000
    # the staff pipeline lists it as outstanding
    client.force_login(world["staff"])
    pipeline = client.get("/financing/staff/", headers=EN).content.decode()
    assert "Service fees due" in pipeline
    assert application.reference in pipeline.split("Service fees due")[1]
    # the borrower's page: due, with the pay button
    client.force_login(holder)
    page = client.get(application.get_absolute_url(), headers=EN).content.decode()
    assert "Due by" in page
    assert "Pay the service fee" in page
    # the summary page, then without the second confirmation nothing starts
    summary = client.get(f"{application.get_absolute_url()}service-fee/pay/", headers=EN).content.decode()
    assert "¥25,000.00" in summary
    assert "1% of the amount paid out, at least ¥20,000.00" in summary
    assert "I confirm: pay ¥25,000.00 to the exchange as its service fee on loan" in summary
    r = client.post(f"{application.get_absolute_url()}service-fee/pay/", {"provider": "simulated"}, headers=EN)
    assert r.status_code == 200
    assert not Payment.objects.filter(deposit__subject__startswith="loanfee:").exists()
    r = client.post(f"{application.get_absolute_url()}service-fee/pay/", {"provider": "simulated", "confirm": "yes"})
    assert r.status_code == 302
    payment = Payment.objects.get(deposit__subject=f"loanfee:{application.reference}")
    assert payment.amount_minor == 2_500_000
    deliver_payment(payment)
    application.refresh_from_db()
    assert application.service_fee_paid_at is not None
    assert application.service_fee_paid_via == "simulated"
    assert _receivable(application) == 0
    assert Deposit.objects.get(subject=f"loanfee:{application.reference}").state == Deposit.State.PAID_OUT
    assert ledger.balance(ledger.account(AccountKind.PLATFORM_FEES, "CNY")) == -2_500_000  # revenue: a credit
    assert JournalEntry.objects.filter(kind="deposit_settled_receivable").count() == 1
    assert ledger.entries_unbalanced() == []
    page = client.get(application.get_absolute_url(), headers=EN).content.decode()
    assert "Paid on" in page
    assert "Pay the service fee" not in page
    # paying again is refused
    with pytest.raises(Conflict, match="was paid on"):
        services.service_fee_pay_start(actor=holder, application=application, provider="simulated")


def test_the_minimum_applies_to_a_small_disbursement_and_the_borrower_pays_by_api(client, world):
    application, holder, _bank = pledged_application(amount_minor=2_000_000_00, bank=world["bank"])
    body = _disburse(client, world, application, 1_000_000_00)  # 1% = 10,000 < minimum 20,000
    assert body["service_fee_minor"] == 20_000_00
    _k, holder_secret = make_api_key(organization=application.applicant_org)
    h = {**api_headers(holder_secret), **EN}
    url = f"/api/v1/financing/applications/{application.reference}/service-fee/pay"
    # the bank cannot pay the borrower's fee
    r = client.post(url, {"method": "simulated"}, content_type="application/json", headers=world["b"])
    assert r.status_code == 403, r.content
    r = client.post(url, {"method": "simulated"}, content_type="application/json", headers=h)
    assert r.status_code == 200, r.content
    assert r.json()["payment"]["amount_minor"] == 20_000_00
    assert r.json()["checkout_url"]
    deliver_payment(Payment.objects.get(reference=r.json()["payment"]["reference"]))
    detail = client.get(f"/api/v1/financing/applications/{application.reference}", headers=h).json()
    assert detail["service_fee_state"] == "paid"
    assert detail["service_fee_paid_via"] == "simulated"
    assert ledger.entries_unbalanced() == []


def test_staff_record_a_bank_transfer_after_a_summary_and_a_second_confirmation(client, world):
    application, holder, _bank = pledged_application(amount_minor=3_000_000_00, bank=world["bank"])
    _disburse(client, world, application, 3_000_000_00)
    fee = application.service_fee_minor
    assert fee == 3_000_000
    url = f"{application.get_absolute_url()}service-fee/record/"
    today = str(timezone.localdate())
    # the borrower started a gateway payment, then paid by bank transfer instead
    pending = services.service_fee_pay_start(actor=holder, application=application, provider="simulated")
    # not staff: 404
    client.force_login(holder)
    assert client.post(url, {"received_on": today, "bank_reference": "CMB-1"}).status_code == 404
    client.force_login(world["staff"])
    page = client.get(application.get_absolute_url(), headers=EN).content.decode()
    assert "Record the service fee as received" in page
    # first POST: the summary, nothing recorded
    r = client.post(url, {"received_on": today, "bank_reference": "CMB-1"}, headers=EN)
    text = r.content.decode()
    assert r.status_code == 200
    assert "Nothing is recorded until you confirm" in text
    assert "¥30,000.00" in text
    assert f'name="expected_minor" value="{fee}"' in text
    application.refresh_from_db()
    assert application.service_fee_paid_at is None
    # a confirmation carrying another amount changes nothing
    client.post(url, {"received_on": today, "bank_reference": "CMB-1", "confirm": "yes", "expected_minor": "1"})
    application.refresh_from_db()
    assert application.service_fee_paid_at is None
    assert _receivable(application) == fee
    # the confirmation with the amount shown records it
    r = client.post(url, {"received_on": today, "bank_reference": "CMB-1", "confirm": "yes",
                          "expected_minor": str(fee)})
    assert r.status_code == 302
    application.refresh_from_db()
    assert application.service_fee_paid_via == "recorded"
    assert "CMB-1" in application.service_fee_payment_reference
    assert _receivable(application) == 0
    assert JournalEntry.objects.filter(kind="service_fee_settled").count() == 1
    pending.refresh_from_db()
    assert pending.state == Payment.State.CANCELLED  # the gateway payment it started is closed
    # recording twice is refused, nothing written
    with pytest.raises(Conflict):
        services.service_fee_record_paid(actor=world["staff"], application=application,
                                         received_on=timezone.localdate(), bank_reference="CMB-2", expected_minor=fee)
    assert JournalEntry.objects.filter(kind="service_fee_settled").count() == 1
    assert ledger.entries_unbalanced() == []
    # the borrower is not staff
    with pytest.raises(NotAllowed):
        services.service_fee_record_paid(actor=holder, application=application, received_on=timezone.localdate(),
                                         bank_reference="x", expected_minor=fee)


def test_a_gateway_payment_arriving_after_staff_recorded_the_fee_goes_back(client, world):
    application, holder, _bank = pledged_application(amount_minor=2_000_000_00, bank=world["bank"])
    _disburse(client, world, application, 2_000_000_00)
    fee = application.service_fee_minor
    services.service_fee_pay_start(actor=holder, application=application, provider="simulated")
    # the borrower's provider is slow; staff recorded a bank transfer meanwhile — but the payment had been
    # started with the provider, which confirms it anyway
    services.service_fee_record_paid(actor=world["staff"], application=application, received_on=timezone.localdate(),
                                     bank_reference="CMB-9", expected_minor=fee)
    # a new payment started before the record (simulate: re-open a deposit for the late confirmation)
    deposit = Deposit.objects.get(subject=f"loanfee:{application.reference}")
    assert deposit.state == Deposit.State.RETURNED
    late = Deposit.objects.create(tenant=world["tenant"], subject=deposit.subject, payer_org=deposit.payer_org,
                                  amount_minor=fee, currency=deposit.currency, created_by=holder)
    late_payment = Payment.objects.create(tenant=world["tenant"], purpose=Payment.Purpose.DEPOSIT, deposit=late,
                                          payer_org=deposit.payer_org, provider="simulated", amount_minor=fee,
                                          currency=deposit.currency, reference="DEP-LATE-1", created_by=holder)
    deliver_payment(late_payment)
    late.refresh_from_db()
    assert late.state == Deposit.State.RETURNED
    assert Disbursement.objects.filter(kind=Disbursement.Kind.REFUND, amount_minor=fee).count() == 1
    assert _receivable(application) == 0
    assert LoanApplication.objects.get(pk=application.pk).service_fee_paid_via == "recorded"
    assert ledger.entries_unbalanced() == []


def test_the_lender_confirms_the_disbursement_on_the_website_after_a_summary(client, world):
    application, holder, (bank, banker) = pledged_application(amount_minor=3_000_000_00, bank=world["bank"])
    url = f"{application.get_absolute_url()}disbursed/"
    form = {"on": str(timezone.localdate()), "amount": "2,500,000", "reference": "BJ-55"}
    # the borrower cannot confirm it
    client.force_login(holder)
    assert client.post(url, form).status_code == 404
    client.force_login(banker)
    # first POST: the summary with the fee the borrower will be charged; nothing recorded
    r = client.post(url, form, headers=EN)
    text = r.content.decode()
    assert r.status_code == 200
    assert "Nothing is recorded until you confirm" in text
    assert "¥2,500,000.00" in text
    assert "its service fee of ¥25,000.00" in text
    application.refresh_from_db()
    assert application.disbursed_on is None
    assert not JournalEntry.objects.filter(kind="service_fee_charged").exists()
    # a confirmation carrying another fee changes nothing
    client.post(url, {**form, "confirm": "yes", "expected_fee_minor": "1"})
    application.refresh_from_db()
    assert application.disbursed_on is None
    # the confirmation with the fee shown records it and charges the fee
    r = client.post(url, {**form, "confirm": "yes", "expected_fee_minor": "2500000"})
    assert r.status_code == 302
    application.refresh_from_db()
    assert application.disbursed_amount_minor == 2_500_000_00
    assert application.service_fee_minor == 2_500_000
    assert _receivable(application) == 2_500_000
    assert ledger.entries_unbalanced() == []


def test_an_overdue_fee_is_announced_once_and_a_paid_one_never(client, world):
    from core.models import AuditEvent, Notification
    from financing.tasks import alert_overdue_service_fees

    application, holder, _bank = pledged_application(amount_minor=2_000_000_00, bank=world["bank"])
    _disburse(client, world, application, 2_000_000_00)
    assert alert_overdue_service_fees() == 0  # not due yet
    LoanApplication.objects.filter(pk=application.pk).update(
        service_fee_due_on=timezone.localdate() - timezone.timedelta(days=1))
    assert alert_overdue_service_fees() == 1
    assert alert_overdue_service_fees() == 0  # a second run tells nobody
    alerts = Notification.objects.filter(kind="financing.service_fee_overdue")
    assert alerts.filter(user=holder).count() == 1
    assert alerts.filter(user=world["staff"]).count() == 1
    assert AuditEvent.objects.filter(action="financing.service_fee_overdue").count() == 1
    # the page says overdue
    client.force_login(holder)
    assert "Overdue since" in client.get(application.get_absolute_url(), headers=EN).content.decode()
    # a paid fee is never announced
    other, _h, _b = pledged_application(amount_minor=2_000_000_00, bank=world["bank"])
    _disburse(client, world, other, 2_000_000_00)
    services.service_fee_record_paid(actor=world["staff"], application=other, received_on=timezone.localdate(),
                                     bank_reference="CMB-3", expected_minor=other.service_fee_minor)
    LoanApplication.objects.filter(pk=other.pk).update(
        service_fee_due_on=timezone.localdate() - timezone.timedelta(days=1))
    assert alert_overdue_service_fees() == 0
