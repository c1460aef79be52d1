"""Order services: each transition, who may trigger it, what it does to the listing and the money."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Role
from core.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from core.models import AuditEvent, Notification
from escrow import ledger
from escrow import services as s
from escrow.models import Disbursement, JournalEntry, Order, OrderState
from listings.models import Listing
from tests.factories import (
    deliver_payment,
    escrow_listing,
    escrow_parties,
    escrow_staff,
    make_member,
    order_in_state,
    pay_order,
)

S = OrderState
pytestmark = pytest.mark.django_db


def test_place_snapshots_fees_reserves_listing_and_tells_both_parties(tenant):
    # given a published listing at ¥10,000.00 and the tenant's fees 2% buyer / 5% seller, min ¥100
    listing, seller, buyer = escrow_parties(price_minor=1_000_000)
    # when the buyer orders it
    order = s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    # then the fees are copied onto the order and the listing is reserved
    assert order.state == S.PLACED
    assert order.reference.startswith("IPX-")
    assert (order.price_minor, order.buyer_fee_minor, order.seller_commission_minor) == (1_000_000, 20_000, 50_000)
    assert order.total_minor == 1_020_000
    assert order.payout_minor == 950_000
    assert order.seller_confirm_due > timezone.now()
    listing.refresh_from_db()
    assert listing.state == Listing.State.RESERVED
    assert Notification.objects.filter(user__in=[buyer, seller], kind="order.place").count() == 2
    assert AuditEvent.objects.filter(action="order.place", object_id=str(order.pk)).exists()
    # and a later change of the tenant's schedule does not alter the order
    tenant.buyer_fee_bps = 900
    tenant.save()
    order.refresh_from_db()
    assert order.buyer_fee_minor == 20_000


def test_minimum_fee_applies_to_small_prices(tenant):
    listing, seller, buyer = escrow_parties(price_minor=100_000)  # ¥1,000: 2% = ¥20 < ¥100 minimum
    order = s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    assert order.buyer_fee_minor == 10_000
    assert order.seller_commission_minor == 10_000


@pytest.mark.parametrize("case", ["own_org", "no_org", "terms", "not_published", "taken"])
def test_place_refusals(tenant, case):
    listing, seller, buyer = escrow_parties()
    kwargs = {"listing": listing, "buyer": buyer, "terms_accepted": True}
    if case == "own_org":
        kwargs["buyer"] = make_member(roles=(Role.BUYER,), org=listing.seller_org)
        error = NotAllowed
    elif case == "no_org":
        kwargs["buyer"] = make_member(roles=(Role.BUYER,), org=False)
        error = NotAllowed
    elif case == "terms":
        kwargs["terms_accepted"] = False
        error = ValidationFailed
    elif case == "not_published":
        kwargs["listing"] = escrow_listing(state=Listing.State.DRAFT)
        error = InvalidTransition
    else:
        s.order_place(listing=listing, buyer=make_member(), terms_accepted=True)
        error = Conflict
    with pytest.raises(error) as exc:
        s.order_place(**kwargs)
    if case == "taken":
        assert "moment ago" in str(exc.value)
    assert Order.objects.filter(listing=kwargs["listing"]).count() == (1 if case == "taken" else 0)


def test_only_the_seller_confirms_and_declines(tenant):
    order, seller, buyer = order_in_state(S.PLACED)
    stranger = make_member()
    for actor in (buyer, stranger):
        with pytest.raises(NotAllowed):
            s.order_seller_confirm(order=order, actor=actor)
        with pytest.raises(NotAllowed):
            s.order_seller_decline(order=order, actor=actor)
    s.order_seller_confirm(order=order, actor=seller)
    order.refresh_from_db()
    assert order.state == S.SELLER_CONFIRMED
    assert order.payment_due > timezone.now()
    with pytest.raises(InvalidTransition):
        s.order_seller_confirm(order=order, actor=seller)


def test_seller_decline_releases_listing(tenant):
    order, seller, buyer = order_in_state(S.PLACED)
    s.order_seller_decline(order=order, actor=seller, reason="Licence already granted")
    order.refresh_from_db()
    order.listing.refresh_from_db()
    assert order.state == S.CANCELLED
    assert order.close_reason == "Licence already granted"
    assert order.listing.state == Listing.State.PUBLISHED


def test_buyer_cancels_before_paying_but_not_after(tenant):
    order, seller, buyer = order_in_state(S.SELLER_CONFIRMED)
    with pytest.raises(NotAllowed):
        s.order_buyer_cancel(order=order, actor=seller)
    s.order_buyer_cancel(order=order, actor=buyer)
    order.refresh_from_db()
    assert order.state == S.CANCELLED
    funded, _seller, buyer2 = order_in_state(S.FUNDED)
    with pytest.raises(InvalidTransition):
        s.order_buyer_cancel(order=funded, actor=buyer2)


def test_expire_only_after_the_deadline(tenant):
    order, seller, buyer = order_in_state(S.PLACED)
    assert s.order_expire(order=order).state == S.PLACED  # not yet due: no-op
    Order.objects.filter(pk=order.pk).update(seller_confirm_due=timezone.now() - timedelta(minutes=1))
    assert s.order_expire(order=order).state == S.CANCELLED
    order.listing.refresh_from_db()
    assert order.listing.state == Listing.State.PUBLISHED
    confirmed, seller, buyer = order_in_state(S.SELLER_CONFIRMED)
    Order.objects.filter(pk=confirmed.pk).update(payment_due=timezone.now() - timedelta(minutes=1))
    assert s.order_expire(order=confirmed).state == S.CANCELLED


def test_payment_funds_the_order_and_the_escrow_holds_the_total(tenant):
    order, seller, buyer = order_in_state(S.SELLER_CONFIRMED)
    pay_order(order, buyer)
    assert order.state == S.FUNDED
    assert order.filing_due is not None
    assert ledger.escrow_balance(order) == order.total_minor
    assert ledger.entries_unbalanced() == []


def test_full_trade_pays_the_seller_and_keeps_the_fees(tenant):
    order, seller, buyer = order_in_state(S.COMPLETED)
    assert order.state == S.COMPLETED
    assert ledger.escrow_balance(order) == 0
    payout = Disbursement.objects.get(order=order, kind=Disbursement.Kind.PAYOUT)
    assert payout.amount_minor == order.price_minor - order.seller_commission_minor
    assert s.disbursement_execute(disbursement_id=payout.pk) == "paid"
    assert s.disbursement_execute(disbursement_id=payout.pk) == "done"  # twice: once
    totals = ledger.totals_by_kind()
    assert totals[("platform_fees", "CNY")] == -(order.buyer_fee_minor + order.seller_commission_minor)
    assert totals[("provider_clearing", "CNY")] == order.buyer_fee_minor + order.seller_commission_minor
    order.listing.refresh_from_db()
    assert order.listing.state == Listing.State.SOLD
    statement = ledger.order_statement(order)
    assert statement["paid"] == order.total_minor
    assert statement["held"] == 0
    assert statement["paid_out"] == order.payout_minor


def test_only_the_buyer_confirms_the_certificate_after_approval(tenant):
    order, seller, buyer = order_in_state(S.TRANSFER_FILED)
    with pytest.raises(InvalidTransition):
        s.order_confirm_certificate(order=order, actor=buyer)
    order, seller, buyer = order_in_state(S.TRANSFER_APPROVED)
    assert order.inspection_due is not None
    with pytest.raises(NotAllowed):
        s.order_confirm_certificate(order=order, actor=seller)


def test_auto_confirm_after_inspection_deadline(tenant):
    order, seller, buyer = order_in_state(S.TRANSFER_APPROVED)
    assert s.order_auto_confirm(order=order).state == S.TRANSFER_APPROVED
    Order.objects.filter(pk=order.pk).update(inspection_due=timezone.now() - timedelta(seconds=1))
    assert s.order_auto_confirm(order=order).state == S.COMPLETED


def test_order_step_checks_state_with_a_clear_message(tenant):
    order, seller, buyer = order_in_state(S.SELLER_CONFIRMED)
    from django.db import transaction

    with pytest.raises(InvalidTransition, match="cannot do"), transaction.atomic():
        s.order_step(s.lock_order(order.pk), "file_transfer")
    with pytest.raises(InvalidTransition), transaction.atomic():
        s.order_step(s.lock_order(order.pk), "complete")  # not a transfer step


def test_refund_by_staff_returns_the_money_and_publishes_the_listing(tenant):
    order, seller, buyer = order_in_state(S.TRANSFER_FILED)
    with pytest.raises(NotAllowed):
        s.order_refund(order=order, actor=buyer, reason="please")
    with pytest.raises(ValidationFailed):
        s.order_refund(order=order, actor=escrow_staff(), reason="  ")
    s.order_refund(order=order, actor=escrow_staff(), reason="Office refused twice")
    order.refresh_from_db()
    order.listing.refresh_from_db()
    assert order.state == S.REFUNDED
    assert order.listing.state == Listing.State.PUBLISHED
    assert ledger.escrow_balance(order) == 0
    refund = Disbursement.objects.get(order=order, kind=Disbursement.Kind.REFUND)
    assert refund.amount_minor == order.total_minor
    assert refund.provider == "simulated"
    s.disbursement_execute(disbursement_id=refund.pk)
    assert ledger.totals_by_kind()[("provider_clearing", "CNY")] == 0


def test_dispute_by_either_party_then_staff_continue_or_refund(tenant):
    order, seller, buyer = order_in_state(S.TRANSFER_FILED)
    with pytest.raises(NotAllowed):
        s.order_dispute_open(order=order, actor=make_member(), reason="x")
    with pytest.raises(ValidationFailed):
        s.order_dispute_open(order=order, actor=seller, reason="")
    dispute = s.order_dispute_open(order=order, actor=seller, reason="Buyer will not sign")
    order.refresh_from_db()
    assert order.state == S.DISPUTED
    assert dispute.party == "seller"
    staff = escrow_staff()
    with pytest.raises(NotAllowed):
        s.order_dispute_resolve(order=order, actor=buyer, outcome="continue", note="no")
    s.order_dispute_resolve(order=order, actor=staff, outcome="continue", note="Both agreed to sign")
    order.refresh_from_db()
    assert order.state == S.TRANSFER_FILED
    s.order_dispute_open(order=order, actor=buyer, reason="Wrong patent")
    s.order_dispute_resolve(order=order, actor=staff, outcome="refund", note="Patent number mismatch")
    order.refresh_from_db()
    assert order.state == S.REFUNDED
    assert ledger.escrow_balance(order) == 0


def test_dispute_evidence_is_checked_by_content(tenant):
    from django.core.files.uploadedfile import SimpleUploadedFile

    order, seller, buyer = order_in_state(S.FUNDED)
    fake = SimpleUploadedFile("evidence.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationFailed, match="evidence.pdf"):
        s.order_dispute_open(order=order, actor=buyer, reason="x", files=[fake])
    order.refresh_from_db()
    assert order.state == S.FUNDED
    real = SimpleUploadedFile("letter.pdf", b"%PDF-1.4\n%...", content_type="application/pdf")
    dispute = s.order_dispute_open(order=order, actor=buyer, reason="See letter", files=[real])
    assert dispute.evidence.get().content_type == "application/pdf"


def test_staff_cancel_needs_reason_and_refunds_funded_orders(tenant):
    order, seller, buyer = order_in_state(S.FUNDED)
    staff = escrow_staff(roles=(Role.ESCROW_OFFICER,))
    with pytest.raises(ValidationFailed):
        s.order_staff_cancel(order=order, actor=staff, reason="")
    s.order_staff_cancel(order=order, actor=staff, reason="Court injunction on the patent")
    order.refresh_from_db()
    assert order.state == S.REFUNDED
    placed, seller, buyer = order_in_state(S.PLACED)
    s.order_staff_cancel(order=placed, actor=staff, reason="Fraud suspicion")
    placed.refresh_from_db()
    assert placed.state == S.CANCELLED
    finance_only = escrow_staff(roles=(Role.FINANCE,))
    other, seller, buyer = order_in_state(S.PLACED)
    with pytest.raises(NotAllowed):
        s.order_staff_cancel(order=other, actor=finance_only, reason="x")


def test_seller_default_refunds_buyer_and_forfeits_margin(tenant):
    # given a listing whose seller paid a ¥500 margin
    listing, seller, buyer = escrow_parties(listing_state=Listing.State.AWAITING_MARGIN)
    tenant.margin_fixed_minor = 50_000
    tenant.save()
    payment = s.margin_pay_start(listing=listing, actor=seller, provider="simulated")
    assert deliver_payment(payment) == "margin_held"
    listing.refresh_from_db()
    assert listing.state == Listing.State.PUBLISHED
    assert ledger.margin_balance(listing) == 50_000
    order, seller, buyer = order_in_state(S.FUNDED, listing=listing, seller=seller, buyer=buyer)
    # when the seller misses the filing deadline
    s.order_seller_default(order=order, reason="Papers not signed in time")
    # then the buyer gets the payment back and the margin
    order.refresh_from_db()
    assert order.state == S.REFUNDED
    assert ledger.margin_balance(listing) == 0
    kinds = dict(Disbursement.objects.filter(recipient_org=order.buyer_org).values_list("kind", "amount_minor"))
    assert kinds == {"refund": order.total_minor, "margin_forfeit": 50_000}


def test_margin_returned_on_completion(tenant):
    listing, seller, buyer = escrow_parties(listing_state=Listing.State.AWAITING_MARGIN)
    tenant.margin_bps = 100  # 1% of ¥10,000 = ¥100
    tenant.save()
    deliver_payment(s.margin_pay_start(listing=listing, actor=seller, provider="simulated"))
    order, seller, buyer = order_in_state(S.COMPLETED, listing=listing, seller=seller, buyer=buyer)
    returned = Disbursement.objects.get(listing=listing, kind=Disbursement.Kind.MARGIN_RETURN)
    assert returned.amount_minor == 10_000
    assert returned.recipient_org == listing.seller_org
    assert ledger.margin_balance(listing) == 0


def test_margin_return_is_a_noop_without_margin(tenant):
    listing, seller, buyer = escrow_parties()
    from django.db import transaction

    with transaction.atomic():
        assert s.margin_return(listing=listing, actor=seller) is None
    assert not JournalEntry.objects.exists()


def test_emails_are_sent_after_commit(tenant, django_capture_on_commit_callbacks, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    listing, seller, buyer = escrow_parties()
    with django_capture_on_commit_callbacks() as callbacks:
        s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    assert callbacks  # notifications and events are published on commit
    assert len(mail.outbox) == 0


def test_other_tenant_orders_are_invisible(tenant, other_tenant):
    order, seller, buyer = order_in_state(S.PLACED)
    from django.db import transaction

    from core.errors import NotFound
    from core.tenancy import tenant_context

    with tenant_context(other_tenant), transaction.atomic():
        assert not Order.objects.filter(pk=order.pk).exists()
        with pytest.raises(NotFound):
            s.lock_order(order.pk)


def test_the_signing_clock_stops_during_a_dispute(tenant):
    # given a funded order disputed ten days into its signing-and-filing period
    from escrow.models import Dispute

    order, seller, buyer = order_in_state(OrderState.FUNDED)
    due = order.filing_due
    s.order_dispute_open(order=order, actor=buyer, reason="The seller stopped answering.")
    Dispute.objects.filter(order=order).update(opened_at=timezone.now() - timedelta(days=10))
    # when staff let the trade continue
    s.order_dispute_resolve(order=order, actor=escrow_staff(), outcome="continue", note="The seller answered.")
    # then the deadline moved on by the ten days the dispute took
    order = Order.objects.get(pk=order.pk)
    assert order.state == OrderState.FUNDED
    assert timedelta(days=10) <= order.filing_due - due < timedelta(days=10, minutes=1)
