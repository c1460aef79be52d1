"""Recordals that are not a trade's transfer: a pledge on rights and its release (DESIGN section 9:
one filing machinery for every recordal). The same office gateways as transfers: the simulated office
answers through the poller, the manual adapter yields a package staff submit, then staff record the
reference and the notice.

Who asked learns the outcome through the `recordal.decided` event (data: subject, kind, status,
reference, notice). When the office records a pledge, the register records get the encumbrance
(`rights.encumbrances`); when it records the release, the encumbrance goes.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import InvalidTransition, ValidationFailed
from core.events import emit
from rights.encumbrances import encumbrance_record, encumbrance_release
from rights.models import RegisterRecord
from transfers.models import OPEN_STATUSES, FilingStatus, RecordalFiling, RecordalKind
from transfers.offices import (
    PROFILES,
    RECORDAL_NOTICES,
    OfficeAnswer,
    adapter_name_for,
    backoff,
    get_gateway,
    pledge_route,
)

from .common import require_officer


def recordal_office(records: Iterable[RegisterRecord]) -> tuple[str | None, list[str]]:
    """The one office that records a pledge on all of `records`, and the reasons there is none."""
    offices, problems = set(), []
    for record in records:
        office = pledge_route(record.jurisdiction, record.kind)
        if office is None:
            problems.append(_("%(right)s: the platform cannot file a pledge on a %(kind)s in %(jurisdiction)s.")
                            % {"right": f"{record.jurisdiction} {record.number}", "kind": record.get_kind_display(),
                               "jurisdiction": record.get_jurisdiction_display()})
        else:
            offices.add(office)
    if len(offices) > 1:
        problems.append(_("The rights are recorded by different offices; pledge rights of one office per application."))
    return (sorted(offices)[0] if len(offices) == 1 else None), problems


def recordal_create(*, kind: str, subject: str, records: list[RegisterRecord], pledgor: str, pledgee: str,
                    secured_amount_minor: int = 0, currency: str = "", secured_until: datetime.date | None = None,
                    contract_sha256: str = "", pledge_reference: str = "", outcome: str = "",
                    pledgee_organization: Any = None) -> RecordalFiling:
    """A recordal ready to file (inside the caller's transaction)."""
    office, problems = recordal_office(records)
    if problems or office is None:
        raise ValidationFailed(" ".join(str(p) for p in problems))
    filing: RecordalFiling = RecordalFiling.objects.create(
        kind=kind, subject=subject, office=office, adapter=adapter_name_for(office),
        register_records=[r.pk for r in records], pledgor=pledgor, pledgee=pledgee,
        pledgee_organization=pledgee_organization,
        secured_amount_minor=secured_amount_minor, currency=currency, secured_until=secured_until,
        contract_sha256=contract_sha256, pledge_reference=pledge_reference, simulated_outcome=outcome)
    return filing


def _lock(filing_id: int) -> RecordalFiling:
    filing: RecordalFiling = RecordalFiling.objects.select_for_update(of=("self",)).get(pk=filing_id)
    return filing


def _records(filing: RecordalFiling) -> list[RegisterRecord]:
    return list(RegisterRecord.objects.filter(pk__in=filing.register_records).order_by("pk"))


def _emit(filing: RecordalFiling, status: str, organizations: Iterable[Any] = ()) -> None:
    emit("recordal.decided", organizations=list(organizations),
         data={"subject": filing.subject, "kind": filing.kind, "status": status, "filing": filing.pk,
               "office": filing.office, "reference": filing.reference, "notice": filing.notice_number,
               "at": timezone.now().isoformat()})


def recordal_file_locked(filing: RecordalFiling, *, actor: Any) -> RecordalFiling:
    """Submit to the office (filing locked by the caller, inside its transaction)."""
    require_officer(actor)
    if filing.status != FilingStatus.PREPARING:
        raise InvalidTransition(_("This filing is “%(status)s” already.") % {"status": filing.get_status_display()})
    gateway = get_gateway(filing.adapter)
    package = {"numbers": [f"{r.jurisdiction} {r.number}" for r in _records(filing)],
               "conveying_party": filing.pledgor, "receiving_party": filing.pledgee, "kind": filing.kind}
    result = gateway.submit(filing, package=package)
    from_status = filing.status
    filing.filed_by = actor
    if not result.reference:
        filing.package()
        filing.save()
        audit_record(actor=actor, action="recordal.package_ready", obj=filing, from_state=from_status,
                     to_state=filing.status, data={"subject": filing.subject})
        return filing
    filing.file()
    filing.reference = result.reference
    filing.filed_at = timezone.now()
    filing.expected_answer_at = result.expected_answer_at
    filing.next_poll_at = result.first_poll_at if gateway.polls else None
    filing.save()
    audit_record(actor=actor, action="recordal.filed", obj=filing, from_state=from_status, to_state=filing.status,
                 data={"subject": filing.subject, "reference": filing.reference, "office": filing.office})
    return filing


@transaction.atomic(durable=True)
def recordal_record_reference(*, filing: RecordalFiling, actor: Any, reference: str) -> RecordalFiling:
    """Real offices: staff submitted the package and record the office's reference."""
    require_officer(actor)
    reference = (reference or "").strip()
    if not reference:
        raise ValidationFailed(_("Enter the reference the office gave."), field_errors={"reference": [_("Required.")]})
    filing = _lock(filing.pk)
    if filing.status != FilingStatus.PACKAGE_READY:
        raise InvalidTransition(_("This filing is “%(status)s”; a reference is recorded after the package is "
                                  "prepared.") % {"status": filing.get_status_display()})
    from_status = filing.status
    filing.file()
    filing.reference = reference[:60]
    filing.filed_at = timezone.now()
    filing.expected_answer_at = filing.filed_at + PROFILES[filing.office].answer_delay
    filing.save()
    audit_record(actor=actor, action="recordal.reference_recorded", obj=filing, from_state=from_status,
                 to_state=filing.status, data={"reference": filing.reference})
    return filing


def apply_recordal_answer(filing: RecordalFiling, answer: OfficeAnswer, *, actor: Any = None,
                          actor_label: str = "") -> str:
    """Apply the office's answer (filing locked by the caller)."""
    now = timezone.now()
    label = actor_label or f"office:{PROFILES[filing.office].name}"
    filing.last_polled_at = now
    if answer.status in (OfficeAnswer.PENDING, OfficeAnswer.CORRECTION):
        if answer.status == OfficeAnswer.CORRECTION and answer.text and filing.notice_text != answer.text:
            filing.notice_text = answer.text
            audit_record(actor=actor, actor_label=label, action="recordal.correction_requested", obj=filing,
                         reason=answer.text[:1000])
        filing.poll_attempts += 1
        gateway = get_gateway(filing.adapter)
        filing.next_poll_at = (max(answer.correction_due or now, now + backoff(filing.office, filing.poll_attempts))
                               if gateway.polls else None)
        filing.save(update_fields=["poll_attempts", "next_poll_at", "last_polled_at", "notice_text", "updated_at"])
        return "pending"
    from_status = filing.status
    filing.notice_number = answer.notice_number
    filing.notice_received_at = now
    filing.next_poll_at = None
    if answer.status == OfficeAnswer.APPROVED:
        filing.approve()
        title_zh, title_en = RECORDAL_NOTICES.get((filing.office, filing.kind), ("", ""))
        heading = f"{title_zh} / {title_en}: {answer.notice_number or filing.reference}" if title_zh else ""
        # The simulated office answers with its transfer notice: name the pledge notice instead.
        simulated = get_gateway(filing.adapter).name == "simulated"
        filing.notice_text = heading if simulated and heading else "\n".join(t for t in (heading, answer.text) if t)
        filing.save()
        for record in _records(filing):
            if filing.kind == RecordalKind.PLEDGE:
                encumbrance_record(record=record, type="pledge", holder=filing.pledgee, reference=filing.reference,
                                   until=filing.secured_until, amount_minor=filing.secured_amount_minor,
                                   currency=filing.currency, holder_organization=filing.pledgee_organization,
                                   actor=actor, actor_label=label, data={"filing": filing.pk, "subject": filing.subject})
            else:
                encumbrance_release(record=record, reference=filing.pledge_reference, actor=actor, actor_label=label,
                                    data={"filing": filing.pk, "release_reference": filing.reference})
    else:
        filing.reject()
        filing.rejection_reason = answer.text
        filing.save()
    audit_record(actor=actor, actor_label=label, action=f"recordal.{answer.status}", obj=filing,
                 from_state=from_status, to_state=filing.status, reason=answer.text[:1000],
                 data={"subject": filing.subject, "notice": answer.notice_number})
    _emit(filing, filing.status)
    return answer.status


@transaction.atomic(durable=True)
def recordal_record_notice(*, filing: RecordalFiling, actor: Any, kind: str, number: str = "", text: str = "") -> str:
    """Staff record the office's notice for a real office (approval or rejection)."""
    require_officer(actor)
    status = {"approval": OfficeAnswer.APPROVED, "rejection": OfficeAnswer.REJECTED}.get(kind)
    if status is None:
        raise ValidationFailed(_("Choose what the office decided."), field_errors={"kind": [_("Required.")]})
    filing = _lock(filing.pk)
    if filing.status != FilingStatus.FILED:
        raise InvalidTransition(_("This filing is “%(status)s”: no notice is awaited.")
                                % {"status": filing.get_status_display()})
    answer = OfficeAnswer(status, notice_number=(number or "").strip()[:60], text=(text or "").strip(),
                          issued_at=timezone.now())
    return apply_recordal_answer(filing, answer, actor=actor, actor_label=actor.email)


def recordal_poll_due(*, batch_size: int = 200) -> dict[str, int]:
    """Ask the offices about the due recordals of the tenant in context (one transaction per batch,
    rows claimed with SKIP LOCKED). Returns counts by outcome."""
    stats = {"claimed": 0, "pending": 0, "approved": 0, "rejected": 0}
    now = timezone.now()
    while True:
        with transaction.atomic():
            filings = list(RecordalFiling.objects.select_for_update(skip_locked=True, of=("self",))
                           .filter(status__in=OPEN_STATUSES, next_poll_at__lte=now)
                           .order_by("next_poll_at", "id")[:batch_size])
            if not filings:
                return stats
            stats["claimed"] += len(filings)
            by_adapter: dict[str, list[RecordalFiling]] = {}
            for filing in filings:
                by_adapter.setdefault(filing.adapter, []).append(filing)
            for adapter, group in by_adapter.items():
                answers = get_gateway(adapter).status_many(group)
                for filing in group:
                    outcome = apply_recordal_answer(filing, answers.get(filing.pk, OfficeAnswer()))
                    stats[outcome if outcome in stats else "pending"] += 1
        if len(filings) < batch_size:
            return stats
