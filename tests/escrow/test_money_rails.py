"""Money reaches the right people (issue 11): the exchange's own escrow accounts, sellers' payout
destinations that finance verifies, payouts that wait for them, and disputes settled by a split."""

import pytest
from django.db import transaction

from accounts import services as accounts_services
from core.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from core.models import Notification
from escrow import ledger
from escrow import services as s
from escrow.models import Disbursement, Dispute, EscrowBankAccount, OrderState
from escrow.payments import available_providers
from escrow.payments.bank_transfer import bank_details
from escrow.services.core import lock_order
from listings.models import Listing
from tests.factories import TenantFactory
from tests.factories.escrow import escrow_parties, escrow_staff, order_in_state, pay_order

S = OrderState


def _names(tenant):
    return [p.name for p in available_providers(tenant)]


def test_bank_transfer_is_offered_only_for_a_currency_the_exchange_has_an_account_for(tenant):
    assert "bank_transfer" in _names(tenant)
    assert bank_details(tenant)["account_number"]
    EscrowBankAccount.objects.update(is_active=False)
    assert "bank_transfer" not in _names(tenant)
    assert bank_details(tenant) is None  # never a placeholder account


def test_a_hkd_exchange_shows_its_own_hkd_account(db, client):
    from core.tenancy import tenant_context

    gba = TenantFactory(slug="gba-t", hosts=["gba-t.test"], currency="HKD", escrow_bank_account=False)
    with tenant_context(gba):
        EscrowBankAccount.objects.create(currency="HKD", bank="HSBC", account_name="GBA escrow",
                                         account_number="004-848-203917-838", swift="HSBCHKHHHKH")
        details = bank_details(gba)
    assert details["bank"] == "HSBC"
    assert details["currency"] == "HKD"


def _seller_admin(order):
    from accounts.models import Membership

    membership = Membership.objects.filter(organization=order.seller_org).first()
    membership.is_admin = True
    membership.save()
    return membership.user


@pytest.mark.parametrize(("fields", "field"), [
    ({"account_number": "GB82 WEST 1234 5698 7654 33"}, "account_number"),  # IBAN check digits wrong
    ({"swift": "BKCH12"}, "swift"),
    ({"cnaps": "12345"}, "cnaps"),
    ({"account_number": ""}, "account_number"),
])
def test_wrong_bank_details_are_refused_with_a_message_and_nothing_changes(tenant, fields, field):
    listing, seller, _buyer = escrow_parties()
    org = listing.seller_org
    from accounts.models import Membership

    Membership.objects.filter(user=seller).update(is_admin=True)
    data = {"bank_name": "Bank of China", "account_name": org.legal_name, "account_number": "6217 0000 1234 5678",
            "swift": "BKCHCNBJ", "cnaps": "104100004465", **fields}
    with pytest.raises(ValidationFailed) as exc:
        accounts_services.organization_set_payout_bank(organization=org, actor=seller, **data)
    assert field in exc.value.field_errors
    org.refresh_from_db()
    assert org.payout_bank_account == ""


def test_a_valid_iban_is_accepted():
    from accounts.validators import iban_valid

    assert iban_valid("GB82 WEST 1234 5698 7654 32")
    assert iban_valid("DE89370400440532013000")
    assert not iban_valid("DE89370400440532013001")


def test_bank_payout_waits_for_verified_details_then_goes_out_to_them(tenant):
    listing, seller, buyer = escrow_parties()
    org = listing.seller_org
    from accounts.models import Membership

    Membership.objects.filter(user=seller).update(is_admin=True)
    order = s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    s.order_seller_confirm(order=order, actor=seller)
    pay_order(order, buyer, provider="bank_transfer")
    for step in ("file_transfer", "approve_transfer"):
        with transaction.atomic():
            s.order_step(lock_order(order.pk), step, actor_label="test office")
    s.order_confirm_certificate(order=order, actor=buyer)

    payout = Disbursement.objects.get(order=order, kind=Disbursement.Kind.PAYOUT)
    assert payout.state == Disbursement.State.HELD
    assert "has not entered the bank account" in payout.last_error
    assert Notification.objects.filter(user=seller, kind="payout.held").exists()
    finance = escrow_staff()
    with pytest.raises(InvalidTransition):  # finance cannot pay an unverified destination by hand
        s.disbursement_mark_paid(disbursement=payout, actor=finance, bank_reference="X1")

    accounts_services.organization_set_payout_bank(
        organization=org, actor=seller, bank_name="Bank of China", account_name=org.legal_name,
        account_number="6217 0000 1234 5678", swift="BKCHCNBJ", cnaps="104100004465")
    assert Notification.objects.filter(user=seller, kind="organization.payout_details_changed").exists()
    payout.refresh_from_db()
    assert payout.state == Disbursement.State.HELD  # changed details wait for finance

    with pytest.raises(NotAllowed):
        accounts_services.organization_verify_payout_bank(organization=org, actor=seller)
    accounts_services.organization_verify_payout_bank(organization=org, actor=finance)
    payout.refresh_from_db()
    assert payout.state == Disbursement.State.PENDING
    assert payout.destination.endswith("····5678")
    s.disbursement_mark_paid(disbursement=payout, actor=finance, bank_reference="BOC-778812")
    payout.refresh_from_db()
    assert payout.state == Disbursement.State.PAID
    assert ledger.entries_unbalanced() == []

    # a later change holds payouts again until finance verifies it
    accounts_services.organization_set_payout_bank(
        organization=org, actor=seller, bank_name="ICBC", account_name=org.legal_name,
        account_number="6222 0200 0000 1111", cnaps="102100099996")
    org.refresh_from_db()
    assert org.payout_verified_at is None


def test_the_other_side_answers_a_dispute_once_before_the_deadline(tenant):
    order, seller, buyer = order_in_state(S.DISPUTED)
    dispute = Dispute.objects.get(order=order)
    assert dispute.answer_due is not None
    assert Notification.objects.filter(user=seller, kind="dispute.answer_requested").exists()
    with pytest.raises(NotAllowed):
        s.order_dispute_answer(order=order, actor=buyer, statement="I opened it")
    s.order_dispute_answer(order=order, actor=seller, statement="The papers were sent on time.")
    with pytest.raises(Conflict):
        s.order_dispute_answer(order=order, actor=seller, statement="Again")
    assert [st.party for st in dispute.statements.all()] == ["seller"]


def test_an_answer_after_the_deadline_is_refused(tenant):
    from datetime import timedelta

    from django.utils import timezone

    order, seller, _buyer = order_in_state(S.DISPUTED)
    Dispute.objects.filter(order=order).update(answer_due=timezone.now() - timedelta(minutes=1))
    with pytest.raises(InvalidTransition):
        s.order_dispute_answer(order=order, actor=seller, statement="Late")
    assert not Dispute.objects.get(order=order).statements.exists()


def test_a_split_refunds_part_pays_the_rest_and_balances(tenant):
    order, seller, buyer = order_in_state(S.DISPUTED)
    staff = escrow_staff()
    fees = order.buyer_fee_minor + order.seller_commission_minor
    with pytest.raises(ValidationFailed):  # more than what is left after fees: a full refund instead
        s.order_dispute_resolve(order=order, actor=staff, outcome="split", note="half", refund_minor=order.total_minor)
    with pytest.raises(Conflict):  # the summary showed another amount
        s.order_dispute_resolve(order=order, actor=staff, outcome="split", note="half", refund_minor=400_000,
                                expected_refund_minor=300_000)
    order.refresh_from_db()
    assert order.state == S.DISPUTED
    s.order_dispute_resolve(order=order, actor=staff, outcome="split", note="Half the papers were delivered.",
                            refund_minor=400_000, expected_refund_minor=400_000)
    order.refresh_from_db()
    assert order.state == S.SETTLED
    assert ledger.escrow_balance(order) == 0
    assert ledger.entries_unbalanced() == []
    refund = Disbursement.objects.get(order=order, kind=Disbursement.Kind.REFUND)
    payout = Disbursement.objects.get(order=order, kind=Disbursement.Kind.PAYOUT)
    assert refund.amount_minor == 400_000
    assert payout.amount_minor == order.total_minor - 400_000 - fees
    statement = ledger.order_statement(order)
    assert statement["refunded"] == 400_000
    assert statement["paid_out"] == payout.amount_minor
    assert statement["fees"] == fees
    dispute = Dispute.objects.get(order=order)
    assert dispute.outcome == Dispute.Outcome.SPLIT
    assert dispute.refund_minor == 400_000
    order.listing.refresh_from_db()
    assert order.listing.state == Listing.State.PUBLISHED  # the transfer was never recorded: back on the market
