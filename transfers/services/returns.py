"""The transfer back (issue 11): a refund after the office recorded the buyer as owner.

Escrow decides the refund and moves the order to RETURN_PENDING (it never imports this app); here, on
its `order.state_changed` event (step "start_return"), in its transaction:

1. the original filings still open with an office are withdrawn;
2. one transfer-back filing (`TransferFiling.kind = "return"`) per office that recorded the buyer, and
   the paper both parties sign: the assignment back from the buyer to the seller;
3. once both signed, an escrow officer files it (`transfer_back_file`) through the same gateways;
   the poller follows it like any filing (`apply_return_answer` is called by `apply_answer`);
4. the office records it: each right's owner of record (Holding) goes back to the seller and, when
   every office has recorded, escrow repays the buyer (`order_return_complete`). A rejection goes to the
   officers: file again, or settle by a split instead (escrow's `order_return_split`, refused once the
   transfer back is with the office: `order.return_cancellable`).
"""

from __future__ import annotations

from typing import Any, cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.audit import audit_record
from core.errors import InvalidTransition, ValidationFailed
from core.events import answer, on
from core.models import Tenant
from core.notifications import notify
from escrow.models import Order, OrderState
from escrow.services import order_return_complete
from transfers import papers
from transfers.models import DocumentKind, FilingKind, FilingStatus, OfficeNotice, TransferFiling
from transfers.offices import OfficeAnswer, adapter_name_for, backoff, gateway_for, offices_for
from transfers.selectors import (
    current_filings,
    return_document,
    return_filings,
    signed_parties,
    transfer_recorded,
)

from .common import officers, order_url, party_users, require_officer
from .papers import _lock_order, _store_document

OPEN_WITH_OFFICE = (FilingStatus.FILED, FilingStatus.CORRECTION_REQUESTED)


def _lock_filing(filing_id: int) -> TransferFiling:
    return cast(TransferFiling, TransferFiling.objects.select_for_update(of=("self",)).get(pk=filing_id))


@answer("order.transfer_recorded")
def _transfer_recorded(*, order: Order) -> bool:
    return transfer_recorded(order)


@answer("order.return_cancellable")
def _return_cancellable(*, order: Order) -> str:
    """Why the transfer back can no longer be abandoned for a split ("" when it can)."""
    if any(f.status in (*OPEN_WITH_OFFICE, FilingStatus.APPROVED, FilingStatus.PACKAGE_READY)
           for f in return_filings(order)):
        return _("The transfer back is with the office already; wait for its answer (a rejection lets you settle "
                 "by a split).")
    return ""


def _withdraw(filing: TransferFiling, *, actor: User | None, reason: str) -> None:
    filing = _lock_filing(filing.pk)
    from_status = filing.status
    filing.withdraw()
    filing.next_poll_at = None
    filing.save()
    audit_record(actor=actor, actor_label="" if actor else "system", action="transfer.withdrawn", obj=filing,
                 from_state=from_status, to_state=filing.status, reason=reason)


@on("order.state_changed")
def _on_order_step(*, tenant: Tenant, data: dict[str, Any], order: Order | None = None, step: str = "",
                   actor: User | None = None, reason: str = "", **_kw: Any) -> None:
    """Escrow started a transfer back (prepare it) or settled it by a split instead (abandon it)."""
    if order is None:
        return
    if step == "start_return":
        _start(order, actor=actor, reason=reason)
    elif step == "settle_split" and data.get("from") == OrderState.RETURN_PENDING:
        for filing in return_filings(order):
            if filing.status in (FilingStatus.PREPARING, FilingStatus.PACKAGE_READY):
                _withdraw(filing, actor=actor, reason=_("Settled by a split instead of the transfer back."))


def _start(order: Order, *, actor: User | None, reason: str) -> None:
    """In escrow's transaction (order locked): withdraw what is still with an office, open one
    transfer-back filing per office that recorded the buyer, generate the assignment back."""
    recorded: list[TransferFiling] = []
    for filing in current_filings(order):
        if filing.status == FilingStatus.APPROVED:
            recorded.append(filing)
        elif filing.status not in (FilingStatus.REJECTED, FilingStatus.WITHDRAWN):
            _withdraw(filing, actor=actor, reason=_("The order is being refunded; the rights go back to the seller."))
    if not recorded:  # escrow asked `order.transfer_recorded` first: there is always one
        raise InvalidTransition(_("The office has not recorded a transfer of order %(ref)s; nothing to transfer back.")
                                % {"ref": order.reference})
    created = []
    for office in sorted({f.office for f in recorded}):
        attempt = 1 + max(TransferFiling.objects.filter(order=order, kind=FilingKind.RETURN, office=office)
                          .values_list("attempt", flat=True), default=0)
        created.append(TransferFiling.objects.create(order=order, kind=FilingKind.RETURN, office=office,
                                                     adapter=adapter_name_for(office), attempt=attempt))
    data = papers.paper_data(order, office=created[0].office)
    data["agreed_on"] = timezone.localdate().isoformat()
    document = _store_document(order=order, kind=DocumentKind.RETURN, pdf=papers.RENDERERS[DocumentKind.RETURN](data),
                               data=data, filing=created[0])
    audit_record(actor=actor, actor_label="" if actor else "system", action="transfer.return_started", obj=order,
                 reason=reason, data={"filings": [f.pk for f in created], "offices": [f.office for f in created],
                                      "paper": document.pk, "sha256": document.sha256})
    notify(users=party_users(order) + officers(), kind="transfer.return_sign",
           subject=gettext_lazy("Order %(ref)s: sign the assignment back to the seller"),
           body=gettext_lazy("The refund of “%(title)s” needs the rights back with the seller first. Both parties "
                             "read and sign the assignment back on the order page; the exchange then files it with "
                             "the office, and the buyer is repaid when the office records it."),
           params={"ref": order.reference, "title": order.listing.title}, url=order_url(order))


def after_return_signed(order: Order, party: str) -> None:
    """A party signed the assignment back (order locked by the signing service): when both did, date the
    filings, seal the paper and tell the officers; otherwise tell the other side it is their turn."""
    from .papers import seal_signed_papers

    document = return_document(order)
    if document is None:
        return
    done = signed_parties(document)
    if {"seller", "buyer"} <= done:
        for filing in return_filings(order):
            if filing.status == FilingStatus.PREPARING:
                filing = _lock_filing(filing.pk)
                filing.executed_on = timezone.localdate()
                filing.save(update_fields=["executed_on", "updated_at"])
        seal_signed_papers(order, [document])
        notify(users=party_users(order) + officers(), kind="transfer.return_signed",
               subject=gettext_lazy("Order %(ref)s: the assignment back is signed"),
               body=gettext_lazy("Both parties signed the assignment back of “%(title)s”. An escrow officer now files "
                                 "it with the office."),
               params={"ref": order.reference, "title": order.listing.title}, url=order_url(order))
    else:
        other = "buyer" if party == "seller" else "seller"
        notify(users=party_users(order, other), kind="transfer.return_your_turn",
               subject=gettext_lazy("Order %(ref)s: your signature on the assignment back is awaited"),
               body=gettext_lazy("The other party signed the assignment back of “%(title)s”. Read and sign it on "
                                 "the order page; the buyer is repaid once the office records it."),
               params={"ref": order.reference, "title": order.listing.title}, url=order_url(order))


@transaction.atomic(durable=True)
def transfer_back_file(*, order: Order, actor: User, ip_address: str | None = None) -> list[TransferFiling]:
    """An escrow officer files the transfer back with each office (again, after a rejection, as a new
    attempt with the same signed paper). Both parties must have signed the assignment back."""
    require_officer(actor)
    order = _lock_order(order.pk)
    if order.state != OrderState.RETURN_PENDING:
        raise InvalidTransition(_("Order %(ref)s has no transfer back to file: it is “%(state)s”.")
                                % {"ref": order.reference, "state": order.get_state_display()})
    document = return_document(order)
    if document is None or not {"seller", "buyer"} <= signed_parties(document):
        raise ValidationFailed(_("Both parties must sign the assignment back before it is filed."))
    to_file = [f for f in return_filings(order) if f.status in (FilingStatus.PREPARING, FilingStatus.REJECTED)]
    if not to_file:
        raise InvalidTransition(_("The transfer back is with the office already."))
    order_data = papers.paper_data(order)
    package = {"numbers": [r["number"] for r in order_data["rights"]],
               "conveying_party": order.buyer_org.legal_name, "receiving_party": order.seller_org.legal_name}
    filed = []
    for filing in to_file:
        filing = _lock_filing(filing.pk)
        if filing.status == FilingStatus.REJECTED:
            filing.resolution = "refile"
            filing.save(update_fields=["resolution", "updated_at"])
            filing = TransferFiling.objects.create(order=order, kind=FilingKind.RETURN, office=filing.office,
                                                   adapter=filing.adapter, attempt=filing.attempt + 1,
                                                   executed_on=filing.executed_on)
        gateway = gateway_for(filing)
        result = gateway.submit(filing, package=package)
        from_status = filing.status
        filing.filed_by = actor
        if not result.reference:  # manual adapter: staff submit the package and record the reference
            filing.package()
        else:
            filing.file()
            filing.reference = result.reference
            filing.filed_at = timezone.now()
            filing.expected_answer_at = result.expected_answer_at
            filing.next_poll_at = result.first_poll_at if gateway.polls else None
            filing.poll_attempts = 0
        filing.save()
        audit_record(actor=actor, action="transfer.return_filed", obj=filing, from_state=from_status,
                     to_state=filing.status, ip_address=ip_address,
                     data={"order": order.reference, "reference": filing.reference, "office": filing.office})
        filed.append(filing)
    notify(users=party_users(order), kind="transfer.return_filed",
           subject=gettext_lazy("Order %(ref)s: the transfer back was filed with the office"),
           body=gettext_lazy("The assignment back of “%(title)s” was filed with the office. The buyer is repaid "
                             "when the office records it."),
           params={"ref": order.reference, "title": order.listing.title}, url=order_url(order))
    return filed


def apply_return_answer(order: Order, filing: TransferFiling, answer: OfficeAnswer, *, actor: User | None,
                        actor_label: str) -> str:
    """The office answered a transfer back (order and filing locked by the caller, as `apply_answer`)."""
    from .rights_changes import apply_recordal

    now = timezone.now()
    from_status = filing.status
    if order.state != OrderState.RETURN_PENDING:  # settled meanwhile: nothing to apply
        _withdraw(filing, actor=actor, reason=_("The order no longer awaits a transfer back."))
        return "withdrawn"
    if answer.status == OfficeAnswer.CORRECTION and from_status == FilingStatus.CORRECTION_REQUESTED:
        filing.next_poll_at = max(answer.correction_due or now, now + backoff(filing.office, filing.poll_attempts))
        filing.poll_attempts += 1
        filing.save(update_fields=["poll_attempts", "next_poll_at", "last_polled_at", "updated_at"])
        return "pending"
    kind = {OfficeAnswer.APPROVED: OfficeNotice.Kind.APPROVAL, OfficeAnswer.REJECTED: OfficeNotice.Kind.REJECTION,
            OfficeAnswer.CORRECTION: OfficeNotice.Kind.CORRECTION}[answer.status]
    OfficeNotice.objects.get_or_create(filing=filing, kind=kind, number=answer.notice_number or "",
                                       defaults={"text": answer.text, "issued_at": answer.issued_at,
                                                 "recorded_by": actor})
    params = {"ref": order.reference, "title": order.listing.title, "text": answer.text,
              "reference": filing.reference}
    filing.next_poll_at = None
    filing.notice_received_at = now
    filing.notice_number = answer.notice_number
    if answer.status == OfficeAnswer.APPROVED:
        filing.approve()
        filing.notice_text = answer.text
        filing.save()
        rights = list(order.listing.rights.select_related("register_record"))
        apply_recordal(order, filing, office_rights=offices_for(rights).get(filing.office, []), back=True)
        waiting = [f for f in return_filings(order) if f.pk != filing.pk and f.status != FilingStatus.APPROVED]
        if not waiting:
            order_return_complete(order=order, actor=actor, actor_label=actor_label)
    elif answer.status == OfficeAnswer.REJECTED:
        filing.reject()
        filing.rejection_reason = answer.text
        filing.save()
        notify(users=officers(), kind="transfer.return_rejected",
               subject=gettext_lazy("Order %(ref)s: the office rejected the transfer back — file again or split"),
               body=gettext_lazy("The office rejected the transfer back %(reference)s: %(text)s File it again from "
                                 "the order page, or settle the order by a split in the admin."),
               params=params, url=order_url(order))
    else:
        filing.request_correction()
        filing.correction_text = answer.text
        filing.correction_due = answer.correction_due
        filing.next_poll_at = answer.correction_due or now
        filing.save()
        notify(users=party_users(order) + officers(), kind="transfer.correction_requested",
               subject=gettext_lazy("Order %(ref)s: the office asks for a correction by %(due)s"),
               body=gettext_lazy("The office asks to correct filing %(reference)s: %(text)s The correction must reach "
                                 "the office by %(due)s, or the filing is deemed withdrawn. Escrow staff will guide "
                                 "you."),
               params={**params, "due": timezone.localtime(answer.correction_due).strftime("%Y-%m-%d %H:%M")
                       if answer.correction_due else "-"}, url=order_url(order))
    audit_record(actor=actor, actor_label=actor_label, action=f"transfer.return_{answer.status}", obj=filing,
                 from_state=from_status, to_state=filing.status, reason=answer.text[:1000],
                 data={"order": order.reference, "notice": answer.notice_number})
    return answer.status
