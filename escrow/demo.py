"""Demo orders for the zgc exchange, in different states, made through the real services.
Idempotent: once the demo buyer has orders, nothing more is added."""

from accounts.models import Organization, User
from core.tenancy import tenant_context
from listings.models import Listing
from listings.selectors import conflicting_encumbrances

from . import services as s
from .models import EscrowBankAccount, Order

BUYER = "buyer@zgc.ipex.local"
SELLER = "seller@zgc.ipex.local"
STAFF = "escrow@zgc.ipex.local"
PLAN = ["placed", "seller_confirmed", "funded", "disputed", "refunded"]


def _deliver(payment):
    import uuid

    return s.payment_event_apply(provider=payment.provider, event_id=f"evt_demo_{uuid.uuid4().hex}",
                                 kind="payment.succeeded", payment_id=payment.pk, amount_minor=payment.amount_minor)


ESCROW_ACCOUNTS = {
    "zgc": dict(currency="CNY", bank="中国银行北京中关村支行 Bank of China, Beijing Zhongguancun Branch",
                account_name="中关村知识产权交易所有限公司（资金监管户）", account_number="3301 0000 4488 1207 66",
                swift="BKCHCNBJ110", cnaps="104100004465",
                reference_note="在附言中注明付款参考号 · Quote the payment reference in the remittance information"),
    "gba": dict(currency="HKD", bank="The Hongkong and Shanghai Banking Corporation Limited",
                account_name="Greater Bay Area IP Exchange Ltd — Client Escrow Account",
                account_number="004-848-203917-838", swift="HSBCHKHHHKH",
                reference_note="Quote the payment reference as 'Payment reference' / in the remittance details"),
}


def seed_escrow_accounts(tenants):
    for slug, spec in ESCROW_ACCOUNTS.items():
        tenant = tenants.get(slug)
        if tenant is not None:
            with tenant_context(tenant):
                EscrowBankAccount.objects.get_or_create(currency=spec["currency"], is_active=True, defaults=spec)


def seed(tenants):
    seed_escrow_accounts(tenants)
    tenant = tenants.get("zgc")
    if tenant is None:
        return
    with tenant_context(tenant):
        buyer = User.objects.filter(email=BUYER).first()
        seller = User.objects.filter(email=SELLER).first()
        staff = User.objects.filter(email=STAFF).first()
        if not (buyer and seller and staff):
            return
        buyer_org = Organization.objects.filter(memberships__user=buyer).first()
        seller_org = Organization.objects.filter(memberships__user=seller).first()
        if buyer_org is None or seller_org is None or Order.objects.filter(buyer_org=buyer_org).exists():
            return
        candidates = (Listing.objects.filter(seller_org=seller_org, state=Listing.State.PUBLISHED, featured=False)
                      .order_by("-pk")[:len(PLAN) * 3])
        # a listing of a pledged right cannot be ordered (listings.selectors.conflicting_encumbrances)
        listings = [listing for listing in candidates if not conflicting_encumbrances(listing)][:len(PLAN)]
        for listing, target in zip(listings, PLAN, strict=False):
            order = s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
            if target == "placed":
                continue
            s.order_seller_confirm(order=order, actor=seller)
            if target == "seller_confirmed":
                continue
            _deliver(s.payment_start(order=order, actor=buyer, provider="simulated"))
            if target == "disputed":
                s.order_dispute_open(order=order, actor=buyer,
                                     reason="卖方迟迟未签署转让协议 / The seller has not signed the transfer agreement.")
            elif target == "refunded":
                s.order_refund(order=order, actor=staff, reason="双方协商一致解除交易 / Both parties agreed to cancel.")
                for disb in order.disbursements.all():
                    s.disbursement_execute(disbursement_id=disb.pk)
