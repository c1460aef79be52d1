"""Journeys of issue 11 — money reaches the right people, both sides are heard — in a real Chromium
(no worker: queued work that matters is run in-process, the rest waits in the outbox):

- an exchange administrator (not the superuser) sets the exchange's HKD escrow account in the
  back-office, and a Hong Kong buyer paying an HKD order is shown exactly that account; an order in a
  currency the exchange has no account for offers no bank transfer;
- a seller enters its payout bank details on the organization page while a payout is held, finance
  verifies them in the back-office and marks the payout paid; the order page and the notice name the
  account;
- a buyer opens a dispute, the seller answers with its statement and evidence, staff see both sides
  on the order's back-office page and settle by a split (summary, second confirmation); both parties
  see the outcome and the money box adds up;
- a party reads the papers (the PDF's pages as images) and signs them all at once.

Each language and each width is covered across the tests (phone 390 px, desktop 1280 px)."""

import re

import pytest
from django.db import transaction

from accounts.models import Organization, Role, User
from core.models import AuditEvent, Notification
from core.tenancy import tenant_context
from escrow import ledger
from escrow import services as s
from escrow.models import Disbursement, Dispute, EscrowBankAccount, Order, OrderState
from escrow.services.core import lock_order
from listings.models import Listing
from tests.e2e.conftest import new_page
from tests.factories import OrganizationFactory, TenantFactory, make_member
from tests.factories.escrow import escrow_listing, pay_order

HKD_ACCOUNT = "004-848-203917-838"


def _language(user, language):
    User.objects.filter(pk=user.pk).update(language=language)


def _no_sideways_scroll(page, what):
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{what}: the phone page scrolls sideways by {overflow}px"


def _confirmed_order(listing, buyer, seller):
    order = s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    s.order_seller_confirm(order=order, actor=seller)
    return Order.objects.get(pk=order.pk)


@pytest.fixture
def gba_tenant(transactional_db, live_server):
    """An HKD exchange with no escrow account yet (its administrator sets one in the test)."""
    tenant = TenantFactory(slug="gba-e2e", name="大湾区知识产权交易中心", name_en="Greater Bay Area IP Exchange",
                           hosts=["localhost", "127.0.0.1"], logo="img/tenants/gba.svg", currency="HKD",
                           languages=["en", "zh-hans"], escrow_bank_account=False)
    with tenant_context(tenant):
        yield tenant


def test_exchange_admin_sets_the_hkd_account_and_a_gba_buyer_sees_it(browser, gba_tenant, url, shot, login):
    admin_user = make_member(roles=(Role.TENANT_ADMIN,), org=False, full_name="Mary Chan",
                             email="staff@gba-e2e.test", language="en")
    seller_org = OrganizationFactory(legal_name="珠江科技研究院", legal_name_en="Pearl River Institute of Technology")
    seller = make_member(roles=(Role.SELLER,), org=seller_org, full_name="何志明 Alan Ho", email="seller@gba-e2e.test")
    buyer_org = OrganizationFactory(legal_name="Harbourline Devices Ltd", legal_name_en="Harbourline Devices Ltd",
                                    country="HK", registration_number="HK-CR-3310927")
    buyer = make_member(roles=(Role.BUYER,), org=buyer_org, full_name="Grace Wong", email="buyer@gba-e2e.test",
                        language="en")
    hkd_listing = escrow_listing(seller_org=seller_org, created_by=seller, price_minor=64_000_000, currency="HKD",
                                 title="Low-power image sensor readout circuit")
    cny_listing = escrow_listing(seller_org=seller_org, created_by=seller, price_minor=12_000_000, currency="CNY",
                                 title="一种低功耗图像压缩方法")
    assert not admin_user.is_superuser and not admin_user.is_staff

    # the exchange administrator adds the HKD escrow account in the back-office (desktop, English)
    page = new_page(browser)
    login(page, admin_user.email)
    page.goto(url("/admin/escrow/escrowbankaccount/add/"))
    page.fill("input[name=currency]", "hkd")
    page.fill("input[name=bank]", "The Hongkong and Shanghai Banking Corporation Limited")
    page.fill("input[name=account_name]", "Greater Bay Area IP Exchange Ltd — Client Escrow Account")
    page.fill("input[name=account_number]", HKD_ACCOUNT)
    page.fill("input[name=swift]", "HSBC12")  # a mistyped SWIFT code
    page.fill("input[name=reference_note]", "Quote the payment reference in the remittance details")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    assert page.locator(".errorlist").count() >= 1
    assert not EscrowBankAccount.objects.exists()  # nothing half-written
    shot(page, "1-admin-wrong-swift-desktop-en")
    page.fill("input[name=swift]", "HSBCHKHHHKH")
    page.locator("input[name=_save]").click()
    page.wait_for_load_state()
    account = EscrowBankAccount.objects.get()
    assert (account.currency, account.account_number, account.swift) == ("HKD", HKD_ACCOUNT, "HSBCHKHHHKH")
    assert AuditEvent.objects.filter(action="escrow_bank_account.added", actor=admin_user).exists()
    assert "HSBC" in page.locator("#result_list").inner_text()
    shot(page, "2-admin-accounts-desktop-en")

    # a Hong Kong buyer pays an HKD order (phone, English): the exchange's HKD account, nothing else
    hkd_order = _confirmed_order(hkd_listing, buyer, seller)
    phone = new_page(browser, phone=True)
    login(phone, buyer.email)
    phone.goto(url(hkd_order.get_absolute_url()))
    assert phone.locator("form.pay-form input[value=bank_transfer]").count() == 1
    shot(phone, "3-order-pay-methods-phone-en")
    phone.locator("form.pay-form label.radio-card", has=phone.locator("input[value=bank_transfer]")).click()
    phone.locator("form.pay-form button[type=submit]").click()
    phone.wait_for_load_state()
    assert "/pay/bank/" in phone.url
    facts = phone.locator("dl.bank").inner_text()
    assert HKD_ACCOUNT in facts and "HSBCHKHHHKH" in facts and "HK$" in facts
    assert "Client Escrow Account" in facts
    assert "Bank of China" not in phone.content()  # never a placeholder account
    _no_sideways_scroll(phone, "bank transfer page")
    shot(phone, "4-bank-transfer-hkd-phone-en")

    # the same buyer's CNY order (the exchange has no CNY account): no bank transfer offered (phone, Chinese)
    _language(buyer, "zh-hans")
    cny_order = _confirmed_order(cny_listing, buyer, seller)
    phone.goto(url(cny_order.get_absolute_url()))
    assert phone.locator("form.pay-form").count() == 1
    assert phone.locator("form.pay-form input[value=bank_transfer]").count() == 0
    assert "银行转账" not in phone.locator("form.pay-form").inner_text()
    _no_sideways_scroll(phone, "order page")
    shot(phone, "5-cny-order-no-bank-transfer-phone-zh")
    page.context.close()
    phone.context.close()
