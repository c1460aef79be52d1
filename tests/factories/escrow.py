"""Escrow test data: listings ready to order, and orders driven to a state through the real services."""

import itertools
import uuid

from django.db import transaction

from accounts.models import Role
from core.tenancy import require_tenant
from escrow.models import Order, OrderState
from listings.models import Listing

from .accounts import OrganizationFactory, make_member

__all__ = ["escrow_listing", "escrow_parties", "order_in_state", "pay_order", "escrow_staff", "deliver_payment"]

_seq = itertools.count(1)


def escrow_listing(*, seller_org=None, price_minor=1_000_000, state=Listing.State.PUBLISHED, currency=None, **kw):
    """A listing in `state` (default published) of `seller_org` (a new verified one if None)."""
    tenant = require_tenant()
    seller_org = seller_org or OrganizationFactory()
    creator = kw.pop("created_by", None) or make_member(roles=(Role.SELLER,), org=seller_org)
    return Listing.objects.create(
        seller_org=seller_org, created_by=creator, title=kw.pop("title", f"一种数据压缩方法 {next(_seq)}"),
        price_minor=price_minor, currency=currency or tenant.currency, state=state,
        deal_type=kw.pop("deal_type", Listing.DealType.ASSIGNMENT), **kw)


def escrow_parties(*, price_minor=1_000_000, listing_state=Listing.State.PUBLISHED):
    """(listing, seller user, buyer user) of two different organizations."""
    seller_org = OrganizationFactory()
    seller = make_member(roles=(Role.SELLER,), org=seller_org)
    listing = escrow_listing(seller_org=seller_org, price_minor=price_minor, created_by=seller, state=listing_state)
    buyer = make_member(roles=(Role.BUYER,))
    return listing, seller, buyer


def escrow_staff(roles=(Role.ESCROW_OFFICER, Role.FINANCE)):
    return make_member(roles=roles, org=False)


def deliver_payment(payment, *, approved=True, event_id=None):
    """What the simulated provider's webhook does, applied directly (no broker, no HTTP)."""
    from escrow.services import payment_event_apply

    return payment_event_apply(provider=payment.provider, event_id=event_id or f"evt_test_{uuid.uuid4().hex}",
                               kind="payment.succeeded" if approved else "payment.failed", payment_id=payment.pk,
                               provider_ref=f"ref_{payment.pk}", amount_minor=payment.amount_minor,
                               currency=payment.currency)


def pay_order(order, buyer, provider="simulated"):
    from escrow.services import payment_start

    payment = payment_start(order=order, actor=buyer, provider=provider)
    deliver_payment(payment)
    order.refresh_from_db()
    return payment


def order_in_state(state, *, listing=None, seller=None, buyer=None, price_minor=1_000_000):
    """An order driven through the real services up to `state` (placed … completed, refunded,
    cancelled, disputed). Returns (order, seller, buyer)."""
    from escrow import services as s
    from escrow.services.core import lock_order

    if listing is None:
        listing, seller, buyer = escrow_parties(price_minor=price_minor)
    order = s.order_place(listing=listing, buyer=buyer, terms_accepted=True)
    if state == OrderState.PLACED:
        return order, seller, buyer
    if state == OrderState.CANCELLED:
        return s.order_buyer_cancel(order=order, actor=buyer), seller, buyer
    s.order_seller_confirm(order=order, actor=seller)
    if state == OrderState.SELLER_CONFIRMED:
        order.refresh_from_db()
        return order, seller, buyer
    pay_order(order, buyer)
    staff = None
    if state in (OrderState.REFUNDED, OrderState.DISPUTED):
        if state == OrderState.DISPUTED:
            s.order_dispute_open(order=order, actor=buyer, reason="The seller stopped answering.")
        else:
            staff = escrow_staff()
            s.order_refund(order=order, actor=staff, reason="Test refund")
        order.refresh_from_db()
        return order, seller, buyer
    steps = {OrderState.TRANSFER_FILED: ["file_transfer"],
             OrderState.TRANSFER_APPROVED: ["file_transfer", "approve_transfer"],
             OrderState.TRANSFER_REJECTED: ["file_transfer", "reject_transfer"],
             OrderState.COMPLETED: ["file_transfer", "approve_transfer"]}.get(state, [])
    for step in steps:
        with transaction.atomic():
            locked = lock_order(order.pk)
            s.order_step(locked, step, actor_label="test office")
    if state == OrderState.COMPLETED:
        s.order_confirm_certificate(order=order, actor=buyer)
    order = Order.objects.get(pk=order.pk)
    return order, seller, buyer
