"""Changes to rights: who holds them and what is recorded against them. Higher apps call these
(transfers when the office records a trade; listings when a verifier accepts a certificate); rights
never imports them.

- `holding_ensure`: an organization holds a right (named in the register, or added to its portfolio).
- `owner_record_transfer`: the office recorded a transfer made on ipex: the seller's holding ends,
  naming the transfer; the buyer's begins; the register record names the buyer as owner of record
  (the live register's next answer confirms it). Idempotent per reference.
- `holding_fees_store`: the fees of held rights (`rights.fees`) are stored per holding, recomputed when a
  holding begins, on every monitoring re-check and by `manage.py recompute_fees` when the rules change.
- `record_encumbrance`: a licence or pledge recorded through ipex appears on the right.
- `record_from_certificate` / `confirm_certificate_records`: rights with no public register (CN
  copyrights; CN rights missing from the embedded register) enter the register from the seller's
  certificate scan and register extract, and count as verified once a verifier approves.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.errors import Conflict, ValidationFailed
from core.events import emit
from core.tenancy import require_tenant

from .encumbrances import encumbrance_record
from .expiry import expiry_date
from .fees import FEE_TABLES_AS_OF, fees_for
from .models import (
    COPYRIGHT_KINDS,
    Holding,
    HoldingFee,
    Jurisdiction,
    LegalStatus,
    RecordSource,
    RegisterRecord,
    RightKind,
)
from .numbers import NumberError, parse_candidates

ENCUMBRANCE_TYPES = ("pledge", "exclusive_licence", "sole_licence", "non_exclusive_licence")


def _lock_record(record_or_pk) -> RegisterRecord:
    pk = getattr(record_or_pk, "pk", record_or_pk)
    return RegisterRecord.objects.select_for_update().get(pk=pk)


def current_holding(record) -> Holding | None:
    return Holding.objects.filter(record=record, ended_at__isnull=True).select_related("organization").first()


@transaction.atomic
def holding_ensure(*, organization, record, basis=Holding.Basis.REGISTER, actor=None) -> Holding:
    """The organization's current holding of `record` (created when there is none). Refuses when
    another organization of the exchange holds it."""
    require_tenant()
    _lock_record(record)
    holding = current_holding(record)
    if holding is not None:
        if holding.organization_id != organization.pk:
            raise Conflict(_("%(number)s is held by another organization on this exchange.")
                           % {"number": record.number})
        return holding
    holding = Holding.objects.create(organization=organization, record=record, basis=basis, created_by=actor,
                                     since=timezone.localdate(), next_check_at=timezone.now())
    holding_fees_store(holdings=[holding])
    audit_record(actor=actor, action="right.holding_added", obj=holding,
                 data={"record": record.pk, "number": record.number, "basis": basis})
    return holding


# The holding's copies of its record's fields (filters, counts and sorts without joining the register).
HOLDING_COPIES = ["kind", "jurisdiction", "legal_status", "expiry_date", "number", "title"]
STORED_FEE_YEARS = 6  # the page shows 5 calendar years; one more keeps a day-old computation complete


def holding_fees_store(*, holdings, today: datetime.date | None = None, records=None) -> int:
    """Replace the stored fees of these current holdings with what `rights.fees` computes today from
    their register records (`records`: {holding pk: fresher record} where the caller has one), and
    refresh the holdings' copies of the record's kind, office, status, expiry, number and title. Three queries for any
    number of holdings (up to 2,000). Returns the number of fee rows written."""
    holdings = [h for h in holdings if h.ended_at is None]
    if not holdings:
        return 0
    today = today or timezone.localdate()
    rows = []
    for h in holdings:
        record = (records or {}).get(h.pk) or h.record
        h.kind, h.jurisdiction, h.legal_status, h.expiry_date = (record.kind, record.jurisdiction,
                                                                 record.legal_status, record.expiry_date)
        h.number, h.title = record.number, record.title[:500]
        for fee in fees_for(record, today=today, horizon_years=STORED_FEE_YEARS):
            rows.append(HoldingFee(tenant_id=h.tenant_id, organization_id=h.organization_id, holding_id=h.pk,
                                   office=fee.office, code=fee.code, n=fee.n, label=fee.label[:80], due=fee.due,
                                   amount_minor=fee.amount_minor, currency=fee.currency, grace_until=fee.grace_until,
                                   surcharge_minor=fee.surcharge_minor, window_opens=fee.window_opens,
                                   source=fee.source[:120], rules_as_of=FEE_TABLES_AS_OF))
    with transaction.atomic():
        HoldingFee.objects.filter(holding_id__in=[h.pk for h in holdings]).delete()
        HoldingFee.objects.bulk_create(rows, batch_size=2000)
        Holding.objects.bulk_update(holdings, HOLDING_COPIES, batch_size=2000)
    _fees_changed({h.organization_id for h in holdings})
    return len(rows)


def _fees_changed(organization_ids) -> None:
    from .portfolio import fees_changed

    transaction.on_commit(lambda: fees_changed(organization_ids))
    fees_changed(organization_ids)  # now too: a reader in this transaction sees the new rows


@transaction.atomic
def owner_record_transfer(*, record, from_org, to_org, reference: str, recorded_on: datetime.date | None = None,
                          actor_label: str = "") -> Holding:
    """The office recorded the transfer of `record` from `from_org` to `to_org` (reference: the order
    and the office's reference). Locks the record; running it twice changes nothing."""
    require_tenant()
    record = _lock_record(record)
    recorded_on = recorded_on or timezone.localdate()
    reference = (reference or "")[:80]
    existing = Holding.objects.filter(record=record, organization=to_org, acquired_reference=reference,
                                      basis=Holding.Basis.TRANSFER).first()
    if existing is not None:
        return existing
    now = timezone.now()
    holding = current_holding(record)
    if holding is None:  # the seller never added it to a portfolio: its holding starts and ends here
        holding = Holding(organization=from_org, record=record, basis=Holding.Basis.REGISTER)
    if holding.organization_id not in (from_org.pk, to_org.pk):
        # The exchange thought someone else held it; the office's record wins, but say so in the audit.
        audit_record(actor_label=actor_label or "office", action="right.holding_superseded", obj=record,
                     tenant=require_tenant(), data={"holder": holding.organization_id, "reference": reference})
    holding.ended_at = now
    holding.ended_reference = reference
    holding.transferred_to = to_org
    holding.transferred_to_name = to_org.legal_name
    holding.save()
    HoldingFee.objects.filter(holding=holding).delete()  # an ended holding has no fees to pay
    _fees_changed({holding.organization_id})
    new = Holding.objects.create(organization=to_org, record=record, basis=Holding.Basis.TRANSFER, since=recorded_on,
                                 acquired_reference=reference, next_check_at=now)
    previous_owner = record.owner_name
    record.owner_name = to_org.legal_name
    record.owner_registration_number = (getattr(to_org, "registration_number", "") or "")[:40]
    record.owner_country = getattr(to_org, "country", "") or record.owner_country
    history = list((record.raw or {}).get("owners", []))
    history.append({"from": previous_owner, "to": to_org.legal_name, "on": recorded_on.isoformat(),
                    "reference": reference, "via": "ipex"})
    record.raw = {**(record.raw or {}), "owners": history}
    record.save()
    holding_fees_store(holdings=[new])
    audit_record(actor_label=actor_label or "office", action="right.owner_recorded", obj=new,
                 data={"record": record.pk, "number": record.number, "from": previous_owner,
                       "to": to_org.legal_name, "reference": reference})
    emit("right.owner_recorded", organizations=[from_org, to_org],
         data={"record": record.pk, "number": record.number, "jurisdiction": record.jurisdiction,
               "from": previous_owner, "to": to_org.legal_name, "reference": reference,
               "on": recorded_on.isoformat()})
    return new


@transaction.atomic
def record_encumbrance(*, record, type: str, holder: str, reference: str, until: datetime.date | None = None,
                       organizations=(), actor_label: str = "") -> RegisterRecord:
    """A licence or pledge recorded by the office through ipex appears on the right (idempotent per
    reference); partners hear of it. The entry is written by `rights.encumbrances` (one writer)."""
    if type not in ENCUMBRANCE_TYPES:
        raise ValidationFailed(_("Unknown kind of encumbrance: %(type)s.") % {"type": type})
    record = _lock_record(record)
    if any(e.get("reference") == reference for e in record.encumbrances or []):
        return record
    entry = encumbrance_record(record=record, type=type, holder=holder, reference=reference, until=until,
                               actor_label=actor_label or "office")
    emit("right.encumbrance_recorded", organizations=list(organizations),
         data={"record": record.pk, "number": record.number, **entry})
    record.refresh_from_db()
    return record


def _date(value, field, problems):
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        problems[field] = [_("Write the date as YYYY-MM-DD.")]
        return None


@transaction.atomic
def record_from_certificate(*, actor, organization, data: dict) -> RegisterRecord:
    """A right the public registers do not serve (CN copyrights, CN rights missing from the embedded
    register) entered from its certificate: validated, stored as awaiting verification
    (`source=certificate`, `legal_status` as claimed, `raw.verified=False`). The verifier checks the
    certificate scan with the listing; `confirm_certificate_records` then makes it part of the register."""
    problems: dict[str, list[str]] = {}
    kind = str(data.get("kind") or "").strip()
    if kind not in RightKind.values:
        problems["kind"] = [_("Choose the kind of right.")]
    number_text = str(data.get("number") or "").strip()
    parsed = None
    try:
        readings = [p for p in parse_candidates(number_text, jurisdiction="CN", kind=kind or None)
                    if p.jurisdiction == Jurisdiction.CN]
        parsed = readings[0] if readings else None
        if parsed is None:
            problems["number"] = [_("This is not a Chinese registration number.")]
    except NumberError as exc:
        problems["number"] = [exc.message]
    if parsed is not None and kind and parsed.kind and parsed.kind != kind:
        problems["number"] = [_("%(number)s is a number of a %(actual)s.")
                              % {"number": parsed.display, "actual": RightKind(parsed.kind).label}]
    title = str(data.get("title") or "").strip()
    if not title:
        problems["title"] = [_("Enter the title as on the certificate.")]
    owner = str(data.get("owner_name") or "").strip() or organization.legal_name
    certificate_number = str(data.get("certificate_number") or "").strip()
    if certificate_number:
        try:
            cert = parse_candidates(certificate_number, jurisdiction="CN", kind=RightKind.SOFTWARE_COPYRIGHT)[0] \
                if kind == RightKind.SOFTWARE_COPYRIGHT else None
            certificate_number = cert.display if cert else certificate_number
        except NumberError as exc:
            problems["certificate_number"] = [exc.message]
    completion = _date(data.get("completion_date"), "completion_date", problems)
    publication = _date(data.get("publication_date"), "publication_date", problems)
    filing = _date(data.get("filing_date"), "filing_date", problems)
    grant = _date(data.get("grant_date"), "grant_date", problems)
    if kind in COPYRIGHT_KINDS and not (completion or publication):
        problems["completion_date"] = [_("Enter the completion date (and the first publication date if published).")]
    if completion and publication and publication < completion:
        problems["publication_date"] = [_("First publication cannot be before completion.")]
    if problems:
        raise ValidationFailed(_("Please correct the right's details."), field_errors=problems)
    existing = RegisterRecord.objects.select_for_update().filter(jurisdiction="CN", number=parsed.normalized).first()
    if existing is not None and not existing.awaiting_verification:
        return existing  # already in the register: use it as the register has it
    record = existing or RegisterRecord(jurisdiction="CN", number=parsed.normalized)
    record.kind = kind
    record.title = title[:500]
    record.title_en = str(data.get("title_en") or "").strip()[:500]
    record.abstract = str(data.get("abstract") or "").strip()
    record.abstract_en = str(data.get("abstract_en") or "").strip()
    record.owner_name = owner[:300]
    record.version = str(data.get("version") or "").strip()[:40]
    record.certificate_number = certificate_number[:60]
    record.completion_date, record.publication_date = completion, publication
    record.filing_date = filing or (publication if kind in COPYRIGHT_KINDS else None)
    record.grant_date = grant
    record.legal_status = LegalStatus.VALID
    record.expiry_date = expiry_date(kind=kind, jurisdiction="CN", filing_date=filing, grant_date=grant,
                                     publication_date=publication, completion_date=completion)
    # Copyright needs no fees; record "paid" through the end of the term so the renewal check holds.
    record.renewal_paid_through = record.expiry_date if kind in COPYRIGHT_KINDS else None
    record.source = RecordSource.CERTIFICATE
    record.fetched_at = timezone.now()
    record.raw = {"entered_by": actor.email, "organization": organization.pk}
    record.awaiting_verification = True
    record.save()
    audit_record(actor=actor, action="right.entered_from_certificate", obj=record, tenant=require_tenant(),
                 data={"number": record.number, "kind": kind})
    return record


def confirm_certificate_records(*, records, actor) -> int:
    """The verifier approved a listing whose rights came from certificates: they are now part of the
    register (found by anyone's look-up). Returns how many were confirmed."""
    confirmed = 0
    for record in records:
        if record is None or not record.awaiting_verification:
            continue
        record = _lock_record(record)
        record.awaiting_verification = False
        record.raw = {**record.raw, "verified_by": actor.email, "verified_at": timezone.now().isoformat()}
        record.save(update_fields=["raw", "awaiting_verification", "updated_at"])
        audit_record(actor=actor, action="right.certificate_verified", obj=record, tenant=require_tenant(),
                     data={"number": record.number})
        confirmed += 1
    return confirmed
