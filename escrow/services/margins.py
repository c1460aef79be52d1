"""The seller's margin (deposit) on a listing: paid before publication, held while the listing is
live, returned on withdrawal without a live order or when the sale completes, forfeited to the buyer
when the seller defaults after the buyer paid."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Organization, User
from core.audit import audit_record
from core.errors import InvalidTransition, NotAllowed
from core.events import answer, on
from core.fees import seller_margin_minor
from core.notifications import notify
from core.permissions import is_member
from core.tenancy import require_tenant
from escrow import ledger
from escrow.models import AccountKind, Disbursement, Order, Payment
from listings.models import Listing

from .common import create_disbursement, next_reference

if TYPE_CHECKING:
    from core.models import Tenant

K = AccountKind


@answer("listing.margin_minor")
def margin_amount_for(listing: Listing) -> int:
    """Minor units the tenant requires as margin for `listing` (0 = none): the amount fixed on the
    listing when it was verified, else the tenant's current rule. Listings asks it when a verifier
    approves (core.events.ask)."""
    if getattr(listing, "margin_minor", 0):
        return int(listing.margin_minor)
    return seller_margin_minor(tenant=listing.tenant, price_minor=listing.price_minor, currency=listing.currency)


def margin_payment(listing: Listing) -> Payment | None:
    """The succeeded payment of this listing's margin (the provider it goes back through)."""
    return (Payment.objects.filter(listing=listing, purpose=Payment.Purpose.MARGIN, state=Payment.State.SUCCEEDED)
            .order_by("-received_at", "-pk").first())


@transaction.atomic(durable=True)
def margin_pay_start(*, listing: Listing, actor: User, provider: str) -> Payment:
    """The seller starts paying the margin of a listing awaiting margin; returns the pending Payment
    (the view then sends them to the provider's page)."""
    tenant = require_tenant()
    listing = Listing.objects.select_for_update(of=("self",)).get(pk=listing.pk)
    if not is_member(actor, listing.seller_org):
        raise NotAllowed(_("Only the seller's organization can pay the margin of this listing."))
    if listing.state != Listing.State.AWAITING_MARGIN:
        raise InvalidTransition(_("This listing is not waiting for a margin."))
    amount = margin_amount_for(listing)
    if amount <= 0:
        raise InvalidTransition(_("This exchange does not require a margin."))
    pending = Payment.objects.filter(listing=listing, purpose=Payment.Purpose.MARGIN, provider=provider,
                                     state=Payment.State.PENDING).first()
    if pending:
        return pending
    payment = Payment.objects.create(
        tenant=tenant, purpose=Payment.Purpose.MARGIN, listing=listing, payer_org=listing.seller_org,
        provider=provider, amount_minor=amount, currency=listing.currency,
        reference=next_reference("MGN", "payment", tenant=tenant), created_by=actor)
    audit_record(actor=actor, action="margin.payment_started", obj=listing,
                 data={"payment": payment.reference, "provider": provider, "amount_minor": amount})
    return payment


def _seller_users(org: Organization) -> list[User]:
    return list(User.objects.filter(memberships__organization=org, is_active=True).distinct())


@on("listing.withdrawn", "listing.lapsed")
def _margin_return_on_event(*, tenant: Tenant, data: dict[str, Any], listing: Listing, actor: User | None = None,
                            reason: str = "") -> None:
    margin_return(listing=listing, actor=actor, reason=reason)


def margin_return(*, listing: Listing, actor: User | None = None, reason: str = "") -> Disbursement | None:
    """NON-durable (runs inside the listing's withdraw/lapse transaction, listing locked, and at the
    sale's release): return the held margin to the seller through the provider it came from. No-op
    (None) if none is held."""
    held = ledger.margin_balance(listing)
    if held <= 0:
        return None
    payment = margin_payment(listing)
    provider = payment.provider if payment else "bank_transfer"
    seller_payable = ledger.account(K.SELLER_PAYABLE, listing.currency, organization=listing.seller_org)
    ledger.post("margin_returned", [
        (ledger.account(K.MARGIN_HELD, listing.currency, listing=listing), held),
        (seller_payable, -held),
    ], listing=listing, memo=f"margin of listing {listing.pk} returned", created_by=actor)
    disb = create_disbursement(kind=Disbursement.Kind.MARGIN_RETURN, amount_minor=held, currency=listing.currency,
                               provider=provider, recipient_org=listing.seller_org, listing=listing, payment=payment,
                               source_account=seller_payable, actor=actor)
    audit_record(actor=actor, actor_label="" if actor else "system", action="margin.returned", obj=listing,
                 reason=reason, data={"amount_minor": held})
    notify(users=_seller_users(listing.seller_org), kind="margin.returned",
           subject=gettext_lazy("Your margin for “%(title)s” is being returned"), body=reason,
           params={"title": listing.title})
    return disb


def margin_forfeit(*, listing: Listing, order: Order, reason: str = "") -> Disbursement | None:
    """NON-durable: forfeit the held margin to the buyer of `order` (seller default). No-op if none."""
    held = ledger.margin_balance(listing)
    if held <= 0:
        return None
    payment = margin_payment(listing)
    provider = payment.provider if payment else "bank_transfer"
    buyer_payable = ledger.account(K.BUYER_PAYABLE, listing.currency, organization=order.buyer_org)
    ledger.post("margin_forfeited", [
        (ledger.account(K.MARGIN_HELD, listing.currency, listing=listing), held),
        (buyer_payable, -held),
    ], listing=listing, order=order, memo=f"margin of listing {listing.pk} forfeited to {order.reference}")
    disb = create_disbursement(kind=Disbursement.Kind.MARGIN_FORFEIT, amount_minor=held, currency=listing.currency,
                               provider=provider, recipient_org=order.buyer_org, order=order, listing=listing,
                               payment=payment, source_account=buyer_payable)
    audit_record(actor_label="deadline", action="margin.forfeited", obj=listing, reason=reason,
                 data={"amount_minor": held, "order": order.reference})
    return disb
