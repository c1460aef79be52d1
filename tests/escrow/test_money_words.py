"""Issue 11, what the browser tests showed: bank transfer only for a currency the exchange has an
account in (the order's currency, not the exchange's), payout-held words in the reader's language,
and the payout form keeping what was typed."""

import pytest
from django.db import transaction
from django.utils import translation

from core.errors import ValidationFailed
from core.models import Notification
from escrow import services as s
from escrow.models import Disbursement
from escrow.payments import available_providers
from escrow.selectors import seller_money
from escrow.services.core import lock_order
from tests.factories.escrow import escrow_listing, escrow_parties, pay_order


def _confirmed(listing, buyer, seller):
    order = s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    s.order_seller_confirm(order=order, actor=seller)
    order.refresh_from_db()
    return order


def test_no_bank_transfer_for_a_currency_without_an_escrow_account(tenant, client):
    listing, seller, buyer = escrow_parties()
    hkd = escrow_listing(seller_org=listing.seller_org, created_by=seller, currency="HKD")  # the exchange: CNY only
    order = _confirmed(hkd, buyer, seller)
    assert "bank_transfer" in [p.name for p in available_providers(tenant)]
    assert "bank_transfer" not in [p.name for p in available_providers(tenant, currency="HKD")]
    client.force_login(buyer)
    page = client.get(order.get_absolute_url()).content.decode()
    assert 'value="simulated"' in page
    assert 'value="bank_transfer"' not in page
    with pytest.raises(ValidationFailed):
        s.payment_start(order=order, actor=buyer, provider="bank_transfer")
    assert not order.payments.exists()


def _held_payout(seller_language="zh-hans"):
    listing, seller, buyer = escrow_parties()
    type(seller).objects.filter(pk=seller.pk).update(language=seller_language)
    order = _confirmed(listing, buyer, seller)
    pay_order(order, buyer, provider="bank_transfer")
    for step in ("file_transfer", "approve_transfer"):
        with transaction.atomic():
            s.order_step(lock_order(order.pk), step, actor_label="test office")
    s.order_confirm_certificate(order=order, actor=buyer)  # in English (tests run services in English)
    return order, seller


def test_a_held_payout_is_explained_in_the_readers_language(tenant):
    order, seller = _held_payout()
    payout = Disbursement.objects.get(order=order, kind=Disbursement.Kind.PAYOUT)
    assert payout.state == Disbursement.State.HELD
    notice = Notification.objects.get(user=seller, kind="payout.held")
    with translation.override("zh-hans"):
        body, subject = notice.display_body, notice.display_subject
        reason = seller_money(order, [payout])["held_reason"]
    for text in (body, subject, reason):
        assert "has not entered" not in text
        assert "Payout to seller" not in text
    assert "尚未填写收款银行账户" in body
    assert "款项安全保管" in body
    assert "尚未填写收款银行账户" in reason
    with translation.override("en"):
        assert "has not entered the bank account payouts go to" in notice.display_body
        # completing the order releases the payout; it does not claim the seller is paid
        completed = Notification.objects.get(user=seller, kind="order.complete").display_subject
    assert "paid" not in completed
    assert "released" in completed


def test_wrong_payout_details_keep_what_was_typed_and_show_the_problem_at_its_field(tenant, client):
    listing, seller, _buyer = escrow_parties()
    org = listing.seller_org
    client.force_login(seller)
    response = client.post(f"/account/organizations/{org.pk}/payout-bank/", {
        "bank_name": "Bank of China", "account_name": org.legal_name, "account_number": "6217 0000 1234 5678",
        "swift": "BKCHCNBJ", "cnaps": "12345"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="6217 0000 1234 5678"' in html
    assert response.context["payout_form"].errors["cnaps"]
    org.refresh_from_db()
    assert org.payout_bank_account == ""
