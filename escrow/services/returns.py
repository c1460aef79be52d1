"""A refund after the office recorded the buyer as owner (issue 11): the transfer back.

`_refund_or_return` (orders) moves such an order to RETURN_PENDING and keeps the payment held; the
transfers app prepares the assignment back to the seller, both parties sign it, an officer files it
and the poller follows it. Then one of:

- `order_return_complete`: the office recorded the transfer back → the buyer is repaid in full (one
  balanced entry: escrow held → refund clearing), the listing goes back on the market. Called by
  transfers inside its own transaction, with the order locked.
- `order_return_split`: staff settle by a split instead (the buyer keeps the rights, gets part of the
  payment back, the seller the rest after fees), while the transfer back is not with the office.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import Conflict, InvalidTransition, ValidationFailed
from core.events import ask
from core.permissions import Role
from escrow.models import Order
from escrow.models import OrderState as S
from listings.models import Listing

from .common import require_staff
from .core import lock_order_and_listing
from .disputes import _settle_split
from .orders import _refund, _require_refund_reason


def order_return_complete(*, order: Order, actor: User | None = None, actor_label: str = "") -> Order:
    """The office recorded the transfer back to the seller: repay the buyer (as a refund, through the
    provider the money came from). NON-durable: the caller (transfers, applying the office's answer)
    holds the transaction and the lock on the order; the listing is locked here, after the order."""
    if order.state != S.RETURN_PENDING:
        raise InvalidTransition(_("Order %(ref)s has no transfer back under way.") % {"ref": order.reference})
    listing = Listing.objects.select_for_update(of=("self",)).get(pk=order.listing_id)
    order.listing = listing
    reason = _("The office recorded the transfer back to the seller. %(reason)s") % {"reason": order.close_reason}
    return _refund(order, listing, actor=actor, actor_label=actor_label or "office", reason=reason.strip())


@transaction.atomic(durable=True)
def order_return_split(*, order: Order, actor: User, refund_minor: int | None, note: str,
                       expected_refund_minor: int | None = None) -> Order:
    """Escrow staff settle an order awaiting its transfer back by a split instead: the transfer back is
    abandoned (the buyer keeps the rights), `refund_minor` goes back to the buyer, the rest after fees to
    the seller; one balanced entry. Refused once the transfer back is with the office."""
    _require_refund_reason(note)
    order, listing = lock_order_and_listing(order.pk)
    require_staff(actor, Role.ESCROW_OFFICER)
    if order.state != S.RETURN_PENDING:
        raise InvalidTransition(_("Order %(ref)s has no transfer back under way.") % {"ref": order.reference})
    if refund_minor is None:
        raise ValidationFailed(_("Enter the amount refunded to the buyer."),
                               field_errors={"refund": [_("This field is required.")]})
    if expected_refund_minor is not None and expected_refund_minor != refund_minor:
        raise Conflict(_("The amount changed since the summary was shown; nothing was done. Check it again."))
    why_not = ask("order.return_cancellable", order=order)
    if why_not:
        raise Conflict(str(why_not))
    _settle_split(order, listing, refund_minor=refund_minor, actor=actor, note=note)
    return order
