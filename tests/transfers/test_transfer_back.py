"""A refund after the office recorded the buyer as owner is a transfer back (issue 11): papers, signatures,
filing, the poller, the Holding back with the seller, and only then the buyer repaid; or a split instead."""

import pytest

from core.errors import Conflict, InvalidTransition, ValidationFailed
from core.models import AuditEvent, Notification
from escrow import ledger
from escrow import services as s
from escrow.models import Disbursement, Dispute, Order, OrderState
from listings.models import Listing
from rights.models import Holding
from tests.factories import escrow_parties, escrow_staff, pay_order, register_right
from tests.factories.transfers import sign_all_papers, transfer_officer
from transfers.models import DocumentKind, FilingKind, FilingStatus, TransferDocument, TransferFiling
from transfers.selectors import current_filing, return_document, return_filings
from transfers.services import document_sign, transfer_back_file, transfer_file, transfer_poll_due

R = OrderState


def recorded_order(outcome="approve"):
    """An assignment paid through the simulated provider, both papers signed, filed, and recorded by the
    simulated office (the poller applied the approval). Returns (order, seller, buyer, officer)."""
    listing, seller, buyer = escrow_parties(price_minor=2_000_000)
    register_right(listing=listing)
    order = s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    s.order_seller_confirm(order=order, actor=seller)
    pay_order(order, buyer)
    sign_all_papers(order, seller, buyer)
    TransferFiling.objects.filter(order=order).update(simulated_outcome=outcome)
    officer = transfer_officer()
    transfer_file(order=order, actor=officer)
    transfer_poll_due()
    order.refresh_from_db()
    assert order.state == R.TRANSFER_APPROVED
    return order, seller, buyer, officer


def sign_back(order, *users):
    document = return_document(order)
    for user in users:
        document_sign(document=document, user=user, typed_name=user.full_name, consent=True)
    return document


def holder(order):
    record = order.listing.rights.get().register_record
    return Holding.objects.get(record=record, ended_at__isnull=True).organization


def repaid(order):
    return sum(d.amount_minor for d in Disbursement.objects.filter(order=order, kind=Disbursement.Kind.REFUND))


def test_refund_after_recordal_transfers_back_before_repaying(tenant):
    # given an order whose transfer the office recorded (the buyer holds the right)
    order, seller, buyer, officer = recorded_order()
    assert holder(order) == order.buyer_org
    staff = escrow_staff()
    # when escrow staff refund it
    s.order_refund(order=order, actor=staff, reason="The patent turned out to be licensed to a third party.")
    # then the buyer is not repaid yet: a transfer back is prepared, the money stays held
    order.refresh_from_db()
    assert order.state == R.RETURN_PENDING
    assert ledger.escrow_balance(order) == order.total_minor
    assert repaid(order) == 0
    back = return_filings(order)
    assert [f.status for f in back] == [FilingStatus.PREPARING]
    assert back[0].kind == FilingKind.RETURN
    paper = return_document(order)
    assert paper.kind == DocumentKind.RETURN
    assert paper.filing_id == back[0].pk
    assert Notification.objects.filter(kind="transfer.return_sign", user=buyer).exists()
    assert current_filing(order).status == FilingStatus.APPROVED  # the original recordal is untouched
    # when both parties sign the assignment back and an officer files it
    sign_back(order, buyer, seller)
    assert Notification.objects.filter(kind="transfer.return_signed", user=seller).exists()
    filed = transfer_back_file(order=order, actor=officer)
    assert [f.status for f in filed] == [FilingStatus.FILED]
    order.refresh_from_db()
    assert order.state == R.RETURN_PENDING
    assert repaid(order) == 0
    # and the poller hears the office record the transfer back
    stats = transfer_poll_due()
    # then the right is the seller's again and the buyer is repaid in full, in one balanced entry
    assert stats.approved == 1
    order.refresh_from_db()
    assert order.state == R.REFUNDED
    assert holder(order) == order.seller_org
    assert repaid(order) == order.total_minor
    assert ledger.escrow_balance(order) == 0
    assert ledger.entries_unbalanced() == []
    assert "office recorded the transfer back" in order.close_reason
    assert order.listing.state == Listing.State.PUBLISHED
    assert AuditEvent.objects.filter(action="transfer.return_approved").exists()


def test_a_dispute_settled_by_refund_after_recordal_also_transfers_back(tenant):
    # given a recorded order the buyer disputes
    order, seller, buyer, officer = recorded_order()
    s.order_dispute_open(order=order, actor=buyer, reason="The certificate names another company.")
    # when staff resolve it with a refund
    s.order_dispute_resolve(order=order, actor=escrow_staff(), outcome="refund", note="Refund after checking.")
    # then the dispute is closed and the transfer back starts; nothing is repaid yet
    order.refresh_from_db()
    assert order.state == R.RETURN_PENDING
    assert Dispute.objects.get(order=order).state == Dispute.State.RESOLVED
    assert repaid(order) == 0
    assert len(return_filings(order)) == 1


def test_staff_settle_by_a_split_instead(tenant):
    # given a transfer back not filed yet
    order, seller, buyer, officer = recorded_order()
    staff = escrow_staff()
    s.order_staff_cancel(order=order, actor=staff, reason="Buyer no longer wants it.")
    order.refresh_from_db()
    assert order.state == R.RETURN_PENDING
    # when staff settle by a split instead
    s.order_return_split(order=order, actor=staff, refund_minor=500_000, expected_refund_minor=500_000,
                         note="The parties agreed: the buyer keeps the patent at a lower price.")
    # then the buyer keeps the right, part comes back, the seller gets the rest after fees, balanced
    order.refresh_from_db()
    assert order.state == R.SETTLED
    assert holder(order) == order.buyer_org
    assert repaid(order) == 500_000
    payout = Disbursement.objects.get(order=order, kind=Disbursement.Kind.PAYOUT).amount_minor
    assert repaid(order) + payout <= order.total_minor
    assert ledger.escrow_balance(order) == 0
    assert ledger.entries_unbalanced() == []
    assert [f.status for f in return_filings(order)] == [FilingStatus.WITHDRAWN]
    assert order.listing.state == Listing.State.SOLD


def test_split_refused_once_the_transfer_back_is_with_the_office(tenant, settings):
    order, seller, buyer, officer = recorded_order()
    settings.SIMULATION_TIME_SCALE = 1.0  # the office takes its time over the transfer back
    staff = escrow_staff()
    s.order_refund(order=order, actor=staff, reason="Wrong patent.")
    sign_back(order, seller, buyer)
    transfer_back_file(order=order, actor=officer)
    with pytest.raises(Conflict, match="with the office already"):
        s.order_return_split(order=order, actor=staff, refund_minor=100_000, note="Too late.")
    order.refresh_from_db()
    assert order.state == R.RETURN_PENDING
    assert repaid(order) == 0


def test_a_rejected_transfer_back_is_filed_again(tenant):
    order, seller, buyer, officer = recorded_order()
    s.order_refund(order=order, actor=escrow_staff(), reason="Wrong patent.")
    sign_back(order, seller, buyer)
    first = return_filings(order)[0]
    TransferFiling.objects.filter(pk=first.pk).update(simulated_outcome="reject")
    transfer_back_file(order=order, actor=officer)
    transfer_poll_due()
    first.refresh_from_db()
    assert first.status == FilingStatus.REJECTED
    assert Notification.objects.filter(kind="transfer.return_rejected", user=officer).exists()
    order.refresh_from_db()
    assert order.state == R.RETURN_PENDING
    assert repaid(order) == 0
    # filed again: a new attempt, which the office records
    again = transfer_back_file(order=order, actor=officer)[0]
    assert again.attempt == 2
    assert again.kind == FilingKind.RETURN
    transfer_poll_due()
    order.refresh_from_db()
    assert order.state == R.REFUNDED
    assert repaid(order) == order.total_minor


def test_refund_before_recordal_is_a_plain_refund(tenant):
    # given an order filed but not recorded
    listing, seller, buyer = escrow_parties()
    register_right(listing=listing)
    order = s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    s.order_seller_confirm(order=order, actor=seller)
    pay_order(order, buyer)
    # when refunded
    s.order_refund(order=order, actor=escrow_staff(), reason="Seller withdrew.")
    # then the buyer is repaid at once; no transfer back
    order.refresh_from_db()
    assert order.state == R.REFUNDED
    assert repaid(order) == order.total_minor
    assert not TransferFiling.objects.filter(order=order, kind=FilingKind.RETURN).exists()


def test_bad_input_changes_nothing(tenant):
    order, seller, buyer, officer = recorded_order()
    staff = escrow_staff()
    # a transfer back on an order that has none under way
    with pytest.raises(InvalidTransition, match="no transfer back"):
        transfer_back_file(order=order, actor=officer)
    with pytest.raises(InvalidTransition, match="no transfer back"):
        s.order_return_split(order=order, actor=staff, refund_minor=1000, note="x")
    # a party cannot refund; a refund needs a reason
    with pytest.raises(Exception, match="escrow staff"):
        s.order_refund(order=order, actor=buyer, reason="Mine")
    with pytest.raises(ValidationFailed):
        s.order_refund(order=order, actor=staff, reason=" ")
    order.refresh_from_db()
    assert order.state == R.TRANSFER_APPROVED
    # refund twice
    s.order_refund(order=order, actor=staff, reason="Wrong patent.")
    with pytest.raises(InvalidTransition, match="already under way"):
        s.order_refund(order=order, actor=staff, reason="Again.")
    assert TransferFiling.objects.filter(order=order, kind=FilingKind.RETURN).count() == 1
    # filing before both signed; signing by a stranger or with another name
    with pytest.raises(ValidationFailed, match="Both parties must sign"):
        transfer_back_file(order=order, actor=officer)
    with pytest.raises(Exception, match="Only members"):
        document_sign(document=return_document(order), user=staff, typed_name=staff.full_name, consent=True)
    with pytest.raises(ValidationFailed):
        document_sign(document=return_document(order), user=buyer, typed_name="Somebody Else", consent=True)
    # a split with an amount other than the one confirmed
    with pytest.raises(Conflict):
        s.order_return_split(order=order, actor=staff, refund_minor=1000, expected_refund_minor=2000, note="x")
    order.refresh_from_db()
    assert order.state == R.RETURN_PENDING
    assert not return_document(order).signatures.exists()
    assert repaid(order) == 0
    assert ledger.entries_unbalanced() == []


def test_the_original_papers_stay_apart_from_the_assignment_back(tenant):
    order, seller, buyer, officer = recorded_order()
    s.order_refund(order=order, actor=escrow_staff(), reason="Wrong patent.")
    kinds = set(TransferDocument.objects.filter(order=order, superseded=False).values_list("kind", flat=True))
    assert DocumentKind.RETURN in kinds
    assert DocumentKind.AGREEMENT in kinds
    # the original papers can no longer be signed; the assignment back can
    agreement = TransferDocument.objects.get(order=order, kind=DocumentKind.AGREEMENT, superseded=False)
    assert agreement.signatures.count() == 2
    assert Order.objects.get(pk=order.pk).state == R.RETURN_PENDING


@pytest.mark.django_db(transaction=True)
def test_two_officers_refund_at_once_one_transfer_back(tenant):
    """Two escrow officers press refund on the same recorded order at the same moment, each on its own
    database connection: exactly one starts the transfer back, the other is told it is under way."""
    from tests.escrow.test_concurrency import run_at_once

    order, seller, buyer, officer = recorded_order()
    staff = [escrow_staff(), escrow_staff()]
    results = run_at_once(tenant, [lambda u=u: s.order_refund(order=order, actor=u, reason="Wrong patent.")
                                   for u in staff])
    winners = [r for r, e in results if r is not None]
    errors = [e for r, e in results if e is not None]
    assert len(winners) == 1
    assert len(errors) == 1
    assert isinstance(errors[0], InvalidTransition)
    assert "already under way" in str(errors[0])
    order.refresh_from_db()
    assert order.state == R.RETURN_PENDING
    assert TransferFiling.objects.filter(order=order, kind=FilingKind.RETURN).count() == 1
    assert TransferDocument.objects.filter(order=order, kind=DocumentKind.RETURN).count() == 1
    assert repaid(order) == 0


def test_admin_refund_summary_says_transfer_back_then_split_instead(tenant, client):
    order, seller, buyer, officer = recorded_order()
    staff = escrow_staff()
    client.force_login(staff)
    change = client.get(f"/admin/escrow/order/{order.pk}/change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"/admin/escrow/order/{order.pk}/refund/" in change
    url = f"/admin/escrow/order/{order.pk}/refund/"
    # first the summary: the transfer back, when the buyer is repaid; nothing happens yet
    summary = client.post(url, {"reason": "Wrong patent"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Transfer back to the seller first" in summary
    assert 'name="confirmed" value="yes"' in summary
    order.refresh_from_db()
    assert order.state == R.TRANSFER_APPROVED
    # the second confirmation starts the transfer back
    assert client.post(url, {"reason": "Wrong patent", "confirmed": "yes"}).status_code == 302
    order.refresh_from_db()
    assert order.state == R.RETURN_PENDING
    assert repaid(order) == 0
    # the admin now offers a split instead, with its own summary and confirmation
    change = client.get(f"/admin/escrow/order/{order.pk}/change/").content.decode()
    split_url = f"/admin/escrow/order/{order.pk}/return-split/"
    assert split_url in change
    summary = client.post(split_url, {"refund": "5,000.00", "reason": "Agreed"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "the buyer keeps the rights" in summary.content.decode()
    assert client.post(split_url, {"refund": "5,000.00", "reason": "Agreed", "confirmed": "yes"}).status_code == 302
    order.refresh_from_db()
    assert order.state == R.SETTLED
    assert repaid(order) == 500_000


def test_order_page_signing_and_filing_the_transfer_back(tenant, client):
    order, seller, buyer, officer = recorded_order()
    s.order_refund(order=order, actor=escrow_staff(), reason="Wrong patent.")
    paper = return_document(order)
    # the buyer sees the transfer back and signs the assignment back on its paper page
    client.force_login(buyer)
    page = client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Transfer back to the seller" in page
    assert f"/transfers/papers/{paper.pk}/" in page
    assert "Read and sign the assignment back" in page
    response = client.post(f"/transfers/papers/{paper.pk}/", {"typed_name": buyer.full_name, "consent": "on",
                                                               "sha256": paper.sha256})
    assert response.status_code == 302
    assert paper.signatures.filter(party="buyer").exists()
    # the buyer cannot file it
    assert client.post(f"/transfers/orders/{order.pk}/file-back/", {"confirmed": "yes"}).status_code in (302, 403, 404)
    assert return_filings(order)[0].status == FilingStatus.PREPARING
    # zh-Hans: the panel speaks Chinese
    type(buyer).objects.filter(pk=buyer.pk).update(language="zh-hans")
    zh = client.get(order.get_absolute_url()).content.decode()
    assert "返还转让给卖方" in zh
    assert "阅读并签署返还转让协议" not in zh
    assert "Transfer back" not in zh
    assert "assignment back" not in zh
    type(buyer).objects.filter(pk=buyer.pk).update(language="en")
    # the seller signs; the officer files without ticking the confirmation: nothing filed; then ticks it
    client.force_login(seller)
    client.post(f"/transfers/papers/{paper.pk}/", {"typed_name": seller.full_name, "consent": "on",
                                                   "sha256": paper.sha256})
    client.force_login(officer)
    page = client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "File the transfer back with the office" in page
    client.post(f"/transfers/orders/{order.pk}/file-back/", {})
    assert return_filings(order)[0].status == FilingStatus.PREPARING
    assert client.post(f"/transfers/orders/{order.pk}/file-back/", {"confirmed": "yes"}).status_code == 302
    assert return_filings(order)[0].status == FilingStatus.FILED
