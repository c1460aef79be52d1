"""Appraisals end to end: the fee paid through escrow's payment gateway (summary + second confirmation,
simulated provider or bank transfer) and held as a balanced entry; the signed report checked on upload
(pyHanko against a throwaway CA); accepted → paid out; disputed → answered → settled by staff with a
summary and a second confirmation (release / refund / split); cancelled → refunded; the dispute period
ending → released by beat."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.utils import timezone

from core.models import Notification
from escrow import ledger
from escrow.models import AccountKind, Deposit, Disbursement, JournalEntry, JournalLine, Payment
from escrow.services import bank_transfer_record_receipt
from financing import services
from financing.models import Appraisal, AppraisalDispute, PartnerKind
from financing.tasks import release_due_appraisal_fees
from tests.factories import (
    api_headers,
    deliver_payment,
    finance_partner,
    finance_staff,
    make_api_key,
    report_pdf,
    rights_holder,
    signed_report,
    throwaway_ca,
)

pytestmark = pytest.mark.django_db
FEE = 20_000_00


@pytest.fixture
def world(tenant, settings, appraisers_ca):
    settings.API_THROTTLE_RATE = "100000/min"
    settings.ESCROW_SIMULATED_PAYMENTS = True
    org, client_user, records = rights_holder(n=1)
    appraiser, appraiser_user = finance_partner(kind=PartnerKind.APPRAISER, fee_minor=FEE,
                                                legal_name="Zhongguancun Appraisal Co.")
    _k, client_secret = make_api_key(organization=org)
    _k, appraiser_secret = make_api_key(organization=appraiser.organization)
    return {"org": org, "client": client_user, "records": records, "appraiser": appraiser,
            "appraiser_user": appraiser_user, "ca": appraisers_ca,
            "c": {**api_headers(client_secret), "Accept-Language": "en"},
            "a": {**api_headers(appraiser_secret), "Accept-Language": "en"}}


def _order(world) -> Appraisal:
    return services.appraisal_order(actor=world["client"], organization=world["org"], appraiser=world["appraiser"],
                                    record_ids=[world["records"][0].pk])


def _paid(world) -> Appraisal:
    appraisal = _order(world)
    deliver_payment(services.appraisal_pay_start(actor=world["client"], appraisal=appraisal, provider="simulated"))
    appraisal.refresh_from_db()
    assert appraisal.state == "paid"
    return appraisal


def _report(data: bytes):
    return SimpleUploadedFile("report.pdf", data, content_type="application/pdf")


def _delivered(world) -> Appraisal:
    appraisal = _paid(world)
    return services.appraisal_deliver(actor=world["appraiser_user"], appraisal=appraisal,
                                      report=_report(signed_report(*world["ca"])), value_minor=5_000_000_00,
                                      value_date=timezone.localdate())


def _held(appraisal) -> int:
    deposit = Deposit.objects.get(subject=f"appraisal:{appraisal.reference}")
    return ledger.deposit_balance(deposit)


def _all_entries_balance():
    unbalanced = (JournalEntry.objects.annotate(total=Sum("lines__amount_minor")).exclude(total=0))
    assert not unbalanced.exists()


def test_the_fee_is_paid_on_a_payment_page_with_a_summary_and_a_second_confirmation(client, world):
    appraisal = _order(world)
    client.force_login(world["client"])
    page = client.get(f"/financing/appraisals/{appraisal.reference}/pay/", headers={"Accept-Language": "en"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "Zhongguancun Appraisal Co." in text
    assert "20,000.00" in text
    assert world["records"][0].number in text
    assert 'value="simulated"' in text
    assert 'value="bank_transfer"' in text
    # without the second confirmation nothing starts
    r = client.post(f"/financing/appraisals/{appraisal.reference}/pay/", {"provider": "simulated"},
                    headers={"Accept-Language": "en"})
    assert "Tick the box to confirm the payment" in r.content.decode()
    assert not Payment.objects.exists()
    r = client.post(f"/financing/appraisals/{appraisal.reference}/pay/", {"provider": "simulated", "confirm": "yes"})
    payment = Payment.objects.get()
    assert r.status_code == 302
    assert r.url.startswith(f"/orders/{payment.reference}/pay/simulated/")
    provider_page = client.get(r.url, headers={"Accept-Language": "en"}).content.decode()
    assert f"Appraisal {appraisal.reference} by Zhongguancun Appraisal Co." in provider_page
    assert "transfer of the right" not in provider_page
    assert (payment.purpose, payment.amount_minor, payment.currency) == ("deposit", FEE, "CNY")
    deliver_payment(payment)  # what the provider's signed webhook does
    appraisal.refresh_from_db()
    assert appraisal.state == "paid"
    assert _held(appraisal) == FEE
    entry = JournalEntry.objects.get(kind="deposit_paid")
    assert sorted(entry.lines.values_list("amount_minor", flat=True)) == [-FEE, FEE]
    assert Notification.objects.filter(user=world["appraiser_user"], kind="appraisal.ordered").exists()
    page = client.get(f"/financing/appraisals/{appraisal.reference}/", headers={"Accept-Language": "en"})
    assert "Fee held in escrow" in page.content.decode()


def test_the_fee_by_bank_transfer_is_held_when_finance_records_it(client, world):
    appraisal = _order(world)
    r = client.post(f"/api/v1/financing/appraisals/{appraisal.reference}/pay", {"method": "bank_transfer"},
                    content_type="application/json", headers=world["c"])
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["instructions"]["account_number"]
    assert body["instructions"]["reference"] == body["payment"]["reference"]
    payment = Payment.objects.get(reference=body["payment"]["reference"])
    assert bank_transfer_record_receipt(payment=payment, actor=finance_staff(), amount_minor=FEE) == "deposit_held"
    appraisal.refresh_from_db()
    assert appraisal.state == "paid"
    assert _held(appraisal) == FEE


def test_no_bank_transfer_where_the_exchange_has_no_account_in_the_currency(client, world):
    from escrow.models import EscrowBankAccount

    EscrowBankAccount.objects.all().update(is_active=False)
    appraisal = _order(world)
    client.force_login(world["client"])
    text = client.get(f"/financing/appraisals/{appraisal.reference}/pay/").content.decode()
    assert 'value="bank_transfer"' not in text
    r = client.post(f"/api/v1/financing/appraisals/{appraisal.reference}/pay", {"method": "bank_transfer"},
                    content_type="application/json", headers=world["c"])
    assert r.status_code == 400
    assert not Payment.objects.exists()


def test_a_signed_report_is_checked_and_its_signer_shown_then_the_client_accepts(client, world):
    appraisal = _paid(world)
    r = client.post(f"/api/v1/financing/appraisals/{appraisal.reference}/report",
                    {"report": _report(signed_report(*world["ca"])), "value_minor": 5_000_000_00,
                     "value_date": str(timezone.localdate())}, headers=world["a"])
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["state"] == "delivered"
    assert "Test Appraisers CA" in body["report_signer"]
    assert body["dispute_due"]
    assert _held(appraisal) == FEE  # still held until accepted
    client.force_login(world["client"])
    page = client.get(f"/financing/appraisals/{appraisal.reference}/", headers={"Accept-Language": "en"}).content.decode()
    assert "Digitally signed by" in page
    assert "Test Appraisers CA" in page
    r = client.post(f"/api/v1/financing/appraisals/{appraisal.reference}/accept", content_type="application/json",
                    headers=world["c"])
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "completed"
    assert _held(appraisal) == 0
    payout = Disbursement.objects.get(kind=Disbursement.Kind.PAYOUT)
    assert (payout.recipient_org_id, payout.amount_minor) == (world["appraiser"].organization_id, 18_000_00)
    assert not Disbursement.objects.filter(kind=Disbursement.Kind.REFUND).exists()
    assert ledger.balance(ledger.account(AccountKind.PLATFORM_FEES, "CNY")) == -2_000_00
    assert Deposit.objects.get().state == Deposit.State.PAID_OUT
    _all_entries_balance()
    # the value shows in the right's indicators
    v = client.get("/api/v1/valuation", {"number": world["records"][0].number}, headers=world["c"]).json()
    assert any(i["code"] == "appraisal" and "5,000,000" in i["value"] for i in v["indicators"])


@pytest.mark.parametrize("case", ["not_pdf", "unsigned", "tampered", "untrusted"])
def test_a_report_that_is_not_a_trusted_intact_signed_pdf_is_refused(client, world, tmp_path, case):
    appraisal = _paid(world)
    if case == "not_pdf":
        data, message = b"\x89PNG\r\n\x1a\n" + b"0" * 100, "not a PDF"
    elif case == "unsigned":
        data, message = report_pdf(), "not digitally signed"
    elif case == "tampered":
        data = signed_report(*world["ca"], text="Value: CNY 5,000,000.")
        assert data.count(b"5,000,000") == 1
        data, message = data.replace(b"5,000,000", b"9,000,000"), "changed after it was signed"
    else:
        data, message = signed_report(*throwaway_ca(tmp_path, common_name="Unknown Signer")), "Unknown Signer"
    r = client.post(f"/api/v1/financing/appraisals/{appraisal.reference}/report",
                    {"report": _report(data), "value_minor": 5_000_000_00, "value_date": str(timezone.localdate())},
                    headers=world["a"])
    assert r.status_code == 400, r.content
    assert message in r.json()["detail"]
    appraisal.refresh_from_db()
    assert (appraisal.state, appraisal.report_sha256, bool(appraisal.report)) == ("paid", "", False)
    assert _held(appraisal) == FEE


def test_a_disputed_report_is_answered_and_split_by_staff_after_a_summary(client, world):
    appraisal = _delivered(world)
    r = client.post(f"/api/v1/financing/appraisals/{appraisal.reference}/dispute",
                    {"reason": "The comparables used are from another class."}, content_type="application/json",
                    headers=world["c"])
    assert r.status_code == 201, r.content
    assert r.json()["state"] == "disputed"
    assert Notification.objects.filter(user=world["appraiser_user"], kind="appraisal.disputed").exists()
    # the client cannot accept a disputed report; the appraiser answers once
    assert client.post(f"/api/v1/financing/appraisals/{appraisal.reference}/accept", content_type="application/json",
                       headers=world["c"]).status_code == 409
    r = client.post(f"/api/v1/financing/appraisals/{appraisal.reference}/dispute/answer",
                    {"answer": "Class G06F was the nearest with five deals."}, content_type="application/json",
                    headers=world["a"])
    assert r.status_code == 200, r.content
    assert r.json()["dispute"]["answer"].startswith("Class G06F")
    staff = finance_staff()
    client.force_login(staff)
    url = f"/financing/appraisals/{appraisal.reference}/settle/"
    form = {"outcome": "split", "refund": "5000", "note": "Half the comparables were of another class."}
    summary = client.post(url, form, headers={"Accept-Language": "en"})
    text = summary.content.decode()
    assert summary.status_code == 200
    assert "5,000.00" in text
    assert "13,500.00" in text
    assert "1,500.00" in text
    appraisal.refresh_from_db()
    assert appraisal.state == "disputed"
    assert _held(appraisal) == FEE
    r = client.post(url, {**form, "confirm": "yes", "expected_refund_minor": "999"})  # not what was shown
    appraisal.refresh_from_db()
    assert appraisal.state == "disputed"
    r = client.post(url, {**form, "confirm": "yes", "expected_refund_minor": "500000"})
    assert r.status_code == 302
    appraisal.refresh_from_db()
    assert appraisal.state == "completed"
    assert _held(appraisal) == 0
    dispute = AppraisalDispute.objects.get()
    assert (dispute.state, dispute.outcome, dispute.refund_minor) == ("resolved", "split", 5_000_00)
    amounts = dict(Disbursement.objects.values_list("kind", "amount_minor"))
    assert amounts == {Disbursement.Kind.REFUND: 5_000_00, Disbursement.Kind.PAYOUT: 13_500_00}
    _all_entries_balance()
    for user in (world["client"], world["appraiser_user"]):
        assert Notification.objects.filter(user=user, kind="appraisal.dispute_settled").exists()


def test_staff_refund_a_disputed_report_in_full(world):
    appraisal = _delivered(world)
    services.appraisal_dispute_open(actor=world["client"], appraisal=appraisal, reason="The report values the "
                                                                                        "wrong patent.")
    services.appraisal_dispute_settle(actor=finance_staff(), appraisal=appraisal, outcome="refund",
                                      note="The report values another patent.", expected_refund_minor=FEE)
    appraisal.refresh_from_db()
    assert appraisal.state == "refunded"
    assert list(Disbursement.objects.values_list("kind", "amount_minor")) == [(Disbursement.Kind.REFUND, FEE)]
    assert Deposit.objects.get().state == Deposit.State.RETURNED
    _all_entries_balance()


def test_only_staff_settle_and_only_the_client_disputes_within_the_period(client, world):
    from core.errors import InvalidTransition, NotAllowed

    appraisal = _delivered(world)
    with pytest.raises(NotAllowed):
        services.appraisal_dispute_open(actor=world["appraiser_user"], appraisal=appraisal,
                                        reason="I dispute my own report.")
    Appraisal.objects.filter(pk=appraisal.pk).update(dispute_due=timezone.now() - datetime.timedelta(minutes=1))
    r = client.post(f"/api/v1/financing/appraisals/{appraisal.reference}/dispute",
                    {"reason": "Too late but still unhappy."}, content_type="application/json", headers=world["c"])
    assert r.status_code == 409
    assert "period to dispute this report ended" in r.json()["detail"]
    assert not AppraisalDispute.objects.exists()
    with pytest.raises(InvalidTransition):
        services.appraisal_dispute_settle(actor=finance_staff(), appraisal=appraisal, outcome="refund",
                                          note="No dispute here at all.", expected_refund_minor=FEE)
    client.force_login(world["client"])
    r = client.post(f"/financing/appraisals/{appraisal.reference}/settle/",
                    {"outcome": "refund", "note": "I want my money.", "confirm": "yes", "expected_refund_minor": FEE})
    assert r.status_code == 404


def test_beat_releases_the_fee_when_the_dispute_period_ends(world):
    appraisal = _delivered(world)
    assert release_due_appraisal_fees() == 0
    Appraisal.objects.filter(pk=appraisal.pk).update(dispute_due=timezone.now() - datetime.timedelta(seconds=1))
    assert release_due_appraisal_fees() == 1
    appraisal.refresh_from_db()
    assert appraisal.state == "completed"
    assert _held(appraisal) == 0
    assert Disbursement.objects.get().amount_minor == 18_000_00
    assert release_due_appraisal_fees() == 0


def test_cancelling_a_paid_appraisal_refunds_the_fee(client, world):
    appraisal = _paid(world)
    r = client.post(f"/api/v1/financing/appraisals/{appraisal.reference}/cancel", {"reason": "No longer needed"},
                    content_type="application/json", headers=world["c"])
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "cancelled"
    assert _held(appraisal) == 0
    assert list(Disbursement.objects.values_list("kind", "recipient_org", "amount_minor")) == [
        (Disbursement.Kind.REFUND, world["org"].pk, FEE)]
    assert Notification.objects.filter(user=world["appraiser_user"], kind="appraisal.cancelled").exists()
    _all_entries_balance()


def test_a_fee_arriving_after_cancellation_goes_back(world):
    appraisal = _order(world)
    payment = services.appraisal_pay_start(actor=world["client"], appraisal=appraisal, provider="simulated")
    services.appraisal_cancel(actor=finance_staff(), appraisal=appraisal, reason="Ordered twice")
    deliver_payment(payment)  # the payer had already paid on the provider's page
    appraisal.refresh_from_db()
    assert appraisal.state == "cancelled"
    assert Deposit.objects.get().state == Deposit.State.RETURNED
    assert Disbursement.objects.get().kind == Disbursement.Kind.REFUND
    _all_entries_balance()


def test_the_lines_of_every_appraisal_posting_sum_to_zero_per_currency(world):
    _delivered(world)
    assert JournalLine.objects.aggregate(s=Sum("amount_minor"))["s"] == 0


def test_dispute_evidence_files_are_checked_and_only_the_parties_and_staff_see_them(client, world):
    from financing.models import AppraisalDisputeEvidence
    from tests.factories import make_member

    appraisal = _delivered(world)
    url = f"/financing/appraisals/{appraisal.reference}/"
    client.force_login(world["client"])
    fake = SimpleUploadedFile("comparables.pdf", b"MZ\x90\x00 not a pdf" * 10, content_type="application/pdf")
    r = client.post(url, {"action": "dispute", "reason": "The comparables are of another class.", "files": [fake]},
                    headers={"Accept-Language": "en"}, follow=True)
    assert "comparables.pdf" in r.content.decode()  # the message names the refused file
    appraisal.refresh_from_db()
    assert appraisal.state == "delivered"
    assert not AppraisalDispute.objects.exists()
    evidence = SimpleUploadedFile("comparables.pdf", report_pdf("Comparable deals, class G06F"),
                                  content_type="application/pdf")
    client.post(url, {"action": "dispute", "reason": "The comparables are of another class.", "files": [evidence]})
    appraisal.refresh_from_db()
    assert appraisal.state == "disputed"
    [saved] = AppraisalDisputeEvidence.objects.all()
    assert (saved.party, saved.name, saved.content_type) == ("client", "comparables.pdf", "application/pdf")
    page = client.get(url).content.decode()
    assert f"/evidence/{saved.pk}/" in page
    for user in (world["appraiser_user"], finance_staff()):
        client.force_login(user)
        r = client.get(f"{url}evidence/{saved.pk}/")
        assert r.status_code == 200
        assert b"".join(r.streaming_content).startswith(b"%PDF")
    client.force_login(make_member())
    assert client.get(f"{url}evidence/{saved.pk}/").status_code == 404
