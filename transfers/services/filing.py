"""Filing with the office and applying its answers: the escrow officer files (website or admin);
the simulated office returns a reference at once, the manual adapter a package staff submit before
recording the reference; the answer (approval, rejection, correction request) comes from the
poller or, for real offices, from staff recording the notice."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.audit import audit_record
from core.errors import InvalidTransition, ValidationFailed
from core.events import emit, on
from core.models import Tenant
from core.notifications import notify
from escrow.models import Order, OrderState
from escrow.services import order_refund, order_step
from transfers import papers
from transfers.models import (
    DocumentKind,
    FilingKind,
    FilingStatus,
    OfficeNotice,
    TransferDocument,
    TransferFiling,
)
from transfers.offices import PROFILES, OfficeAnswer, backoff, gateway_for
from transfers.selectors import blocking_gates, current_filing, current_filings, transfer_gates

from .common import officers, order_url, party_users, require_officer
from .papers import _lock_order, _store_document, generate_cover, prepare_in_transaction
from .returns import apply_return_answer

log = logging.getLogger(__name__)


def _lock_filing(filing_id: int) -> TransferFiling:
    return cast(TransferFiling, TransferFiling.objects.select_for_update(of=("self",)).get(pk=filing_id))  # the model has an untyped (django-fsm) base


def _file_locked(order: Order, filing: TransferFiling, *, actor: User, ip_address: str | None = None) -> TransferFiling:
    """Gates → cover data → gateway. Order and filing locked by the caller."""
    gates = transfer_gates(order=order, filing=filing)
    blocked = blocking_gates(gates)
    if blocked:
        raise ValidationFailed(_("The transfer cannot be filed yet: %(why)s")
                               % {"why": " ".join(g.message for g in blocked)})
    late = [g for g in gates if g.code == "uspto_three_months" and not g.ok]
    cover = generate_cover(order, filing)
    gateway = gateway_for(filing)
    package = dict(cover.data if cover else {})
    result = gateway.submit(filing, package=package)
    now = timezone.now()
    if late and not filing.late_recordation:
        filing.late_recordation = True
        notify(users=party_users(order) + officers(), kind="transfer.uspto_late",
               subject=gettext_lazy("Order %(ref)s: USPTO recordation more than three months after signing"),
               body=gettext_lazy("%(warning)s"), params={"ref": order.reference, "warning": late[0].message},
               url=order_url(order))
    filing.filed_by = actor
    if not result.reference:  # manual adapter: staff submit the package and record the reference
        filing.package()
        filing.save()
        audit_record(actor=actor, action="transfer.package_ready", obj=filing, from_state=FilingStatus.PREPARING,
                     to_state=filing.status, ip_address=ip_address, data={"order": order.reference})
        return filing
    from_status = filing.status
    filing.file()
    filing.reference = result.reference
    filing.filed_at = now
    filing.expected_answer_at = result.expected_answer_at
    filing.next_poll_at = result.first_poll_at if gateway.polls else None
    filing.poll_attempts = 0
    filing.save()
    audit_record(actor=actor, action="transfer.filed", obj=filing, from_state=from_status, to_state=filing.status,
                 ip_address=ip_address, data={"order": order.reference, "reference": filing.reference,
                                              "office": filing.office})
    if order.state != OrderState.TRANSFER_FILED:  # a mixed package's second office: the order is filed already
        order_step(order, "file_transfer", actor=actor, data={"reference": filing.reference, "office": filing.office})
    return filing


@transaction.atomic(durable=True)
def transfer_file(*, order: Order, actor: User, ip_address: str | None = None) -> TransferFiling:
    """An escrow officer files the transfer (website staff view or admin button)."""
    require_officer(actor)
    order = _lock_order(order.pk)
    filing = current_filing(order)
    if order.state == OrderState.FUNDED and filing is None:
        filing, _created = prepare_in_transaction(order)
    if filing is None or order.state not in (OrderState.FUNDED, OrderState.TRANSFER_REJECTED):
        raise InvalidTransition(_("Order %(ref)s is “%(state)s”: there is nothing to file.")
                                % {"ref": order.reference, "state": order.get_state_display()})
    filing = _lock_filing(filing.pk)
    if filing.status not in (FilingStatus.PREPARING,):
        raise InvalidTransition(_("This filing is “%(status)s” already.") % {"status": filing.get_status_display()})
    first = _file_locked(order, filing, actor=actor, ip_address=ip_address)
    # A mixed package: every other office's filing goes out with it.
    for other in current_filings(order):
        if other.pk != first.pk and other.status == FilingStatus.PREPARING:
            _file_locked(order, _lock_filing(other.pk), actor=actor, ip_address=ip_address)
    return first


@transaction.atomic(durable=True)
def transfer_record_reference(*, filing: TransferFiling, actor: User, reference: str) -> TransferFiling:
    """Real offices: staff submitted the package and record the office's reference."""
    require_officer(actor)
    reference = (reference or "").strip()
    if not reference:
        raise ValidationFailed(_("Enter the reference the office gave."), field_errors={"reference": [_("Required.")]})
    order = _lock_order(filing.order_id)
    filing = _lock_filing(filing.pk)
    if filing.status != FilingStatus.PACKAGE_READY:
        raise InvalidTransition(_("This filing is “%(status)s”; a reference is recorded after the package is "
                                  "prepared.") % {"status": filing.get_status_display()})
    already_filed = order.state == OrderState.TRANSFER_FILED
    now = timezone.now()
    from_status = filing.status
    filing.file()
    filing.reference = reference[:60]
    filing.filed_at = now
    filing.expected_answer_at = now + PROFILES[filing.office].answer_delay
    filing.next_poll_at = None  # no public status source: staff record the notice
    filing.save()
    audit_record(actor=actor, action="transfer.reference_recorded", obj=filing, from_state=from_status,
                 to_state=filing.status, data={"order": order.reference, "reference": filing.reference})
    if not already_filed and filing.kind == FilingKind.TRANSFER:
        order_step(order, "file_transfer", actor=actor, data={"reference": filing.reference, "office": filing.office})
    return filing


def _notice_document(order: Order, filing: TransferFiling, answer: OfficeAnswer) -> TransferDocument:
    profile = PROFILES[filing.office]
    data = papers.paper_data(order, office=filing.office)
    issued = timezone.localtime(answer.issued_at or timezone.now()).date().isoformat()
    pdf = papers.notice_pdf(data=data, office_name=profile.name, title_zh=profile.notice_title_zh,
                            title_en=profile.notice_title_en, number=answer.notice_number or filing.reference,
                            text=answer.text, issued_on=issued, reference=filing.reference)
    return _store_document(order=order, kind=DocumentKind.NOTICE, pdf=pdf, filing=filing,
                           data={"number": answer.notice_number, "issued_on": issued, "text": answer.text})


def apply_answer(order: Order, filing: TransferFiling, answer: OfficeAnswer, *, actor: User | None = None,
                 actor_label: str = "") -> str:
    """Apply the office's answer to a filing (order and filing locked by the caller). Returns what
    happened: 'approved', 'rejected', 'correction', 'pending' or 'deferred'."""
    now = timezone.now()
    label = actor_label or f"office:{PROFILES[filing.office].name}"
    filing.last_polled_at = now
    if answer.status == OfficeAnswer.PENDING:
        filing.poll_attempts += 1
        filing.next_poll_at = now + backoff(filing.office, filing.poll_attempts) if gateway_for(filing).polls else None
        filing.save(update_fields=["poll_attempts", "next_poll_at", "last_polled_at", "updated_at"])
        return "pending"
    if filing.kind == FilingKind.RETURN:  # the transfer back after a refund: its own rules
        return apply_return_answer(order, filing, answer, actor=actor, actor_label=label)
    if order.state in (OrderState.COMPLETED, OrderState.CANCELLED, OrderState.REFUNDED):
        from_status = filing.status
        filing.withdraw()
        filing.next_poll_at = None
        filing.save()
        audit_record(action="transfer.withdrawn", obj=filing, actor_label=label, from_state=from_status,
                     to_state=filing.status, reason=_("The order ended while the office was deciding."))
        return "withdrawn"
    if order.state != OrderState.TRANSFER_FILED:  # disputed: ask again later, apply once the trade resumes
        filing.poll_attempts += 1
        filing.next_poll_at = now + backoff(filing.office, filing.poll_attempts)
        filing.save(update_fields=["poll_attempts", "next_poll_at", "last_polled_at", "updated_at"])
        return "deferred"

    from_status = filing.status
    kind = {OfficeAnswer.APPROVED: OfficeNotice.Kind.APPROVAL, OfficeAnswer.REJECTED: OfficeNotice.Kind.REJECTION,
            OfficeAnswer.CORRECTION: OfficeNotice.Kind.CORRECTION}[answer.status]
    if answer.status == OfficeAnswer.CORRECTION and from_status == FilingStatus.CORRECTION_REQUESTED:
        # Same request as before, still unanswered: look again when the office's deadline passes.
        filing.next_poll_at = max(answer.correction_due or now, now + backoff(filing.office, filing.poll_attempts))
        filing.poll_attempts += 1
        filing.save(update_fields=["poll_attempts", "next_poll_at", "last_polled_at", "updated_at"])
        return "pending"
    notice, created = OfficeNotice.objects.get_or_create(
        filing=filing, kind=kind, number=answer.notice_number or "",
        defaults={"text": answer.text, "issued_at": answer.issued_at, "recorded_by": actor},
    )
    params = {"ref": order.reference, "title": order.listing.title, "text": answer.text,
              "reference": filing.reference}
    if answer.status == OfficeAnswer.APPROVED:
        filing.approve()
        filing.notice_number = answer.notice_number
        filing.notice_text = answer.text
        filing.notice_received_at = now
        filing.next_poll_at = None
        filing.save()
        document = _notice_document(order, filing, answer)
        notice.document = document
        notice.save(update_fields=["document"])
        from transfers.offices import offices_for

        from .rights_changes import apply_recordal

        # The rights this office records change owner of record (or carry the licence) now.
        apply_recordal(order, filing, office_rights=offices_for(
            list(order.listing.rights.select_related("register_record"))).get(filing.office, []))
        waiting = [f for f in current_filings(order) if f.pk != filing.pk and f.status != FilingStatus.APPROVED]
        if waiting:  # a mixed package: the trade moves on once every office has approved
            audit_record(actor=actor, actor_label=label, action="transfer.approved", obj=filing,
                         from_state=from_status, to_state=filing.status,
                         data={"order": order.reference, "notice": answer.notice_number,
                               "waiting_for": [f.office for f in waiting]})
            return answer.status
        order_step(order, "approve_transfer", actor=actor, actor_label=label,
                   data={"reference": filing.reference, "notice": answer.notice_number})
        due = timezone.localtime(order.inspection_due).strftime("%Y-%m-%d") if order.inspection_due else "-"
        notify(users=party_users(order, "buyer"), kind="transfer.confirm_receipt",
               subject=gettext_lazy("Order %(ref)s: confirm receipt of the certificate and the notice"),
               body=gettext_lazy("The office approved the transfer of “%(title)s”. Download the office notice on the "
                                 "order page and confirm receipt of the certificate and the notice before %(due)s; "
                                 "then the seller is paid. Without your answer the platform confirms for you."),
               params={**params, "due": due}, url=order_url(order))
    elif answer.status == OfficeAnswer.REJECTED:
        filing.reject()
        filing.rejection_reason = answer.text
        filing.notice_number = answer.notice_number
        filing.notice_received_at = now
        filing.next_poll_at = None
        filing.save()
        order_step(order, "reject_transfer", actor=actor, actor_label=label, reason=answer.text[:500],
                   data={"reference": filing.reference, "notice": answer.notice_number})
        notify(users=officers(), kind="transfer.rejected_choose",
               subject=gettext_lazy("Order %(ref)s: the office rejected the transfer — refile or refund"),
               body=gettext_lazy("The office rejected filing %(reference)s: %(text)s Choose to refile or to refund "
                                 "the buyer."), params=params, url=f"/transfers/staff/{filing.pk}/")
    else:
        filing.request_correction()
        filing.correction_text = answer.text
        filing.correction_due = answer.correction_due
        filing.next_poll_at = answer.correction_due or now
        filing.save()
        due = timezone.localtime(answer.correction_due).strftime("%Y-%m-%d %H:%M") if answer.correction_due else "-"
        notify(users=party_users(order) + officers(), kind="transfer.correction_requested",
               subject=gettext_lazy("Order %(ref)s: the office asks for a correction by %(due)s"),
               body=gettext_lazy("The office asks to correct filing %(reference)s: %(text)s The correction must reach "
                                 "the office by %(due)s, or the filing is deemed withdrawn. Escrow staff will guide "
                                 "you."), params={**params, "due": due}, url=order_url(order))
    audit_record(actor=actor, actor_label=label, action=f"transfer.{answer.status}", obj=filing,
                 from_state=from_status, to_state=filing.status, reason=answer.text[:1000],
                 data={"order": order.reference, "notice": answer.notice_number, "new_notice": created})
    emit("transfer.notice_received", organizations=[order.buyer_org, order.seller_org],
         data={"order": order.reference, "reference": filing.reference, "office": filing.office,
               "kind": kind, "notice": answer.notice_number, "status": filing.status,
               "at": now.isoformat()})
    return answer.status


@transaction.atomic(durable=True)
def transfer_record_notice(*, filing: TransferFiling, actor: User, kind: str, number: str = "", text: str = "",
                           correction_due: datetime | None = None) -> str:
    """Staff record the office's notice for a real office (approval, rejection or correction request)."""
    require_officer(actor)
    status = {"approval": OfficeAnswer.APPROVED, "rejection": OfficeAnswer.REJECTED,
              "correction": OfficeAnswer.CORRECTION}.get(kind)
    if status is None:
        raise ValidationFailed(_("Choose what the office decided."), field_errors={"kind": [_("Required.")]})
    if status == OfficeAnswer.CORRECTION and correction_due is None:
        raise ValidationFailed(_("Enter the date by which the office wants the correction."),
                               field_errors={"correction_due": [_("Required.")]})
    order = _lock_order(filing.order_id)
    filing = _lock_filing(filing.pk)
    if filing.status not in (FilingStatus.FILED, FilingStatus.CORRECTION_REQUESTED):
        raise InvalidTransition(_("This filing is “%(status)s”: no notice is awaited.")
                                % {"status": filing.get_status_display()})
    answer = OfficeAnswer(status, notice_number=(number or "").strip()[:60], text=(text or "").strip(),
                          issued_at=timezone.now(), correction_due=correction_due)
    if status == OfficeAnswer.CORRECTION and filing.status == FilingStatus.CORRECTION_REQUESTED:
        raise InvalidTransition(_("A correction request is already open on this filing."))
    return apply_answer(order, filing, answer, actor=actor, actor_label=actor.email)


@transaction.atomic(durable=True)
def transfer_submit_correction(*, filing: TransferFiling, actor: User, note: str) -> TransferFiling:
    """Staff send the correction to the office: the filing is with the office again."""
    require_officer(actor)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(_("Describe what was corrected."), field_errors={"note": [_("Required.")]})
    order = _lock_order(filing.order_id)
    filing = _lock_filing(filing.pk)
    if filing.status != FilingStatus.CORRECTION_REQUESTED:
        raise InvalidTransition(_("The office has not asked for a correction on this filing."))
    gateway = gateway_for(filing)
    result = gateway.resubmit(filing, note=note)
    from_status = filing.status
    filing.file()
    filing.expected_answer_at = result.expected_answer_at or filing.expected_answer_at
    filing.next_poll_at = result.first_poll_at if gateway.polls else None
    filing.poll_attempts = 0
    filing.save()
    audit_record(actor=actor, action="transfer.correction_submitted", obj=filing, from_state=from_status,
                 to_state=filing.status, reason=note)
    notify(users=party_users(order), kind="transfer.correction_submitted",
           subject=gettext_lazy("Order %(ref)s: correction sent to the office"),
           body=gettext_lazy("Escrow staff sent the correction to the office: %(note)s"),
           params={"ref": order.reference, "note": note}, url=order_url(order))
    return filing


@transaction.atomic(durable=True)
def transfer_refile(*, order: Order, actor: User, ip_address: str | None = None) -> TransferFiling:
    """After a rejection, staff refile: a new attempt with the same signed papers, filed at once."""
    require_officer(actor)
    order = _lock_order(order.pk)
    if order.state != OrderState.TRANSFER_REJECTED:
        raise InvalidTransition(_("Only a rejected transfer can be refiled; order %(ref)s is “%(state)s”.")
                                % {"ref": order.reference, "state": order.get_state_display()})
    rejected = [f for f in current_filings(order) if f.status == FilingStatus.REJECTED]
    if not rejected:  # a rejected order has its filing
        rejected = [cast(TransferFiling, current_filing(order))]
    refiled = [_refile_one(order, _lock_filing(f.pk), actor=actor, ip_address=ip_address) for f in rejected]
    return refiled[0]  # a mixed package: each rejected office's filing was refiled


def _refile_one(order: Order, previous: TransferFiling, *, actor: User,
                ip_address: str | None = None) -> TransferFiling:
    if previous.status == FilingStatus.REJECTED:
        previous.resolution = "refile"
        previous.save(update_fields=["resolution", "updated_at"])
        filing = TransferFiling.objects.create(
            order=order, attempt=previous.attempt + 1, office=previous.office, adapter=previous.adapter,
            executed_on=previous.executed_on, export_certificate=previous.export_certificate.name or "",
            export_certificate_type=previous.export_certificate_type,
            export_certificate_uploaded_by=previous.export_certificate_uploaded_by,
            export_certificate_uploaded_at=previous.export_certificate_uploaded_at,
        )
    else:
        filing = previous
    audit_record(actor=actor, action="transfer.refile", obj=filing, data={"order": order.reference,
                                                                        "attempt": filing.attempt})
    return _file_locked(order, filing, actor=actor, ip_address=ip_address)


def transfer_refund(*, order: Order, actor: User, reason: str) -> Order:
    """After a rejection, staff refund the buyer (escrow's refund service); the filing is closed in the
    same transaction by `_close_filing_on_refund`."""
    require_officer(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Write the reason; both parties will read it."),
                               field_errors={"reason": [_("This field is required.")]})
    filing = current_filing(order)
    state = type(order).objects.filter(pk=order.pk).values_list("state", flat=True).first()
    if filing is None or filing.status != FilingStatus.REJECTED or state != OrderState.TRANSFER_REJECTED:
        raise InvalidTransition(_("Only an order whose filing the office rejected is refunded here; use the "
                                  "order's own staff actions (cancel with a reason) for anything else."))
    return order_refund(order=order, actor=actor, reason=reason)


@on("order.state_changed")
def _close_filing_on_refund(*, tenant: Tenant, data: dict[str, Any], order: Order | None = None, step: str = "",
                            actor: User | None = None, reason: str = "", **_: Any) -> None:
    """Escrow refunded the order (staff, a dispute, a deadline): its rejected filing is resolved as a
    refund, in escrow's transaction, so a refunded order never keeps an open filing. Events announced
    without the live objects (an order placed, a partner's test event) are not refunds: nothing to do."""
    if step != "refund" or order is None:
        return
    filing = current_filing(order)
    if filing is None:
        return
    filing = _lock_filing(filing.pk)
    if filing.status == FilingStatus.REJECTED and not filing.resolution:
        filing.resolution = "refund"
        filing.save(update_fields=["resolution", "updated_at"])
        audit_record(actor=actor, actor_label="" if actor else "system", action="transfer.refund_chosen",
                     obj=filing, reason=reason)
