"""Shared helpers of the escrow services: actor checks, listing hand-offs, disbursements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.utils.translation import gettext as _

from core.counters import next_number
from core.errors import NotAllowed
from core.outbox import enqueue
from core.permissions import Role, has_role, is_member, require_one_side
from core.tenancy import require_tenant
from escrow import ledger
from escrow.models import AccountKind, Disbursement, LedgerAccount, Order, Payment

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise

    from accounts.models import Organization, User
    from listings.models import Listing

K = AccountKind


def require_party(actor: User | None, org: Organization | None, message: _StrOrPromise) -> None:
    if actor is None or not is_member(actor, org):
        raise NotAllowed(message)


def require_buyer(actor: User | None, order: Order) -> None:
    require_party(actor, order.buyer_org, _("Only the buyer's organization can do this."))
    require_one_side(actor, acting_for=order.buyer_org, other_side=order.seller_org)


def require_seller(actor: User | None, order: Order) -> None:
    require_party(actor, order.seller_org, _("Only the seller's organization can do this."))
    require_one_side(actor, acting_for=order.seller_org, other_side=order.buyer_org)


def is_staff_for(actor: Any, *roles: str) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return actor.is_superuser or has_role(actor, *roles)


def require_staff(actor: Any, *roles: str) -> None:
    roles = roles or (Role.ESCROW_OFFICER,)
    if not is_staff_for(actor, *roles):
        raise NotAllowed(_("Only the exchange's escrow staff can do this."))


def next_reference(prefix: str, counter: str, *, tenant: Any = None) -> str:
    """`IPX-2026-000123`: numbered per exchange and year (core.counters), never by a global sequence."""
    from django.utils import timezone

    year = timezone.localdate().year
    number = next_number(tenant=tenant or require_tenant(), name=f"{counter}:{year}")
    return f"{prefix}-{year}-{number:06d}"


from .payouts import route  # noqa: E402 (payouts uses nothing of this module)

# --- money out ---------------------------------------------------------------------------------

def create_disbursement(*, kind: str, amount_minor: int, currency: str, provider: str, recipient_org: Organization,
                        order: Order | None = None, listing: Listing | None = None, payment: Payment | None = None,
                        source_account: LedgerAccount | None = None, actor: User | None = None) -> Disbursement | None:
    """Queue money going out. Payouts move the amount from the payable account (`source_account`)
    to payout clearing now; refunds already sit in refund clearing. The provider call happens in
    `disbursement_execute` (a task after commit), which settles against provider clearing."""
    if amount_minor <= 0:
        return None
    tenant = require_tenant()
    disb = Disbursement.objects.create(tenant=tenant, kind=kind, order=order, listing=listing, payment=payment,
                                       recipient_org=recipient_org, provider=provider, amount_minor=amount_minor,
                                       currency=currency)
    if kind != Disbursement.Kind.REFUND:
        ledger.post(f"{kind}_queued", [
            (cast(LedgerAccount, source_account), amount_minor),  # payouts always name the payable account
            (ledger.account(K.PAYOUT_CLEARING, currency, provider=provider), -amount_minor),
        ], order=order, listing=listing, memo=str(disb), idempotency_key=f"disb-queued-{disb.pk}", created_by=actor)
    if route(disb):
        disb.save(update_fields=["destination"])
        enqueue("escrow.tasks.execute_disbursement", disbursement_id=disb.pk, tenant_id=tenant.pk)
    else:
        disb.save(update_fields=["state", "destination", "last_error"])
    return disb


def cancel_pending_payments(order: Order) -> None:
    Payment.objects.filter(order=order, state=Payment.State.PENDING).update(state=Payment.State.CANCELLED)


def order_payment(order: Order) -> Payment | None:
    """The payment that funded this order."""
    return Payment.objects.filter(order=order, purpose=Payment.Purpose.ORDER,
                                  state=Payment.State.SUCCEEDED).order_by("received_at", "pk").first()
