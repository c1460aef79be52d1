"""Running royalties: the licensee reports each period, the platform invoices, the payment goes through
escrow's ledger to the licensor (less the exchange's commission), and a missed report is a deadline."""

import datetime

import pytest
from django.utils import timezone

from core.errors import NotAllowed
from escrow import ledger
from escrow.models import AccountKind, Disbursement, JournalEntry
from negotiation import royalties
from negotiation.models import Licence, RoyaltyReport
from negotiation.tasks import enforce_royalty_deadlines
from tests.factories import deliver_payment, licence_listing
from tests.negotiation.test_licences import drive_to_completion, negotiated

pytestmark = pytest.mark.django_db


def recorded_licence(royalty_bps=300, minimum=10_000):
    listing, seller = licence_listing(exclusive=False)
    offer, buyer = negotiated(listing, seller, royalty_bps=royalty_bps)
    from negotiation.models import Offer

    Offer.objects.filter(pk=offer.pk)  # terms carry royalty_minimum_minor=10_000 (see negotiated)
    drive_to_completion(offer.order, seller, buyer)
    return Licence.objects.get(order=offer.order), seller, buyer


def test_report_invoice_pay_through_escrow_to_the_licensor(tenant):
    licence, seller, buyer = recorded_licence()
    # the office recorded the licence: the first quarter is open
    report = RoyaltyReport.objects.get(licence=licence)
    assert report.state == RoyaltyReport.State.DUE
    assert (report.period_end - report.period_start).days in range(88, 93)
    with pytest.raises(NotAllowed):
        royalties.royalty_report(report=report, actor=seller, base_minor=1_000_000)
    # the licensee reports 2,000,000.00 of net sales: 3 % = 60,000.00 invoiced
    report = royalties.royalty_report(report=report, actor=buyer, base_minor=200_000_000)
    assert (report.state, report.royalty_minor) == (RoyaltyReport.State.INVOICED, 6_000_000)
    payment = royalties.royalty_pay_start(report=report, actor=buyer, provider="simulated")
    deliver_payment(payment)
    report.refresh_from_db()
    assert report.state == RoyaltyReport.State.PAID
    # the ledger: provider clearing in, licensor payable out (less the commission), payout queued
    entry = JournalEntry.objects.get(kind="royalty_received")
    lines = {(line.account.kind, line.account.organization_id): line.amount_minor for line in entry.lines.all()}
    fee = 6_000_000 * licence.order.seller_commission_bps // 10_000
    assert lines[(AccountKind.SELLER_PAYABLE, licence.licensor_org_id)] == -(6_000_000 - fee)
    assert sum(lines.values()) == 0
    payout = Disbursement.objects.get(payment=payment, kind=Disbursement.Kind.PAYOUT)
    assert (payout.recipient_org_id, payout.amount_minor) == (licence.licensor_org_id, 6_000_000 - fee)
    assert not ledger.entries_unbalanced()
    # the next period is open
    assert RoyaltyReport.objects.filter(licence=licence, state=RoyaltyReport.State.DUE).count() == 1


def test_the_minimum_applies_and_a_missed_report_is_a_deadline(tenant):
    licence, _seller, buyer = recorded_licence()
    report = RoyaltyReport.objects.get(licence=licence)
    RoyaltyReport.objects.filter(pk=report.pk).update(report_due=timezone.now() - datetime.timedelta(hours=1))
    assert enforce_royalty_deadlines()[tenant.pk] == 1
    report.refresh_from_db()
    assert report.state == RoyaltyReport.State.REPORT_OVERDUE
    assert enforce_royalty_deadlines()[tenant.pk] == 0  # told once
    # late, the licensee still reports: small sales, the period's minimum is invoiced
    report = royalties.royalty_report(report=report, actor=buyer, base_minor=1_000)
    assert report.royalty_minor == 10_000


def test_the_licensee_reports_and_pays_on_the_licence_page(client, tenant):
    licence, seller, buyer = recorded_licence()
    report = RoyaltyReport.objects.get(licence=licence)
    client.force_login(buyer)
    page = client.get(f"/deals/licences/{licence.pk}/").content.decode()
    assert "Report" in page
    client.post(f"/deals/royalties/{report.pk}/report/", {"base": "20,000.00"})
    report.refresh_from_db()
    assert (report.state, report.royalty_minor) == (RoyaltyReport.State.INVOICED, 60_000)
    r = client.post(f"/deals/royalties/{report.pk}/pay/")
    assert r.status_code == 302
    assert "/pay/simulated/" in r["Location"]
    # the licensor sees the invoice; a stranger gets 404
    client.force_login(seller)
    assert client.get(f"/deals/licences/{licence.pk}/").status_code == 200
    from tests.factories import make_member

    client.force_login(make_member())
    assert client.get(f"/deals/licences/{licence.pk}/").status_code == 404
