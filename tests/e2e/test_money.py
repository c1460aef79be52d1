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
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def _language(user, language):
    User.objects.filter(pk=user.pk).update(language=language)


WIDEST = """() => { const w = document.documentElement.clientWidth; return [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 12)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)); }"""


def _no_sideways_scroll(page, what):
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"{what}: the phone page scrolls sideways by {overflow}px: {page.evaluate(WIDEST)}"


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
    assert not admin_user.is_superuser
    assert not admin_user.is_staff

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
    for shown in (HKD_ACCOUNT, "HSBCHKHHHKH", "HK$", "Client Escrow Account"):
        assert shown in facts
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


def test_seller_enters_payout_details_finance_verifies_and_the_payout_names_them(browser, e2e_tenant, url, shot,
                                                                                  login):
    # given a completed bank-transfer trade whose seller has no payout account yet: the payout is held
    seller_org = OrganizationFactory(legal_name="清源大学技术转移中心", legal_name_en="Qingyuan University TTO")
    seller = make_member(roles=(Role.SELLER,), org=seller_org, full_name="陈静 Chen Jing", email="seller@payout.test",
                         language="zh-hans")
    buyer = make_member(roles=(Role.BUYER,), full_name="Liu Yang", email="buyer@payout.test")
    finance = make_member(roles=(Role.FINANCE,), org=False, full_name="Zhang Wei", email="finance@payout.test",
                          language="en")
    listing = escrow_listing(seller_org=seller_org, created_by=seller, price_minor=12_000_000,
                             title="一种低功耗图像压缩方法")
    order = _confirmed_order(listing, buyer, seller)
    pay_order(order, buyer, provider="bank_transfer")
    for step in ("file_transfer", "approve_transfer"):
        with transaction.atomic():
            s.order_step(lock_order(order.pk), step, actor_label="test office")
    s.order_confirm_certificate(order=order, actor=buyer)
    payout = Disbursement.objects.get(order=order, kind=Disbursement.Kind.PAYOUT)
    assert payout.state == Disbursement.State.HELD

    # the seller sees on a phone (Chinese) that the payout waits, and why
    phone = new_page(browser, phone=True)
    login(phone, seller.email)
    phone.goto(url(order.get_absolute_url()))
    held = phone.locator("dd.seller-held").inner_text()
    assert "暂缓" in held or "等待" in held, held
    assert not re.search(r"[A-Za-z]{4,} [a-z]{3,} [a-z]{3,}", held), f"English on a Chinese page: {held}"
    shot(phone, "1-payout-held-order-phone-zh")

    # and enters the payout account on the organization page: a wrong CNAPS code first
    phone.goto(url(f"/account/organizations/{seller_org.pk}/#payouts"))
    assert "已通过认证" in phone.locator(".callout-ok").inner_text()  # no "已于  通过认证" without a date
    form = phone.locator("#payouts form[action*='/payout-bank/']")
    form.locator("input[name=bank_name]").fill("中国银行北京中关村支行")
    form.locator("input[name=account_number]").fill("6217 0000 1234 5678")
    form.locator("input[name=swift]").fill("BKCHCNBJ")
    form.locator("input[name=cnaps]").fill("12345")
    form.locator("button[type=submit]").click()
    phone.wait_for_load_state()
    assert phone.locator(".msg-error").count() == 1
    assert Organization.objects.get(pk=seller_org.pk).payout_bank_account == ""
    # what was typed stays; the problem is shown at the CNAPS field, in Chinese
    form = phone.locator("#payouts form[action*='/payout-bank/']")
    assert form.locator("input[name=account_number]").input_value() == "6217 0000 1234 5678"
    cnaps_field = form.locator(".field.has-error", has=phone.locator("input[name=cnaps]"))
    assert "CNAPS" in cnaps_field.inner_text()
    assert "12" in cnaps_field.inner_text()
    _no_sideways_scroll(phone, "organization page with an error")
    shot(phone, "2-wrong-cnaps-phone-zh")
    form.locator("input[name=cnaps]").fill("104100004465")
    form.locator("button[type=submit]").click()
    phone.wait_for_load_state()
    assert phone.locator(".msg-success").count() == 1
    assert phone.locator("#payouts .badge-warn").is_visible()  # waiting for verification: payouts held
    _no_sideways_scroll(phone, "organization page")
    shot(phone, "3-payout-details-waiting-phone-zh")
    payout.refresh_from_db()
    assert payout.state == Disbursement.State.HELD  # changed details wait for finance
    assert Notification.objects.filter(user=seller, kind="organization.payout_details_changed").exists()

    # finance verifies the account in the back-office (desktop, English): the held payout goes out
    page = new_page(browser)
    login(page, finance.email)
    page.goto(url(f"/admin/accounts/organization/{seller_org.pk}/change/"))
    shot(page, "4-finance-verifies-desktop-en")
    page.locator("form[action$='/verify-payout/'] button").click()
    page.wait_for_load_state()
    assert page.locator(".messagelist .success").count() == 1
    payout.refresh_from_db()
    assert payout.state == Disbursement.State.PENDING
    assert payout.destination.endswith("····5678")

    # finance pays from the bank and marks it paid: a summary naming the account, then the confirmation
    page.goto(url(f"/admin/escrow/disbursement/{payout.pk}/paid/"))
    page.fill("input[name=bank_reference]", "BOC-778812")
    page.locator("input[type=submit]").click()
    page.wait_for_load_state()
    summary = page.locator("table.summary").inner_text()
    assert "····5678" in summary
    assert "清源大学技术转移中心" in summary
    shot(page, "5-mark-paid-summary-desktop-en")
    payout.refresh_from_db()
    assert payout.state == Disbursement.State.PENDING
    page.locator("input[type=submit]").click()
    page.wait_for_load_state()
    payout.refresh_from_db()
    assert payout.state == Disbursement.State.PAID
    assert ledger.entries_unbalanced() == []

    # the seller's order page and the payout notice name the account (phone, Chinese)
    phone.goto(url(order.get_absolute_url()))
    paid = phone.locator("dd.seller-paid").inner_text()
    assert "····5678" in paid
    shot(phone, "6-paid-order-phone-zh")
    notice = Notification.objects.filter(user=seller, kind="payout.paid").get()
    phone.goto(url("/notifications/"))
    inbox = phone.locator("main").inner_text()
    assert "····5678" in inbox
    assert notice.subject
    # the held notice was written by the buyer's English request: the seller reads it in Chinese
    assert "has not entered" not in inbox
    assert "Payout to seller" not in inbox
    shot(phone, "7-payout-notice-phone-zh")
    page.context.close()
    phone.context.close()


def test_dispute_answered_by_the_seller_and_settled_by_a_split(browser, e2e_tenant, url, shot, login):
    from escrow.services import disbursement_execute

    seller_org = OrganizationFactory(legal_name="清源大学技术转移中心", legal_name_en="Qingyuan University TTO")
    seller = make_member(roles=(Role.SELLER,), org=seller_org, full_name="陈静", email="seller@split.test",
                         language="zh-hans")
    buyer_org = OrganizationFactory(legal_name="北京星河智能科技有限公司", legal_name_en="Starriver Intelligent Tech")
    buyer = make_member(roles=(Role.BUYER,), org=buyer_org, full_name="Liu Yang", email="buyer@split.test")
    staff = make_member(roles=(Role.ESCROW_OFFICER, Role.FINANCE), org=False, full_name="张伟",
                        email="escrow@split.test", language="zh-hans")
    listing = escrow_listing(seller_org=seller_org, created_by=seller, price_minor=12_800_000,
                             title="一种基于深度学习的锂电池健康状态估计方法")
    order = _confirmed_order(listing, buyer, seller)
    pay_order(order, buyer)
    assert Order.objects.get(pk=order.pk).state == OrderState.FUNDED

    # the buyer opens a dispute with evidence (desktop, English)
    buyer_page = new_page(browser)
    login(buyer_page, buyer.email)
    buyer_page.goto(url(order.get_absolute_url()))
    buyer_page.locator("details.secondary-action summary", has_text="dispute").click()
    buyer_page.fill("#id_dispute_reason", "Only the agreement arrived; the dismissal letter is missing and the "
                                          "seller does not answer.")
    buyer_page.set_input_files("#id_files", files=[{"name": "delivery-note.pdf", "mimeType": "application/pdf",
                                                    "buffer": b"%PDF-1.4\n% delivery note\n"}])
    buyer_page.locator("form[action$='/act/dispute/'] button[type=submit]").click()
    buyer_page.wait_for_load_state()
    assert Order.objects.get(pk=order.pk).state == OrderState.DISPUTED

    # the seller is told and answers with its statement and evidence (phone, Chinese)
    assert Notification.objects.filter(user=seller, kind="dispute.answer_requested").exists()
    phone = new_page(browser, phone=True)
    login(phone, seller.email)
    phone.goto(url("/notifications/"))
    notice = phone.locator(".note-btn", has_text=order.reference).first
    assert "答复" in notice.inner_text()  # "answer the dispute by …", in Chinese
    notice.click()
    phone.wait_for_load_state()
    assert order.get_absolute_url() in phone.url
    phone.fill("#id_statement", "全部三份文件已于11月28日通过平台送达，附快递签收单。")
    phone.set_input_files("#id_answer_files", files=[{"name": "courier-receipt.png", "mimeType": "image/png",
                                                      "buffer": PNG}])
    shot(phone, "1-seller-answers-phone-zh")
    phone.locator("form.dispute-answer button[type=submit]").click()
    phone.wait_for_load_state()
    dispute = Dispute.objects.get(order=order)
    assert [st.party for st in dispute.statements.all()] == ["seller"]
    assert sorted(e.party for e in dispute.evidence.all()) == ["buyer", "seller"]
    _no_sideways_scroll(phone, "disputed order page")
    shot(phone, "2-answered-phone-zh")

    # staff see both sides, the evidence and the money on the order's back-office page (desktop, Chinese)
    staff_page = new_page(browser)
    login(staff_page, staff.email)
    staff_page.goto(url(f"/admin/escrow/order/{order.pk}/change/"))
    sides = staff_page.locator("#dispute-sides").inner_text()
    assert "dismissal letter is missing" in sides
    assert "快递签收单" in sides
    assert "delivery-note.pdf" in sides
    assert "courier-receipt.png" in sides
    shot(staff_page, "3-staff-both-sides-desktop-zh")

    # and settle by a split: the buyer gets 50,000.00 back; summary first, then the second confirmation
    staff_page.locator("a[href$='/split/']").click()
    staff_page.wait_for_load_state()
    staff_page.fill("input[name=refund]", "50,000.00")
    staff_page.fill("textarea[name=reason]", "卖方已交付转让协议，但缺少解聘函：退还买方部分款项。")
    staff_page.locator("input[type=submit]").click()
    staff_page.wait_for_load_state()
    summary = staff_page.locator("table.summary").inner_text()
    assert "¥50,000.00" in summary
    shot(staff_page, "4-split-summary-desktop-zh")
    assert Order.objects.get(pk=order.pk).state == OrderState.DISPUTED
    staff_page.locator("input[type=submit]").click()
    staff_page.wait_for_load_state()
    order.refresh_from_db()
    assert order.state == OrderState.SETTLED
    assert ledger.entries_unbalanced() == []
    assert ledger.escrow_balance(order) == 0
    assert Listing.objects.get(pk=listing.pk).state == Listing.State.PUBLISHED  # never transferred: back on sale
    payout = Disbursement.objects.get(order=order, kind=Disbursement.Kind.PAYOUT)
    for disbursement in Disbursement.objects.filter(order=order):  # the worker's job, here in-process
        disbursement_execute(disbursement_id=disbursement.pk)

    # both parties see the outcome, and the money box adds up
    buyer_page.goto(url(order.get_absolute_url()))
    box = buyer_page.locator("dl.statement").inner_text()
    assert "¥50,000.00" in box  # refunded to the buyer
    assert "50,000.00" in buyer_page.locator("#dispute-outcome").inner_text()
    shot(buyer_page, "5-settled-buyer-desktop-en")
    phone.goto(url(order.get_absolute_url()))
    paid = phone.locator("dd.seller-paid").inner_text()
    assert format(payout.amount_minor // 100, ",") in paid
    assert "Simulated" not in paid
    _no_sideways_scroll(phone, "settled order page")
    shot(phone, "6-settled-seller-phone-zh")
    buyer_page.context.close()
    phone.context.close()
    staff_page.context.close()


def test_a_party_reads_the_papers_as_pages_and_signs_them_all_at_once(browser, e2e_tenant, url, shot, login):
    from tests.factories import transfer_order
    from transfers.models import SIGNED_KINDS, Signature, TransferDocument
    from transfers.services import transfer_prepare

    order, seller, buyer = transfer_order()
    User.objects.filter(pk=buyer.pk).update(full_name="刘洋 Liu Yang", language="zh-hans")
    transfer_prepare(order=order)
    papers = list(TransferDocument.objects.filter(order=order, superseded=False, kind__in=SIGNED_KINDS))
    assert len(papers) == 3

    # the buyer reads a paper on a phone (Chinese): the PDF's own pages as images, not a text dump
    phone = new_page(browser, phone=True)
    login(phone, buyer.email)
    phone.goto(url(order.get_absolute_url()) + "#transfer")
    phone.locator(".tp-paper-actions a", has_text="阅读并签署").first.click()
    phone.wait_for_load_state()
    image = phone.locator("img.tp-page-img").first
    image.wait_for()
    phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    width = image.evaluate("img => img.getBoundingClientRect().width")
    assert 300 <= width <= 390, f"the page image is {width}px wide on a 390px phone"
    _no_sideways_scroll(phone, "paper page")
    shot(phone, "1-paper-pages-phone-zh", full_page=False)

    # and signs all three at once: another name first (refused, nothing signed), then her own
    phone.goto(url(order.get_absolute_url()) + "#sign-all")
    sign_all = phone.locator("form#sign-all")
    assert "3" in sign_all.locator("button[type=submit]").inner_text()
    sign_all.locator("input[name=typed_name]").fill("张三")
    sign_all.locator("input[name=consent]").check()
    sign_all.locator("button[type=submit]").click()
    phone.wait_for_load_state()
    assert phone.locator(".msg-error").count() == 1
    assert not Signature.objects.filter(document__order=order).exists()
    phone.goto(url(order.get_absolute_url()) + "#sign-all")
    sign_all = phone.locator("form#sign-all")
    sign_all.locator("input[name=typed_name]").fill("刘洋")
    sign_all.locator("input[name=consent]").check()
    shot(phone, "2-sign-all-phone-zh")
    sign_all.locator("button[type=submit]").click()
    phone.wait_for_load_state()
    assert phone.locator(".msg-success").count() == 1
    signatures = Signature.objects.filter(document__order=order, party="buyer")
    assert {(sig.document_id, sig.document_sha256) for sig in signatures} == {(p.pk, p.sha256) for p in papers}
    assert {sig.typed_name for sig in signatures} == {"刘洋"}
    assert phone.locator("form#sign-all").count() == 0
    _no_sideways_scroll(phone, "order page after signing")
    shot(phone, "3-signed-all-phone-zh")

    # the seller signs all at once on a desktop (English); the event log shows every signature
    page = new_page(browser)
    login(page, seller.email)
    page.goto(url(order.get_absolute_url()) + "#sign-all")
    page.fill("#id_sign_all_name", "Chen Jing")
    page.locator("form#sign-all input[name=consent]").check()
    page.locator("form#sign-all button[type=submit]").click()
    page.wait_for_load_state()
    assert Signature.objects.filter(document__order=order).count() == 6
    log = page.locator(".event-log").inner_text()
    assert log.count("Transfer paper signed") == 6
    assert "“Chen Jing”" in log
    assert "“刘洋”" in log
    shot(page, "4-both-signed-desktop-en")
    page.context.close()
    phone.context.close()
