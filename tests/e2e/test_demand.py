"""Demand journeys in a real browser: a buyer posts a want (desktop, English), a holder is told of the
match on their phone (Chinese) and offers; an auction with two bidders live in two browser contexts
(phone zh and desktop en), the page updating by itself. Screenshots in test-results/."""

import datetime

from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from demand.auctions import auction_create
from demand.models import Answer, Auction, Want
from escrow.models import Payment
from tests.e2e.conftest import new_page
from tests.factories import (
    OrganizationFactory,
    deliver_payment,
    make_member,
    published_listing,
    register_record,
)


def test_buyer_posts_a_want_holder_is_notified_and_offers(e2e_tenant, browser, url, shot, login):
    holder_org = OrganizationFactory(legal_name="深圳市海川新能源科技有限公司")
    holder = make_member(roles=(Role.SELLER,), org=holder_org, email="holder@e2e.test", language="zh-hans")
    published_listing(org=holder_org, title="一种锂电池电极涂布方法", price_minor=40_000_000,
                      records=[register_record(owner_name=holder_org.legal_name, title="一种锂电池电极涂布方法",
                                               classes=["H01M 4/13"], abstract="锂电池 电极 涂布")])
    buyer = make_member(roles=(Role.BUYER,), org=OrganizationFactory(legal_name="Harbourline Devices Ltd"),
                        email="buyer@e2e.test", language="en")

    # The buyer posts a want on the desktop.
    page = new_page(browser)
    login(page, buyer.email)
    page.goto(url("/wants/new/"))
    page.fill("#id_title", "Electrode coating for lithium cells")
    page.fill("#id_keywords", "锂电池 electrode")
    page.fill("#id_classes", "H01M 4/13, 45X")  # a nonsense class first
    page.fill("#id_deadline", (timezone.localdate() + datetime.timedelta(days=60)).isoformat())
    page.fill("#id_budget_max", "500,000")
    page.click("main form.form-grid button[type=submit]")
    expect(page.locator(".error").first).to_contain_text("45X")
    shot(page, "1-want-bad-class-desktop-en")
    page.fill("#id_classes", "H01M 4/13")
    page.click("main form.form-grid button[type=submit]")
    expect(page.locator(".match-list")).to_contain_text("一种锂电池电极涂布方法")
    expect(page.locator(".match-list .why")).to_contain_text("same IPC symbol H01M 4/13")
    shot(page, "2-want-matches-desktop-en")

    # The holder is told on their phone, in Chinese, and offers the listing.
    phone = new_page(browser, phone=True)
    login(phone, holder.email)
    phone.goto(url("/notifications/"))
    expect(phone.locator("body")).to_contain_text("有买方在寻找类似")
    shot(phone, "3-holder-notified-phone-zh")
    phone.goto(url(f"/wants/{Want.objects.get().pk}/"))
    expect(phone.locator("body")).to_contain_text("同一 IPC 分类号 H01M 4/13")
    phone.fill("#id_price", "380,000")
    phone.fill("#id_note", "可提供中试数据。")
    shot(phone, "4-holder-offer-form-phone-zh")
    phone.locator("#answer button[type=submit]").click()
    expect(phone.locator(".messages")).to_contain_text("您的报价已发送给买方")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "5-holder-offered-phone-zh")
    assert Answer.objects.get().price_minor == 38_000_000

    # The buyer sees the offer.
    page.reload()
    expect(page.locator(".answer-list")).to_contain_text("¥380,000.00")
    shot(page, "6-buyer-sees-offer-desktop-en")
    # The answer is a negotiation offer waiting for the buyer: accept, counter or reject it there.
    page.locator("[data-testid=answer-offer]").click()
    expect(page.locator("main")).to_contain_text("380,000.00")
    shot(page, "7-buyer-opens-the-negotiation-desktop-en")
    page.context.close()
    phone.context.close()


def test_auction_two_bidders_live_phone_and_desktop(e2e_tenant, browser, url, shot, login):
    seller_org = OrganizationFactory(legal_name="清源大学技术转移中心")
    seller = make_member(roles=(Role.SELLER,), org=seller_org, email="seller@e2e.test", language="en")
    listing = published_listing(org=seller_org, title="一种固态电解质及其制备方法", price_minor=100_000_000)
    now = timezone.now()
    auction = auction_create(listing=listing, actor=seller, start_price_minor=50_000_000, reserve_minor=60_000_000,
                             increment_minor=1_000_000, deposit_minor=5_000_000,
                             starts_at=now - datetime.timedelta(seconds=1), ends_at=now + datetime.timedelta(minutes=30),
                             extension_seconds=120)
    alice = make_member(roles=(Role.BUYER,), org=OrganizationFactory(legal_name="Northwind Robotics Inc."),
                        email="alice@e2e.test", language="en")
    wang = make_member(roles=(Role.BUYER,), org=OrganizationFactory(legal_name="北京星河智能科技有限公司"),
                       email="wang@e2e.test", language="zh-hans")

    desk = new_page(browser)
    phone = new_page(browser, phone=True)
    login(desk, alice.email)
    login(phone, wang.email)
    for p in (desk, phone):
        p.goto(url(auction.get_absolute_url()))
    expect(desk.locator("#auction-live")).to_contain_text("Place the deposit")
    expect(phone.locator("#auction-live")).to_contain_text("缴纳保证金")
    shot(phone, "1-deposit-needed-phone-zh")
    # Both place their deposit; the payment provider confirms (played by the test: no worker here).
    for p in (desk, phone):
        p.locator("#auction-live form button[type=submit]").click()
    for payment in Payment.objects.filter(purpose=Payment.Purpose.DEPOSIT, state=Payment.State.PENDING):
        deliver_payment(payment)
    expect(desk.locator("#id_amount")).to_be_visible(timeout=15000)
    expect(phone.locator("#id_amount")).to_be_visible(timeout=15000)

    # Alice bids on the desktop; Wang's phone shows it without reloading.
    desk.fill("#id_amount", "500,000")
    desk.locator(".bid-form button").click()
    expect(desk.locator("#auction-live")).to_contain_text("Your bid is the highest.")
    expect(phone.locator("[data-testid=price]")).to_have_text("¥500,000.00", timeout=10000)
    shot(desk, "2-alice-leads-desktop-en")
    # Wang tries too little, is told, then bids above.
    phone.fill("#id_amount", "505,000")
    phone.locator(".bid-form button").click()
    expect(phone.locator("#auction-live .msg-error")).to_contain_text("出价至少 ¥510,000.00")
    shot(phone, "3-wang-too-low-phone-zh")
    phone.fill("#id_amount", "520,000")
    phone.locator(".bid-form button").click()
    expect(phone.locator("#auction-live")).to_contain_text("您的出价目前最高")
    expect(desk.locator("[data-testid=price]")).to_have_text("¥520,000.00", timeout=10000)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "4-wang-leads-phone-zh")
    shot(desk, "5-alice-sees-it-live-desktop-en")

    # The end passes: below the reserve (600,000), the seller may accept the highest bid, or propose a
    # price to the highest bidder: first too low (refused at the field), then 580,000 with 48 hours.
    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    seller_page = new_page(browser)
    login(seller_page, seller.email)
    seller_page.goto(url(auction.get_absolute_url()))
    expect(seller_page.locator("#auction-live")).to_contain_text("below your reserve")
    shot(seller_page, "6-seller-reserve-not-met-desktop-en")
    seller_page.fill("#id_price", "510,000")
    seller_page.get_by_role("button", name="Propose this price").click()
    expect(seller_page.locator("[data-testid=counter-form] .error")).to_contain_text(
        "Propose at least the highest bid, ¥520,000.00")
    seller_page.fill("#id_price", "580,000")
    seller_page.fill("#id_hours", "48")
    shot(seller_page, "7-seller-proposes-a-price-desktop-en")
    seller_page.get_by_role("button", name="Propose this price").click()
    expect(seller_page.locator("[data-testid=counter-offer]")).to_contain_text(
        "You proposed ¥580,000.00 to the highest bidder (their bid: ¥520,000.00).")
    shot(seller_page, "8-seller-awaits-the-answer-desktop-en")
    # Wang, the highest bidder, sees the seller's price on his phone, in Chinese, and accepts it.
    phone.goto(url(auction.get_absolute_url()))
    expect(phone.locator("[data-testid=counter-offer]")).to_contain_text("卖方愿以 ¥580,000.00 出售给您")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "9-wang-sees-the-sellers-price-phone-zh")
    # Alice, outbid, sees nothing of it.
    desk.goto(url(auction.get_absolute_url()))
    expect(desk.locator("#auction-live")).not_to_contain_text("580,000")
    phone.get_by_role("button", name="接受此价格").click()
    auction.refresh_from_db()
    assert auction.state == Auction.State.SOLD
    assert auction.order.price_minor == 58_000_000
    expect(phone.locator("#auction-live")).to_contain_text(auction.order.reference)
    expect(phone.locator("[data-testid=agreed-price]")).to_contain_text("与卖方议定价格：¥580,000.00")
    shot(phone, "10-wang-won-at-the-sellers-price-phone-zh")
    for p in (desk, phone, seller_page):
        p.context.close()


def test_staff_read_the_exchange_figures_on_a_phone(e2e_tenant, browser, url, shot, login):
    from escrow.models import OrderState
    from tests.factories import order_in_state, post_want

    order_in_state(OrderState.COMPLETED)
    order_in_state(OrderState.REFUNDED)
    post_want()
    staff = make_member(roles=(Role.TENANT_ADMIN,), org=False, email="staff@e2e.test", language="zh-hans")
    phone = new_page(browser, phone=True)
    login(phone, staff.email)
    phone.goto(url("/exchange/figures/"))
    expect(phone.locator("h1")).to_contain_text("交易所统计")
    expect(phone.locator("svg.chart")).to_have_count(8)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "1-figures-phone-zh")
    with phone.expect_download() as download:
        phone.get_by_role("link", name="XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    phone.context.close()


def test_unlisted_right_opened_to_wants_and_a_listing_under_auction(e2e_tenant, browser, url, shot, login):
    """A holder opens a right it does not sell to wants (phone, zh); a buyer's want matches it without
    naming it (desktop, en); the holder is offered to list it. A listing under auction shows the auction
    instead of Buy, on both screens."""
    from rights.services import holding_ensure

    holder_org = OrganizationFactory(legal_name="深圳市海川新能源科技有限公司")
    holder = make_member(roles=(Role.SELLER,), org=holder_org, email="holder2@e2e.test", language="zh-hans")
    record = register_record(owner_name=holder_org.legal_name, title="一种锂电池负极涂层", classes=["H01M 4/13"],
                             abstract="锂电池 负极 涂层")
    holding_ensure(organization=holder_org, record=record)
    buyer = make_member(roles=(Role.BUYER,), org=OrganizationFactory(legal_name="Harbourline Devices Ltd"),
                        email="buyer2@e2e.test", language="en")

    phone = new_page(browser, phone=True)
    login(phone, holder.email)
    phone.goto(url("/wants/open-rights/"))
    expect(phone.locator("body")).to_contain_text("向买方需求开放的权利")
    phone.locator(f"input[name=holding][value='{record.holdings.get().pk}']").check()
    phone.get_by_role("button", name="开放所选权利").click()
    expect(phone.locator("[data-testid=open]")).to_have_count(1)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "1-holder-opens-a-right-phone-zh")

    desk = new_page(browser)
    login(desk, buyer.email)
    desk.goto(url("/wants/new/"))
    desk.fill("#id_title", "Anode coatings for lithium cells")
    desk.fill("#id_keywords", "锂电池 anode")
    desk.fill("#id_classes", "H01M 4/13")
    desk.fill("#id_deadline", (timezone.localdate() + datetime.timedelta(days=60)).isoformat())
    desk.click("main form.form-grid button[type=submit]")
    expect(desk.locator(".match-list")).to_contain_text("A right held but not for sale")
    expect(desk.locator(".match-list")).not_to_contain_text("一种锂电池负极涂层")
    expect(desk.locator(".match-list")).not_to_contain_text(holder_org.legal_name)
    shot(desk, "2-buyer-sees-an-unnamed-right-desktop-en")

    phone.goto(url("/notifications/"))
    expect(phone.locator("body")).to_contain_text("有买方在寻找类似您的权利")
    phone.goto(url(f"/wants/{Want.objects.get().pk}/"))
    expect(phone.locator("[data-testid=list-to-answer]")).to_have_text("挂牌以回应")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "3-holder-may-list-to-answer-phone-zh")

    # A listing under auction: no Buy button, the auction instead.
    seller_org = OrganizationFactory(legal_name="清源大学技术转移中心")
    seller = make_member(roles=(Role.SELLER,), org=seller_org, email="seller2@e2e.test", language="en")
    listing = published_listing(org=seller_org, title="一种固态电解质及其制备方法", price_minor=100_000_000)
    now = timezone.now()
    auction = auction_create(listing=listing, actor=seller, start_price_minor=50_000_000, reserve_minor=0,
                             increment_minor=1_000_000, deposit_minor=5_000_000,
                             starts_at=now - datetime.timedelta(seconds=1), ends_at=now + datetime.timedelta(hours=3))
    for p, word, name in ((desk, "Being auctioned", "4-listing-under-auction-desktop-en"),
                          (phone, "拍卖中", "5-listing-under-auction-phone-zh")):
        p.goto(url(listing.get_absolute_url()))
        expect(p.locator("[data-testid=on-auction]")).to_contain_text(word)
        expect(p.locator(f"a[href='/orders/new/{listing.pk}/']")).to_have_count(0)
        expect(p.locator("[data-testid=auction-link]")).to_have_attribute("href", auction.get_absolute_url())
        shot(p, name)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    desk.context.close()
    phone.context.close()


def test_anonymous_want_offer_and_a_withdrawn_match(e2e_tenant, browser, url, shot, login):
    """A buyer posts an anonymous want on the phone (zh) and sees two matches; one seller withdraws its
    listing (the match is marked withdrawn on the buyer's page), the other answers on the desktop (en) and
    sees "Anonymous buyer" in the negotiation until the buyer tells who it is."""
    from listings.services import listing_withdraw

    holder_org = OrganizationFactory(legal_name="Northgate Energy Materials GmbH")
    holder = make_member(roles=(Role.SELLER,), org=holder_org, email="holder3@e2e.test", language="en")
    offered = published_listing(org=holder_org, title="Lithium electrode coating process", price_minor=45_000_000,
                                records=[register_record(owner_name=holder_org.legal_name, classes=["H01M 4/13"],
                                                         title="Lithium electrode coating process",
                                                         abstract="lithium electrode coating 锂电池 电极")])
    other_org = OrganizationFactory(legal_name="清源大学技术转移中心")
    other_seller = make_member(roles=(Role.SELLER,), org=other_org, email="seller3@e2e.test", language="zh-hans")
    gone = published_listing(org=other_org, title="一种锂电池电极涂布装置", price_minor=30_000_000,
                             records=[register_record(owner_name=other_org.legal_name, title="一种锂电池电极涂布装置",
                                                      classes=["H01M 4/13"], abstract="锂电池 电极 涂布")])
    buyer_org = OrganizationFactory(legal_name="杭州远景储能股份有限公司")
    buyer = make_member(roles=(Role.BUYER,), org=buyer_org, email="buyer3@e2e.test", language="zh-hans")

    phone = new_page(browser, phone=True)
    login(phone, buyer.email)
    phone.goto(url("/wants/new/"))
    phone.fill("#id_title", "锂电池电极涂布技术")
    phone.fill("#id_keywords", "锂电池 电极 coating")
    phone.fill("#id_classes", "H01M 4/13")
    phone.fill("#id_deadline", (timezone.localdate() + datetime.timedelta(days=45)).isoformat())
    phone.fill("#id_budget_max", "500,000")
    phone.locator("#id_anonymous").check()
    phone.click("main form.form-grid button[type=submit]")
    expect(phone.locator(".match-list li")).to_have_count(2)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "1-anonymous-want-matches-phone-zh")
    want = Want.objects.get()

    # One seller takes its listing off the market: the buyer's page marks the match withdrawn.
    listing_withdraw(listing=gone, actor=other_seller, reason="")
    phone.reload()
    expect(phone.locator("[data-testid=match-withdrawn]")).to_contain_text("已撤回")
    expect(phone.locator("[data-testid=match-withdrawn]")).to_contain_text("卖方已将挂牌下架")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "2-match-withdrawn-phone-zh")

    # The other holder answers on the desktop; the buyer stays anonymous in the negotiation.
    desk = new_page(browser)
    login(desk, holder.email)
    desk.goto(url(want.get_absolute_url()))
    expect(desk.locator("main")).to_contain_text("Anonymous buyer")
    desk.fill("#id_price", "420,000")
    desk.locator("#answer button[type=submit]").click()
    expect(desk.locator(".messages")).to_contain_text("Your offer was sent to the buyer.")
    answer = Answer.objects.get()
    assert answer.listing_id == offered.pk
    offer_id = answer.offer_id
    desk.goto(url(f"/deals/offers/{offer_id}/"))
    expect(desk.locator("main")).to_contain_text("Anonymous buyer")
    expect(desk.locator("main")).not_to_contain_text(buyer_org.legal_name)
    shot(desk, "3-seller-sees-an-anonymous-buyer-desktop-en")

    # The buyer opens the offer from its want and tells the seller who it is.
    phone.goto(url(want.get_absolute_url()))
    phone.locator("[data-testid=answer-offer]").click()
    expect(phone.locator("[data-testid=anonymous-card]")).to_contain_text("匿名")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "4-buyer-may-reveal-phone-zh")
    phone.locator("[data-testid=reveal-buyer]").click()
    expect(phone.locator(".messages")).to_contain_text("卖方现已知道您是谁")
    desk.reload()
    expect(desk.locator("main")).to_contain_text(buyer_org.legal_name)
    shot(desk, "5-seller-sees-the-buyer-desktop-en")
    desk.context.close()
    phone.context.close()
