"""Disputes hear both sides. Either party opens one after the payment is held; the other side is
told and answers with its own statement and evidence before `Dispute.answer_due`; escrow staff see
both sides, the evidence, the money and the timeline on one page and decide:

- refund: the buyer is refunded in full (as `order_refund`);
- continue: the trade resumes where it stopped (its deadline moved on by the dispute's length);
- split: part refunded to the buyer, the rest released to the seller — one balanced journal entry
  (escrow held → refund clearing, seller payable, platform fees), reasons sent to both.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.audit import audit_record
from core.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from core.money import format_money
from core.notifications import notify
from core.permissions import Role, is_member
from core.uploads import DOCUMENTS, validate_upload
from escrow import ledger
from escrow.models import (
    DISPUTABLE_STATES,
    AccountKind,
    Disbursement,
    Dispute,
    DisputeEvidence,
    DisputeStatement,
    Order,
    Payment,
)
from escrow.models import OrderState as S
from listings.models import Listing
from listings.services import listing_mark_sold, listing_release

from .common import create_disbursement, order_payment, require_staff
from .core import _transition, lock_order_and_listing, order_parties
from .margins import margin_return
from .orders import _refund_or_return, _require_refund_reason, licence_places_sync

K = AccountKind
MAX_EVIDENCE_FILES = 5
ANSWER_DAYS = 5


def _checked_files(files: Iterable[Any]) -> list[tuple[Any, str]]:
    files = list(files or [])
    if len(files) > MAX_EVIDENCE_FILES:
        raise ValidationFailed(_("Attach at most %(n)s files.") % {"n": MAX_EVIDENCE_FILES})
    checked = []
    for f in files:
        try:
            checked.append((f, validate_upload(f, allowed=DOCUMENTS)))
        except ValidationError as exc:
            raise ValidationFailed(f"{f.name}: {' '.join(exc.messages)}", field_errors={"files": exc.messages}) from None
    return checked


def _party(actor: User, order: Order) -> str:
    if is_member(actor, order.buyer_org):
        return "buyer"
    if is_member(actor, order.seller_org):
        return "seller"
    raise NotAllowed(_("Only the buyer or the seller can take part in a dispute."))


def _open_dispute(order: Order) -> Dispute | None:
    return Dispute.objects.select_for_update(of=("self",)).filter(order=order, state=Dispute.State.OPEN).first()


def _close(dispute: Dispute | None, outcome: str, actor: User, note: str, *,
           refund_minor: int | None = None) -> None:
    if dispute is None:
        return
    dispute.state, dispute.outcome = Dispute.State.RESOLVED, outcome
    dispute.resolved_by, dispute.resolved_at, dispute.resolution_note = actor, timezone.now(), note
    dispute.refund_minor = refund_minor
    dispute.save(update_fields=["state", "outcome", "resolved_by", "resolved_at", "resolution_note", "refund_minor"])


@transaction.atomic(durable=True)
def order_dispute_open(*, order: Order, actor: User, reason: str, files: Iterable[Any] = ()) -> Dispute:
    """Either party opens a dispute after funding, with a reason and evidence files (checked by content).
    The other side is told and has ANSWER_DAYS days to answer."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Describe what went wrong."), field_errors={"reason": [_("This field is required.")]})
    checked = _checked_files(files)
    order, _listing = lock_order_and_listing(order.pk)
    party = _party(actor, order)
    if order.state not in DISPUTABLE_STATES:
        raise InvalidTransition(_("A dispute can be opened after the payment is held and before the trade ends."))
    dispute = Dispute.objects.create(order=order, opened_by=actor, party=party, reason=reason,
                                     answer_due=timezone.now() + timedelta(days=ANSWER_DAYS))
    for f, content_type in checked:
        DisputeEvidence.objects.create(dispute=dispute, file=f, content_type=content_type, uploaded_by=actor,
                                       party=party)
    _transition(order, "open_dispute", actor=actor, reason=reason, data={"dispute": dispute.pk, "party": party,
                                                                         "files": len(checked)})
    other = order.seller_org if party == "buyer" else order.buyer_org
    notify(users=[u for u in order_parties(order) if is_member(u, other)], kind="dispute.answer_requested",
           subject=gettext_lazy("Order %(ref)s: answer the dispute by %(due)s"),
           body=gettext_lazy("The other side says: %(reason)s — give your side and any evidence before the "
                             "deadline; escrow staff decide after hearing both."),
           params={"ref": order.reference, "due": timezone.localtime(dispute.answer_due).strftime("%Y-%m-%d"),
                   "reason": reason[:300]}, url=order.get_absolute_url())
    return dispute


@transaction.atomic(durable=True)
def order_dispute_answer(*, order: Order, actor: User, statement: str,
                         files: Iterable[Any] = ()) -> DisputeStatement:
    """The other side answers an open dispute with its statement and evidence, once, before the deadline."""
    statement = (statement or "").strip()
    if not statement:
        raise ValidationFailed(_("Write your side of the matter."),
                               field_errors={"statement": [_("This field is required.")]})
    if len(statement) > 5000:
        raise ValidationFailed(_("Keep the statement under 5,000 characters."),
                               field_errors={"statement": [_("Too long.")]})
    checked = _checked_files(files)
    order, _listing = lock_order_and_listing(order.pk)
    party = _party(actor, order)
    dispute = _open_dispute(order)
    if dispute is None:
        raise InvalidTransition(_("This order has no open dispute."))
    if dispute.party == party:
        raise NotAllowed(_("Your side opened this dispute; the other side answers it."))
    if dispute.answer_due and timezone.now() > dispute.answer_due:
        raise InvalidTransition(_("The time to answer ended on %(due)s; escrow staff decide on what they have.")
                                % {"due": timezone.localtime(dispute.answer_due).strftime("%Y-%m-%d %H:%M")})
    if dispute.statements.filter(party=party).exists():
        raise Conflict(_("Your side has answered already."))
    answer = DisputeStatement.objects.create(dispute=dispute, party=party, author=actor, text=statement)
    for f, content_type in checked:
        DisputeEvidence.objects.create(dispute=dispute, file=f, content_type=content_type, uploaded_by=actor,
                                       party=party)
    audit_record(actor=actor, action="dispute.answered", obj=order, reason=statement[:500],
                 data={"dispute": dispute.pk, "party": party, "files": len(checked)})
    notify(users=order_parties(order), kind="dispute.answered",
           subject=gettext_lazy("Order %(ref)s: both sides of the dispute are in"),
           body=gettext_lazy("Escrow staff now decide."), params={"ref": order.reference},
           url=order.get_absolute_url())
    return answer


def split_amounts(order: Order, refund_minor: int) -> dict[str, int]:
    """What a split gives each side: the buyer `refund_minor`, the platform its fees, the seller the rest.
    A buyer's broker earns nothing in a split (like the seller's): the commission the buyer paid into escrow
    goes back to the buyer on top of `refund_minor`."""
    fees = order.buyer_fee_minor + order.seller_commission_minor
    extra = order.buyer_broker_commission_minor
    return {"refund": refund_minor + extra, "fees": fees, "seller": order.total_minor - refund_minor - extra - fees,
            "max_refund": order.total_minor - extra - fees}


def _settle_split(order: Order, listing: Listing, *, refund_minor: int, actor: User,
                  note: str) -> dict[str, int]:
    amounts = split_amounts(order, refund_minor)
    if refund_minor <= 0 or amounts["seller"] <= 0:
        raise ValidationFailed(
            _("In a split the buyer gets back more than nothing and less than %(max)s (the rest after the "
              "exchange's fees goes to the seller). To give the buyer everything, refund in full.")
            % {"max": format_money(amounts["max_refund"], order.currency)},
            field_errors={"refund": [_("Out of range.")]})
    held = ledger.escrow_balance(order)
    if held != order.total_minor:
        raise Conflict(_("The escrow of order %(ref)s does not hold the amount paid; staff have to check it.")
                       % {"ref": order.reference})
    # The buyer keeps the rights when the office recorded them (approved, or a transfer back abandoned).
    kept = order.disputed_from == S.TRANSFER_APPROVED or order.state == S.RETURN_PENDING
    _transition(order, "settle_split", actor=actor, reason=note,
                data={"refund_minor": refund_minor, "seller_minor": amounts["seller"], "fees_minor": amounts["fees"]})
    payment = cast(Payment, order_payment(order))  # a disputed order was funded by a payment
    currency = order.currency
    seller_payable = ledger.account(K.SELLER_PAYABLE, currency, organization=order.seller_org)
    ledger.post("order_split", [
        (ledger.account(K.ESCROW_HELD, currency, order=order), order.total_minor),
        (ledger.account(K.REFUND_CLEARING, currency, provider=payment.provider), -amounts["refund"]),
        (seller_payable, -amounts["seller"]),
        (ledger.account(K.PLATFORM_FEES, currency), -amounts["fees"]),
    ], order=order, memo=f"{order.reference} split", idempotency_key=f"order-split-{order.pk}", created_by=actor)
    create_disbursement(kind=Disbursement.Kind.REFUND, amount_minor=amounts["refund"], currency=currency,
                        provider=payment.provider, recipient_org=order.buyer_org, order=order, payment=payment,
                        actor=actor)
    create_disbursement(kind=Disbursement.Kind.PAYOUT, amount_minor=amounts["seller"], currency=currency,
                        provider=payment.provider, recipient_org=order.seller_org, order=order, payment=payment,
                        source_account=seller_payable, actor=actor)
    if not order.holds_listing:  # a licence order never held the listing (nor its margin): a capped one frees a place
        licence_places_sync(listing)
        return amounts
    margin_return(listing=listing, actor=actor, reason=_("Dispute settled (order %(ref)s).") % {"ref": order.reference})
    if listing.state == Listing.State.RESERVED:
        if kept:  # the office recorded the buyer as owner: the right is sold
            listing_mark_sold(listing=listing)
        else:
            listing_release(listing=listing)
    return amounts


@transaction.atomic(durable=True)
def order_dispute_resolve(*, order: Order, actor: User, outcome: str, note: str, refund_minor: int | None = None,
                          expected_refund_minor: int | None = None) -> Order:
    """Escrow staff decide a dispute: "refund" (buyer refunded in full), "continue" (resume the trade) or
    "split" (`refund_minor` back to the buyer, the rest after fees to the seller). `expected_refund_minor`
    is the amount the officer confirmed on the summary; a mismatch changes nothing."""
    _require_refund_reason(note)
    order, listing = lock_order_and_listing(order.pk)
    require_staff(actor, Role.ESCROW_OFFICER)
    if order.state != S.DISPUTED:
        raise InvalidTransition(_("This order has no open dispute."))
    dispute = _open_dispute(order)
    if outcome == Dispute.Outcome.REFUND:
        _refund_or_return(order, listing, actor=actor, reason=note)
    elif outcome == Dispute.Outcome.CONTINUE:
        _transition(order, "resume", actor=actor, reason=note)
        _close(dispute, Dispute.Outcome.CONTINUE, actor, note)
    elif outcome == Dispute.Outcome.SPLIT:
        if refund_minor is None:
            raise ValidationFailed(_("Enter the amount refunded to the buyer."),
                                   field_errors={"refund": [_("This field is required.")]})
        if expected_refund_minor is not None and expected_refund_minor != refund_minor:
            raise Conflict(_("The amount changed since the summary was shown; nothing was done. Check it again."))
        _settle_split(order, listing, refund_minor=refund_minor, actor=actor, note=note)
        _close(dispute, Dispute.Outcome.SPLIT, actor, note, refund_minor=refund_minor)
    else:
        raise ValidationFailed(_("Choose how to resolve the dispute: refund the buyer, continue the trade, "
                                 "or split the money."))
    return order
