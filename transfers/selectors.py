"""Reads of the transfers app: the current filing and papers of an order, who signed what, and the
gates that must be open before an escrow officer may file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from escrow.models import OrderState
from listings.models import LegalStatus, RegisterRecord, RightKind
from rights.registry import get_register
from transfers.models import (
    RETURN_KINDS,
    SIGNED_KINDS,
    FilingKind,
    FilingStatus,
    Office,
    Party,
    Signature,
    TransferDocument,
    TransferFiling,
    signed_kinds_for,
)

from .offices import route_rights

FILEABLE_ORDER_STATES = (OrderState.FUNDED, OrderState.TRANSFER_REJECTED)
# Papers may be signed while the payment is held and nothing is with the office yet (or a
# correction asks for new signatures).
SIGNABLE_ORDER_STATES = (OrderState.FUNDED, OrderState.TRANSFER_REJECTED, OrderState.TRANSFER_FILED)
EXPORT_CONTROLLED_KINDS = (RightKind.INVENTION, RightKind.UTILITY_MODEL)


def current_filings(order) -> list[TransferFiling]:
    """The latest attempt of each office's filing of the order (a mixed package has several)."""
    latest: dict[str, TransferFiling] = {}
    for filing in TransferFiling.objects.filter(order=order, kind=FilingKind.TRANSFER).order_by("-attempt", "office", "id"):
        latest.setdefault(filing.office, filing)
    return sorted(latest.values(), key=lambda f: (f.office, f.pk))


def return_filings(order) -> list[TransferFiling]:
    """The latest attempt of each office's transfer back (a refund after the office recorded the buyer)."""
    latest: dict[str, TransferFiling] = {}
    for filing in TransferFiling.objects.filter(order=order, kind=FilingKind.RETURN).order_by("-attempt", "office", "id"):
        latest.setdefault(filing.office, filing)
    return sorted(latest.values(), key=lambda f: (f.office, f.pk))


def return_document(order) -> TransferDocument | None:
    """The current assignment back to the seller, with its signatures."""
    documents = current_documents(order, kinds=RETURN_KINDS)
    return documents[0] if documents else None


def return_signable_now(order) -> bool:
    """The assignment back may be signed while the order awaits its transfer back and nothing of it is
    with an office (the signing service applies the same rule)."""
    filings = return_filings(order)
    return (order.state == OrderState.RETURN_PENDING and bool(filings)
            and all(f.status == FilingStatus.PREPARING for f in filings))


def transfer_recorded(order) -> bool:
    """The office recorded the buyer as owner of at least one right of the order (a filing approved)."""
    return TransferFiling.objects.filter(order=order, kind=FilingKind.TRANSFER, status=FilingStatus.APPROVED).exists()


def current_filing(order) -> TransferFiling | None:
    """The filing that needs attention: the first of the current ones not yet approved (the only one
    for a single-office order)."""
    filings = current_filings(order)
    for filing in filings:
        if filing.status != FilingStatus.APPROVED:
            return filing
    return filings[0] if filings else None


def current_documents(order, *, kinds=None) -> list[TransferDocument]:
    qs = (TransferDocument.objects.filter(order=order, superseded=False)
          .prefetch_related(Prefetch("signatures", queryset=Signature.objects.select_related("user", "organization", "broker_org")))
          .order_by("id"))
    if kinds is not None:
        qs = qs.filter(kind__in=kinds)
    else:  # the transfer back has its own panel
        qs = qs.exclude(kind__in=RETURN_KINDS)
    order_of = {k: i for i, k in enumerate(["agreement", "power_of_attorney", "dismissal", "cover", "notice"])}
    return sorted(qs, key=lambda d: order_of.get(d.kind, 99))


def signed_parties(document) -> set[str]:
    return {s.party for s in document.signatures.all()}


def missing_signatures(order, documents=None) -> dict[str, list[TransferDocument]]:
    """For each party, the current papers they still have to sign."""
    documents = documents if documents is not None else current_documents(order, kinds=signed_kinds_for(order))
    missing: dict[str, list] = {Party.SELLER: [], Party.BUYER: []}
    for document in documents:
        if not document.needs_signatures:
            continue
        done = signed_parties(document)
        for party in (Party.SELLER, Party.BUYER):
            if party not in done:
                missing[party].append(document)
    return missing


def papers_signable_now(order, filing=None) -> bool:
    """Whether the parties may sign papers now: the payment is held and nothing is with the office,
    or the office asked for a correction. Never on a disputed, refunded, cancelled or finished order
    (the page then shows the papers read-only). The signing service applies the same rule."""
    if order.state not in SIGNABLE_ORDER_STATES:
        return False
    if order.state == OrderState.TRANSFER_FILED:
        filing = filing if filing is not None else current_filing(order)
        return filing is not None and filing.status == FilingStatus.CORRECTION_REQUESTED
    return True


def all_signed(order, documents=None) -> bool:
    documents = documents if documents is not None else current_documents(order, kinds=signed_kinds_for(order))
    signable = [d for d in documents if d.needs_signatures]
    return len(signable) == len(signed_kinds_for(order)) and not any(missing_signatures(order, signable).values())


@dataclass
class Gate:
    code: str
    ok: bool
    message: str
    blocking: bool = True

    @property
    def level(self) -> str:
        return "ok" if self.ok else ("bad" if self.blocking else "warn")


def needs_export_certificate(order) -> bool:
    """A Chinese seller selling an invention or utility model patent to a foreign buyer (Hong Kong,
    Macao and Taiwan included) needs the technology-export contract registration certificate."""
    if order.seller_org.country != "CN" or order.buyer_org.country == "CN":
        return False
    return any(r.jurisdiction == "CN" and r.kind in EXPORT_CONTROLLED_KINDS for r in order.listing.rights.all())


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    import calendar

    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _norm(name: str) -> str:
    return "".join((name or "").split()).casefold()


def register_problems(order, *, today: date) -> list[str]:
    """Re-check every right of the order against the register: in force, owner unchanged, renewal paid."""
    try:
        register = get_register()
        fetch = lambda r: register.get(jurisdiction=r.jurisdiction, number=r.number)  # noqa: E731
    except Exception:  # noqa: BLE001 - gateway not configured: read the register table
        fetch = lambda r: RegisterRecord.objects.filter(jurisdiction=r.jurisdiction, number=r.number).first()  # noqa: E731
    problems = []
    for right in order.listing.rights.all().order_by("id"):
        record = fetch(right)
        label = f"{right.jurisdiction} {right.number}"
        if record is None:
            problems.append(_("%(right)s is not in the register any more.") % {"right": label})
            continue
        if record.legal_status != LegalStatus.VALID:
            problems.append(_("%(right)s is no longer in force in the register (%(status)s).")
                            % {"right": label, "status": record.get_legal_status_display()})
        if record.expiry_date and record.expiry_date < today:
            problems.append(_("%(right)s expired on %(date)s.") % {"right": label, "date": record.expiry_date})
        if _norm(record.owner_name) != _norm(right.owner_name) and _norm(record.owner_name) not in (
                _norm(order.buyer_org.legal_name), _norm(order.buyer_org.legal_name_en)):  # recorded already
            problems.append(_("The owner of record of %(right)s changed from “%(old)s” to “%(new)s”.")
                            % {"right": label, "old": right.owner_name, "new": record.owner_name})
        if record.renewal_paid_through and record.renewal_paid_through < today:
            problems.append(_("The renewal fee of %(right)s is unpaid since %(date)s.")
                            % {"right": label, "date": record.renewal_paid_through})
    return problems


def transfer_gates(*, order, filing=None, today: date | None = None, documents=None) -> list[Gate]:
    """Every check before filing, each with a message people can act on. Blocking gates stop the
    filing; the others are warnings for staff and parties."""
    today = today or timezone.localdate()
    filing = filing if filing is not None else current_filing(order)
    gates: list[Gate] = []
    sibling_filed = (order.state == OrderState.TRANSFER_FILED and filing is not None
                     and filing.status == FilingStatus.PREPARING)  # a mixed package: a sibling office is filed
    if order.state not in FILEABLE_ORDER_STATES and not sibling_filed:
        gates.append(Gate("state", False, _("The order is “%(state)s”; transfers are filed once the payment is held.")
                          % {"state": order.get_state_display()}))
    office, problems = route_rights(list(order.listing.rights.all()))
    gates.append(Gate("office", not problems, " ".join(problems) if problems else
                      _("The transfer is recorded by %(office)s.") % {"office": Office(office).label if office else "-"}))
    documents = documents if documents is not None else current_documents(order, kinds=signed_kinds_for(order))
    missing = missing_signatures(order, documents)
    if len([d for d in documents if d.needs_signatures]) < len(signed_kinds_for(order)):
        gates.append(Gate("papers", False, _("The transfer papers have not been generated yet.")))
    elif any(missing.values()):
        waiting = []
        if missing[Party.SELLER]:
            waiting.append(_("the seller (%(n)d papers)") % {"n": len(missing[Party.SELLER])})
        if missing[Party.BUYER]:
            waiting.append(_("the buyer (%(n)d papers)") % {"n": len(missing[Party.BUYER])})
        gates.append(Gate("signatures", False, _("Waiting for signatures from %(who)s.") % {"who": _(" and ").join(
            str(w) for w in waiting)}))
    else:
        gates.append(Gate("signatures", True, _("Both parties signed every paper.")))
    problems = register_problems(order, today=today)
    gates.append(Gate("register", not problems, " ".join(problems) if problems else
                      _("The register confirms: in force, owner unchanged, renewal paid.")))
    if needs_export_certificate(order):
        has = bool(filing and filing.export_certificate) or any(f.export_certificate for f in current_filings(order))
        gates.append(Gate("export_certificate", has, _("Technology-export contract registration certificate uploaded.")
                          if has else _("A Chinese seller transferring an invention or utility model patent to a foreign "
                                        "buyer must upload the technology-export contract registration certificate "
                                        "(技术出口合同登记证书) before the transfer can be filed.")))
    if office and office.startswith("uspto") and filing and filing.executed_on:
        late = today > add_months(filing.executed_on, 3)
        if late:
            gates.append(Gate("uspto_three_months", False, _(
                "The papers were executed on %(date)s, more than three months ago: a USPTO recordation now does not "
                "protect the buyer against a later purchaser who records first (35 U.S.C. 261). File at once.")
                % {"date": filing.executed_on}, blocking=False))
    return gates


def blocking_gates(gates: list[Gate]) -> list[Gate]:
    return [g for g in gates if not g.ok and g.blocking]


def overdue_filings():
    """Open filings whose answer is later than the office's typical delay (for the admin)."""
    return TransferFiling.objects.filter(
        status__in=[FilingStatus.FILED, FilingStatus.CORRECTION_REQUESTED, FilingStatus.PACKAGE_READY],
        expected_answer_at__lt=timezone.now(),
    )


# --- the signing-and-filing deadline (DESIGN section 2), one rule for the worker and the page ------

# Each party that still has papers to sign is reminded this long before the deadline.
SIGN_REMINDER_BEFORE = timedelta(days=3)


def buyer_sign_grace() -> timedelta:
    """How long after the deadline a buyer who paid but did not sign may still sign before the
    platform refunds them (setting TRANSFER_BUYER_SIGN_GRACE_DAYS, default 7 days)."""
    return timedelta(days=getattr(settings, "TRANSFER_BUYER_SIGN_GRACE_DAYS", 7))


@dataclass(frozen=True)
class FilingDeadline:
    """Where a funded order stands against its signing-and-filing deadline.

    phase, decided in this order at `now`:
    - "signing": before the deadline (reminders from `remind_at`);
    - "no_papers": past it, but the platform produced no papers: staff are told, nobody is blamed;
    - "seller_late": past it and the seller has not signed every paper: the seller defaults (buyer
      refunded in full, the seller's margin forfeited to the buyer);
    - "buyer_late": the seller signed, the buyer has not: buyer, seller and escrow staff are told at
      once; staff may cancel with a refund; if the buyer still has not signed at `buyer_refund_at`
      the platform refunds the buyer and the listing goes back on sale (no margin forfeited);
    - "staff_late": both signed but the transfer is not filed: escrow staff are told, the order is
      flagged in their queue; nobody is penalised.
    """

    phase: str
    due: datetime
    remind_at: datetime
    buyer_refund_at: datetime
    seller_missing: int
    buyer_missing: int


def filing_deadline(order, documents=None, *, now=None) -> FilingDeadline | None:
    if order.state != OrderState.FUNDED or order.filing_due is None:
        return None
    now = now or timezone.now()
    documents = documents if documents is not None else current_documents(order, kinds=signed_kinds_for(order))
    signable = [d for d in documents if d.needs_signatures and d.kind in SIGNED_KINDS]
    missing = missing_signatures(order, signable)
    seller_missing = len(missing[Party.SELLER]) if signable else len(signed_kinds_for(order))
    buyer_missing = len(missing[Party.BUYER]) if signable else len(signed_kinds_for(order))
    if now < order.filing_due:
        phase = "signing"
    elif len(signable) < len(signed_kinds_for(order)):
        phase = "no_papers"
    elif seller_missing:
        phase = "seller_late"
    elif buyer_missing:
        phase = "buyer_late"
    else:
        phase = "staff_late"
    return FilingDeadline(phase=phase, due=order.filing_due, remind_at=order.filing_due - SIGN_REMINDER_BEFORE,
                          buyer_refund_at=order.filing_due + buyer_sign_grace(),
                          seller_missing=seller_missing, buyer_missing=buyer_missing)



# --- the signing deadline of the assignment back (issue 11) -------------------------------------


def return_sign_days() -> int:
    """Days each party has to sign the assignment back once the transfer back opens (setting
    TRANSFER_BACK_SIGN_DAYS, default 14). Halfway, a party that has not signed is reminded; when it
    passes, escrow officers are told (they chase the party or settle by a split instead)."""
    return int(getattr(settings, "TRANSFER_BACK_SIGN_DAYS", 14))


@dataclass(frozen=True)
class ReturnSignDeadline:
    """Where the assignment back stands against its signing deadline. phase at `now`: "signing"
    (before `remind_at`), "remind" (halfway: remind who has not signed), "late" (past `due`: officers
    told), "signed" (both parties signed; nothing to chase)."""

    phase: str
    opened_at: datetime
    remind_at: datetime
    due: datetime
    missing: tuple[str, ...]


def return_sign_deadline(order, document=None, *, now=None) -> ReturnSignDeadline | None:
    """The deadline counts from the assignment back's creation (the moment the transfer back opened);
    None when the order awaits no transfer back or the paper does not exist."""
    if order.state != OrderState.RETURN_PENDING:
        return None
    document = document if document is not None else return_document(order)
    if document is None:
        return None
    now = now or timezone.now()
    span = timedelta(days=return_sign_days())
    opened = document.created_at
    done = signed_parties(document)
    missing = tuple(p for p in (Party.SELLER, Party.BUYER) if p not in done)
    due, remind_at = opened + span, opened + span / 2
    if not missing:
        phase = "signed"
    elif now >= due:
        phase = "late"
    elif now >= remind_at:
        phase = "remind"
    else:
        phase = "signing"
    return ReturnSignDeadline(phase=phase, opened_at=opened, remind_at=remind_at, due=due, missing=missing)
