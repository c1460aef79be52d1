"""Journey: a negotiated non-exclusive licence with a broker on the seller's side. The broker proposes a
mandate (desktop, English); the university accepts it on a phone (Chinese); a company makes a licence
offer with a running royalty (phone, Chinese); the broker counters for the university (desktop); the
company accepts with the confirmation box and lands on the escrowed order at the agreed price. Screenshots
of each step; no sideways scrolling on the phone."""

import pytest

from accounts.models import Mandate, Role
from escrow.models import Order
from listings.models import Listing
from negotiation.models import Offer
from tests.e2e.conftest import new_page
from tests.factories import OrganizationFactory, escrow_listing, make_member


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.django_db(transaction=True)
def test_negotiated_licence_with_a_broker_on_the_seller_side(browser, e2e_tenant, url, shot, login):
    # given a university's non-exclusive licence listing taking offers, a broker and a licensee
    uni = OrganizationFactory(legal_name="清源大学技术转移中心", legal_name_en="Qingyuan University TTO")
    seller = make_member(roles=(Role.SELLER,), org=uni, full_name="陈静", email="tto@deal-e2e.test",
                         language="zh-hans")
    broker_org = OrganizationFactory(legal_name="华智知识产权经纪有限公司", legal_name_en="Huazhi IP Brokers Ltd.")
    broker = make_member(roles=(Role.SELLER,), org=broker_org, full_name="Wang Lei", email="broker@deal-e2e.test",
                         language="en")
    company = OrganizationFactory(legal_name="北京星河智能科技有限公司")
    buyer = make_member(roles=(Role.BUYER,), org=company, full_name="刘洋", email="buyer@deal-e2e.test",
                        language="zh-hans")
    listing = escrow_listing(seller_org=uni, created_by=seller, price_minor=50_000_000,
                             title="一种基于深度学习的锂电池健康状态估计方法", deal_type="non_exclusive_licence",
                             pricing=Listing.Pricing.OFFERS, offer_floor_minor=20_000_000, licence_territory="中国大陆",
                             licence_term_months=36, licence_cap=5)

    # when the broker proposes a mandate for this listing at 5 % (desktop, English)
    broker_page = new_page(browser)
    login(broker_page, broker.email)
    broker_page.goto(url("/deals/mandates/"))
    # the principal is found by name (type-ahead), not picked from a list of the whole exchange
    broker_page.fill("input[name=q]", "大学")
    broker_page.locator(f"input[name=principal][value='{uni.pk}']").wait_for()
    broker_page.check(f"input[name=principal][value='{uni.pk}']")
    broker_page.fill("input[name=listings]", str(listing.pk))
    broker_page.fill("input[name=commission_percent]", "5")
    shot(broker_page, "0-broker-finds-principal-desktop-en")
    broker_page.get_by_role("button", name="Propose").click()
    broker_page.wait_for_load_state()
    assert "awaiting the principal" in broker_page.content().lower()
    shot(broker_page, "1-broker-proposes-mandate-desktop-en")

    # and the university accepts it on a phone (Chinese)
    seller_page = new_page(browser, phone=True)
    login(seller_page, seller.email)
    seller_page.goto(url("/deals/mandates/"))
    assert "华智知识产权经纪有限公司" in seller_page.content()
    shot(seller_page, "2-university-sees-mandate-phone-zh")
    seller_page.get_by_role("button", name="接受").click()
    seller_page.wait_for_load_state()
    assert "委托已生效" in seller_page.content()
    assert no_sideways_scroll(seller_page)
    assert Mandate.objects.get().state == Mandate.State.ACTIVE

    # and the company makes a licence offer with a running royalty (phone, Chinese)
    buyer_page = new_page(browser, phone=True)
    login(buyer_page, buyer.email)
    buyer_page.goto(url(f"/listings/{listing.pk}/"))
    buyer_page.get_by_test_id("deal-link").click()
    buyer_page.wait_for_load_state()
    buyer_page.fill("input[name=price]", "300000")
    buyer_page.fill("input[name=field_of_use]", "新能源汽车电池管理")
    buyer_page.fill("input[name=royalty_percent]", "2.5")
    buyer_page.select_option("select[name=royalty_period]", "quarter")
    buyer_page.fill("textarea[name=note]", "我们希望在新能源汽车领域实施。")
    shot(buyer_page, "3-company-offer-form-phone-zh")
    assert no_sideways_scroll(buyer_page)
    buyer_page.get_by_role("button", name="提交报价").click()  # the exchange-wide word for sending an offer
    buyer_page.wait_for_load_state()
    assert "您的报价已发送给卖方" in buyer_page.content()
    offer = Offer.objects.get()
    assert offer.price_minor == 30_000_000
    assert offer.terms["royalty_bps"] == 250

    # then the broker counters for the university (desktop, English)
    broker_page.goto(url(f"/deals/offers/{offer.pk}/"))
    broker_page.get_by_text("Counter-offer", exact=True).click()
    broker_page.fill("form[action$='/counter/'] input[name=price]", "400000")
    broker_page.fill("form[action$='/counter/'] input[name=royalty_percent]", "3")
    broker_page.fill("form[action$='/counter/'] textarea[name=note]", "Our client's best terms: 400k upfront, 3 %.")
    shot(broker_page, "4-broker-counters-desktop-en")
    broker_page.get_by_role("button", name="Send the counter-offer").click()
    broker_page.wait_for_load_state()
    assert "Your counter-offer was sent." in broker_page.content()
    assert "seller's broker: 华智知识产权经纪有限公司" in broker_page.content()

    # and the company accepts on its phone, confirming the deal
    buyer_page.goto(url(f"/deals/offers/{offer.pk}/"))
    assert "卖方经纪人" in buyer_page.content()
    shot(buyer_page, "5-company-sees-counter-phone-zh")
    assert no_sideways_scroll(buyer_page)
    buyer_page.check("input[name=confirm]")
    buyer_page.get_by_role("button", name="接受").click()
    buyer_page.wait_for_load_state()
    order = Order.objects.get()
    assert order.reference in buyer_page.content()
    shot(buyer_page, "6-company-order-phone-zh")
    assert no_sideways_scroll(buyer_page)

    # the order is escrowed at the agreed price and terms, with the broker's 5 % split out of the university's share
    assert (order.price_minor, order.holds_listing, order.broker_org_id) == (40_000_000, False, broker_org.pk)
    assert order.broker_commission_minor == 2_000_000
    assert order.terms["royalty_bps"] == 300
    assert order.terms["field"] == "新能源汽车电池管理"
    listing.refresh_from_db()
    assert listing.state == Listing.State.PUBLISHED  # other licensees may still come

    # and the university sees the deal and its licensee on the listing's deal page (desktop, English view)
    seller_desk = new_page(browser)
    login(seller_desk, seller.email)
    seller_desk.goto(url(f"/deals/listings/{listing.pk}/"))
    assert "北京星河智能科技有限公司" in seller_desk.content()
    shot(seller_desk, "7-university-deal-page-desktop")
    for p in (broker_page, seller_page, buyer_page, seller_desk):
        p.context.close()


@pytest.mark.django_db(transaction=True)
def test_brokers_order_page_and_a_sold_out_licence_listing(browser, e2e_tenant, url, shot, login):
    """A university's single non-exclusive licence is agreed through its broker: the listing shows as sold
    out (phone, Chinese; desktop, English); the broker reads the order it brokered — its commission, the
    papers, no bank details — on desktop (English) and phone (Chinese)."""
    from accounts.mandates import mandate_accept, mandate_propose
    from negotiation import services as deals

    uni = OrganizationFactory(legal_name="清源大学技术转移中心", legal_name_en="Qingyuan University TTO")
    seller = make_member(roles=(Role.SELLER,), org=uni, full_name="陈静", email="tto2@deal-e2e.test")
    broker_org = OrganizationFactory(legal_name="华智知识产权经纪有限公司", legal_name_en="Huazhi IP Brokers Ltd.")
    broker = make_member(roles=(Role.SELLER,), org=broker_org, full_name="Wang Lei", email="broker2@deal-e2e.test",
                         language="en")
    buyer = make_member(roles=(Role.BUYER,), org=OrganizationFactory(legal_name="北京星河智能科技有限公司"),
                        full_name="刘洋", email="buyer2@deal-e2e.test")
    listing = escrow_listing(seller_org=uni, created_by=seller, price_minor=50_000_000,
                             title="一种基于深度学习的锂电池健康状态估计方法", deal_type="non_exclusive_licence",
                             pricing=Listing.Pricing.OFFERS, licence_territory="中国大陆", licence_term_months=36,
                             licence_cap=1)
    mandate = mandate_propose(actor=broker, broker_org=broker_org, principal_org=uni, listing_ids=[listing.pk],
                              commission_bps=500, may_sign=True)
    mandate_accept(mandate=mandate, actor=seller)
    offer = deals.offer_make(listing=listing, actor=buyer, price_minor=40_000_000, currency=listing.currency,
                             terms={"territory": "中国大陆"})
    offer = deals.offer_counter(offer=offer, actor=broker, price_minor=45_000_000)
    order = deals.offer_accept(offer=offer, actor=buyer).order
    listing.refresh_from_db()
    assert listing.state == Listing.State.SOLD_OUT

    phone = new_page(browser, phone=True)
    phone.goto(url(f"/listings/{listing.pk}/"))
    assert "已售罄" in phone.content()
    assert "Sold out" not in phone.content()
    assert no_sideways_scroll(phone)
    shot(phone, "1-sold-out-listing-phone-zh")
    desktop = new_page(browser)
    desktop.goto(url(f"/listings/{listing.pk}/"))
    assert "Sold out" in desktop.content()
    shot(desktop, "2-sold-out-listing-desktop-en")

    login(desktop, broker.email)
    desktop.goto(url("/orders/"))
    assert order.reference in desktop.content()
    shot(desktop, "3-broker-order-list-desktop-en")
    desktop.goto(url(order.get_absolute_url()))
    content = desktop.content()
    assert "Your commission" in content
    assert "you brokered this deal for the seller" in content
    shot(desktop, "4-broker-order-page-desktop-en")

    colleague = make_member(roles=(Role.SELLER,), org=broker_org, full_name="王磊", email="broker2zh@deal-e2e.test",
                            language="zh-hans")  # the broker's colleague reads Chinese on a phone
    broker_phone = new_page(browser, phone=True)
    login(broker_phone, colleague.email)
    broker_phone.goto(url(order.get_absolute_url()))
    assert "您的佣金" in broker_phone.content()
    assert no_sideways_scroll(broker_phone)
    shot(broker_phone, "5-broker-order-page-phone-zh")
    broker_phone.goto(url("/deals/mandates/"))
    assert "可签署文件" in broker_phone.content()
    assert no_sideways_scroll(broker_phone)
    shot(broker_phone, "6-mandates-phone-zh")
    # the principal chooser on a phone: search by name (the plain GET form's button), the matches as radios
    broker_phone.fill("input[name=q]", "科技")
    broker_phone.get_by_role("button", name="搜索", exact=True).click()
    broker_phone.wait_for_load_state()
    assert broker_phone.locator("input[name=principal]").count() >= 1
    assert no_sideways_scroll(broker_phone)
    broker_phone.locator("#principal-results").scroll_into_view_if_needed()
    shot(broker_phone, "7-principal-search-phone-zh")
    assert Order.objects.filter(broker_org=broker_org).count() == 1
    assert Offer.objects.get().state == Offer.State.ACCEPTED
