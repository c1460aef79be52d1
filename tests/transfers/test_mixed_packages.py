"""A package whose rights are recorded by different offices is filed once per office; the trade
moves on (and escrow can release) only when every office has approved."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import AuditEvent
from escrow.models import OrderState
from rights.models import RegisterRecord
from tests.factories.transfers import register_right, sign_all_papers, transfer_officer, transfer_order
from transfers.models import FilingStatus, SimulatedOfficeCase
from transfers.selectors import current_filings
from transfers.services import transfer_file, transfer_poll_due, transfer_refile

pytestmark = pytest.mark.django_db


def _mixed_order():
    order, seller, buyer = transfer_order(kind="invention")
    register_right(listing=order.listing, jurisdiction="CN", kind="trademark", number="12345678")
    sign_all_papers(order, seller, buyer)
    return order, seller, buyer


def test_cn_patent_and_trademark_are_two_filings_released_once_both_approve(tenant):
    order, seller, buyer = _mixed_order()
    transfer_file(order=order, actor=transfer_officer())
    order.refresh_from_db()
    filings = current_filings(order)
    assert [f.office for f in filings] == ["cnipa_patent", "cnipa_trademark"]
    assert all(f.status == FilingStatus.FILED for f in filings)
    assert order.state == OrderState.TRANSFER_FILED
    # Each office's cover lists its own right only.
    covers = {d.filing.office: d.data["numbers"] for d in order.transfer_documents.filter(kind="cover", superseded=False)}
    patent_right, mark_right = order.listing.rights.order_by("id")
    assert covers == {"cnipa_patent": [patent_right.number], "cnipa_trademark": [mark_right.number]}

    # The trademark office takes longer: only the patent is approved in this round.
    SimulatedOfficeCase.objects.filter(office="cnipa_trademark").update(decide_at=timezone.now() + timedelta(days=30))
    transfer_poll_due()
    order.refresh_from_db()
    assert order.state == OrderState.TRANSFER_FILED  # not released: the trademark office has not decided
    assert RegisterRecord.objects.get(pk=patent_right.register_record_id).owner_name == order.buyer_org.legal_name
    assert RegisterRecord.objects.get(pk=mark_right.register_record_id).owner_name == order.seller_org.legal_name

    SimulatedOfficeCase.objects.filter(office="cnipa_trademark").update(decide_at=timezone.now())
    for filing in current_filings(order):
        type(filing).objects.filter(pk=filing.pk, status=FilingStatus.FILED).update(next_poll_at=timezone.now())
    transfer_poll_due()
    transfer_poll_due()  # a second run changes nothing
    order.refresh_from_db()
    assert order.state == OrderState.TRANSFER_APPROVED
    assert RegisterRecord.objects.get(pk=mark_right.register_record_id).owner_name == order.buyer_org.legal_name
    assert AuditEvent.objects.filter(object_id=str(order.pk), action="order.approve_transfer").count() == 1


def test_one_office_rejects_only_that_filing_is_refiled(tenant):
    order, seller, buyer = _mixed_order()
    filings = current_filings(order)
    type(filings[1]).objects.filter(pk=filings[1].pk).update(simulated_outcome="reject")
    officer = transfer_officer()
    transfer_file(order=order, actor=officer)
    transfer_poll_due()
    order.refresh_from_db()
    assert order.state == OrderState.TRANSFER_REJECTED
    statuses = {f.office: f.status for f in current_filings(order)}
    assert statuses == {"cnipa_patent": FilingStatus.APPROVED, "cnipa_trademark": FilingStatus.REJECTED}
    refiled = transfer_refile(order=order, actor=officer)
    assert (refiled.office, refiled.attempt, refiled.status) == ("cnipa_trademark", 2, FilingStatus.FILED)
    transfer_poll_due()
    order.refresh_from_db()
    assert order.state == OrderState.TRANSFER_APPROVED
