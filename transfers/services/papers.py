"""Papers: generated when the payment is held, read and signed by both parties, and the export
certificate a Chinese seller uploads for an invention or utility model sold abroad."""

from __future__ import annotations

import logging
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.services import name_matches_profile, user_lock_name
from core.audit import audit_record
from core.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from core.notifications import notify
from core.uploads import DOCUMENTS, validate_upload
from escrow.models import Order, OrderState
from escrow.services import lock_order
from transfers import papers, sealing
from transfers.models import (
    DocumentKind,
    FilingStatus,
    Party,
    Signature,
    TransferDocument,
    TransferFiling,
    signed_kinds_for,
)
from transfers.offices import PROFILES, adapter_name_for, offices_for, route_of
from transfers.selectors import (
    SIGNABLE_ORDER_STATES,
    all_signed,
    current_documents,
    current_filing,
    return_document,
    return_signable_now,
)

from .common import officers, order_url, party_of, party_users, require_officer, signing_party

log = logging.getLogger(__name__)

CONSENT_TEXT = gettext_lazy(
    "I have read this paper and sign it electronically. Typing my full name has the same effect as my "
    "handwritten signature, for myself and for the organization I act for."
)
PREPARE_STATES = (OrderState.FUNDED, OrderState.TRANSFER_FILED, OrderState.TRANSFER_APPROVED,
                  OrderState.TRANSFER_REJECTED, OrderState.DISPUTED)


def _lock_order(order_id: int) -> Order:
    return lock_order(order_id)


def _store_document(*, order: Order, kind: str, pdf: bytes, data: dict[str, Any],
                    filing: TransferFiling | None = None) -> TransferDocument:
    """Save a generated paper as the new current version of its kind (the old one is superseded)."""
    current = TransferDocument.objects.filter(order=order, kind=kind, superseded=False)
    if kind in (DocumentKind.COVER, DocumentKind.NOTICE) and filing is not None:
        # Each office's own cover data and notice (a mixed package has one filing per office).
        current = current.filter(filing__office=filing.office)
    previous = current.first()
    version = 1 + max(TransferDocument.objects.filter(order=order, kind=kind).values_list("version", flat=True),
                      default=0)
    if previous is not None:
        if previous.sha256 == papers.sha256(pdf):
            return previous  # same bytes: nothing changed
        previous.superseded = True
        previous.save(update_fields=["superseded"])
    document = TransferDocument(order=order, filing=filing, kind=kind, version=version, sha256=papers.sha256(pdf),
                                size=len(pdf), data=data)
    document.file.save(f"{kind}-v{version}.pdf", ContentFile(pdf), save=False)
    document.save()
    return document


def _create_filing(order: Order, *, attempt: int) -> TransferFiling:
    """One filing per office that records rights of the order (a CN patent + CN trademark package
    gets two); returns the first. No route at all: one filing without an office (a gate explains)."""
    grouped = offices_for(list(order.listing.rights.all()))
    if not grouped:
        filing: TransferFiling = TransferFiling.objects.create(order=order, attempt=attempt, office="",
                                                               adapter="manual")
        return filing
    filings: list[TransferFiling] = [TransferFiling.objects.create(order=order, attempt=attempt, office=office,
                                                                   adapter=adapter_name_for(office))
                                     for office in grouped]
    return filings[0]


def prepare_in_transaction(order: Order) -> tuple[TransferFiling, list[TransferDocument]]:
    """Create the filing and any missing paper (order locked by the caller). Returns the new papers."""
    filing = current_filing(order)
    if filing is None:
        filing = _create_filing(order, attempt=1)
    existing = {d.kind for d in TransferDocument.objects.filter(order=order, superseded=False)}
    data = None
    created = []
    for kind in signed_kinds_for(order):
        if kind in existing:
            continue
        data = data or papers.paper_data(order, office=filing.office)
        created.append(_store_document(order=order, kind=kind, pdf=papers.RENDERERS[kind](data), data=data,
                                       filing=filing))
    return filing, created


@transaction.atomic(durable=True)
def transfer_prepare(*, order: Order) -> TransferFiling | None:
    """Prepare the transfer of a funded order: pick the office, generate the papers. Idempotent: run
    twice (task and page view at once), the papers are generated once. None if the order is not funded."""
    order = _lock_order(order.pk)
    if order.state not in PREPARE_STATES:
        return None
    filing, created = prepare_in_transaction(order)
    if created:
        audit_record(action="transfer.papers_generated", obj=filing, actor_label="system",
                     data={"order": order.reference, "papers": [d.kind for d in created],
                           "sha256": {d.kind: d.sha256 for d in created}})
        notify(users=party_users(order), kind="transfer.papers_ready",
               subject=gettext_lazy("Order %(ref)s: sign the transfer papers"),
               body=(gettext_lazy("The licence contract for “%(title)s” is ready. Read and sign it on the order page "
                                  "before %(due)s; the exchange then records the licence with the office.")
                     if order.is_licence else
                     gettext_lazy("The transfer agreement, the power of attorney and the dismissal letter for "
                                  "“%(title)s” are ready. Read and sign each of them on the order page before "
                                  "%(due)s.")),
               params={"ref": order.reference, "title": order.listing.title,
                       "due": timezone.localtime(order.filing_due).strftime("%Y-%m-%d") if order.filing_due else "-"},
               url=order_url(order))
    return filing


def generate_cover(order: Order, filing: TransferFiling) -> TransferDocument | None:
    """The office's cover data as a paper (order and filing locked by the caller)."""
    if not filing.office:
        return None
    data = papers.paper_data(order, office=filing.office)
    # This office's rights only (a mixed package's other rights are on the other office's cover).
    data["rights"] = [r for r in data["rights"] if route_of(r) == filing.office]
    cover = papers.cover_data(data, office=filing.office, executed_on=filing.executed_on)
    pdf = papers.cover_pdf(cover, office_name=PROFILES[filing.office].name)
    return _store_document(order=order, kind=DocumentKind.COVER, pdf=pdf, data=cover, filing=filing)


def _check_signer(order: Order, user: User, typed_name: str, consent: bool,
                  document: TransferDocument | None = None) -> tuple[str, str, Any]:
    """Who signs, for which side, with which name: a member of the party's organization, or a broker's
    member under a mandate of that party that allows signing, typing the name of their own profile.
    Returns (party, normalised name, mandate or None). The assignment back (`document` of the return
    kind) is signed only while the transfer back is being prepared."""
    if not user.is_active:  # an API key's service identity is no person: it names the member who signs
        raise NotAllowed(_("A signature belongs to a person: name the member of your organization who signs "
                           "(signer_email)."))
    party, mandate = signing_party(user, order)
    if party is None:
        raise NotAllowed(_("Only members of the buyer's or the seller's organization, or a broker whose mandate "
                           "allows signing, sign this order's papers."))
    if document is not None and document.is_return:
        if not return_signable_now(order):
            raise InvalidTransition(_("The assignment back is signed while the transfer back is being prepared; "
                                      "order %(ref)s is “%(state)s”.")
                                    % {"ref": order.reference, "state": order.get_state_display()})
    elif order.state not in SIGNABLE_ORDER_STATES:
        raise InvalidTransition(_("Order %(ref)s is “%(state)s”: its papers can no longer be signed.")
                                % {"ref": order.reference, "state": order.get_state_display()})
    filing = current_filing(order)
    if (document is None or not document.is_return) and order.state == OrderState.TRANSFER_FILED and (
            filing is None or filing.status != FilingStatus.CORRECTION_REQUESTED):
        raise InvalidTransition(_("The papers are with the office already."))
    errors = {}
    name = " ".join((typed_name or "").split())
    if len(name) < 2:
        errors["typed_name"] = [_("Type your full name to sign.")]
    elif not (user.full_name or "").strip():
        errors["typed_name"] = [_("Add your full name to your profile first: you sign with that name.")]
    elif not name_matches_profile(user, name):
        errors["typed_name"] = [_("Type your name as it is in your profile: “%(name)s”.") % {"name": user.full_name}]
    if not consent:
        errors["consent"] = [_("Tick the box to confirm you sign this paper.")]
    if errors:
        raise ValidationFailed(_("The paper was not signed: check the form."), field_errors=errors)
    return party, name, mandate


def _sign_locked(*, order: Order, document: TransferDocument, user: User, party: str, name: str,
                 ip_address: str | None, user_agent: str, shown_sha256: str, mandate: Any = None) -> Signature:
    """Record one signature (order and document locked, signer checked by the caller)."""
    if document.superseded or not document.needs_signatures:
        raise ValidationFailed(_("This paper is not one to sign (it was replaced by a newer version)."))
    existing = document.signatures.filter(party=party).select_related("user").first()
    if existing is not None:
        if existing.user_id == user.pk:
            same: Signature = existing
            return same  # the same person pressed twice
        raise Conflict(_("%(name)s already signed this paper for your side on %(when)s.")
                       % {"name": existing.typed_name, "when": timezone.localtime(existing.signed_at)
                          .strftime("%Y-%m-%d %H:%M")})
    with document.file.open("rb") as handle:
        digest = papers.sha256(handle.read())
    if digest != document.sha256:
        raise Conflict(_("The stored paper does not match its fingerprint; escrow staff have been told."))
    if shown_sha256 and shown_sha256 != digest:
        raise Conflict(_("This paper changed since you opened it. Read the current version and sign again."))
    signature: Signature = Signature.objects.create(
        document=document, party=party, user=user, typed_name=name[:150], consent=True,
        consent_text=str(CONSENT_TEXT), ip_address=ip_address or None, user_agent=(user_agent or "")[:300],
        document_sha256=digest,
        organization=order.seller_org if party == Party.SELLER else order.buyer_org,
        mandate=mandate, broker_org=mandate.broker_org if mandate is not None else None,
    )
    broker = {"mandate": mandate.pk, "broker_org": mandate.broker_org_id} if mandate is not None else {}
    audit_record(actor=user, action="transfer.document_signed", obj=document, ip_address=ip_address or None,
                 data={"order": order.reference, "paper": document.kind, "version": document.version,
                       "party": party, "typed_name": name, "sha256": digest, **broker})
    labels = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            labels[language] = str(document.get_kind_display())
    audit_record(actor=user, action="order.document_signed", obj=order, ip_address=ip_address or None,
                 data={"paper": document.kind, "paper_label": labels, "version": document.version, "party": party,
                       "typed_name": name, "sha256": digest, **broker})
    return signature


def _after_signing(order: Order, party: str) -> None:
    """Everyone signed: date the filing, make the cover, seal the papers, tell the parties and officers.
    Otherwise, when this side is done, tell the other side it is their turn."""
    documents = current_documents(order, kinds=signed_kinds_for(order))
    if all_signed(order, documents):
        filing = current_filing(order)
        if filing is not None:
            filing = TransferFiling.objects.select_for_update(of=("self",)).get(pk=filing.pk)
            filing.executed_on = timezone.localdate()
            filing.save(update_fields=["executed_on", "updated_at"])
            generate_cover(order, filing)
        seal_signed_papers(order, documents)
        notify(users=party_users(order) + officers(), kind="transfer.papers_signed",
               subject=gettext_lazy("Order %(ref)s: all transfer papers signed"),
               body=gettext_lazy("Both parties signed every paper for “%(title)s”. An escrow officer now files the "
                                 "transfer with the office."),
               params={"ref": order.reference, "title": order.listing.title}, url=order_url(order))
    else:
        mine_left = [d for d in documents if d.needs_signatures and party not in {s.party for s in d.signatures.all()}]
        if not mine_left:
            other = Party.BUYER if party == Party.SELLER else Party.SELLER
            notify(users=party_users(order, other), kind="transfer.papers_your_turn",
                   subject=gettext_lazy("Order %(ref)s: your signature is awaited"),
                   body=gettext_lazy("The other party signed every transfer paper for “%(title)s”. Read and sign "
                                     "them on the order page."),
                   params={"ref": order.reference, "title": order.listing.title}, url=order_url(order))


def signing_record(order: Order, document: TransferDocument) -> dict[str, Any]:
    """What the sealed PDF carries: the paper, its fingerprint and each party's signature."""
    return {
        "order": order.reference, "paper": document.kind, "version": document.version,
        "sha256_signed_by_parties": document.sha256,
        "signatures": [
            {"party": sig.party, "organization": sig.organization.legal_name, "typed_name": sig.typed_name,
             "user": sig.user.email, "signed_at": sig.signed_at.isoformat(), "sha256": sig.document_sha256,
             "consent": sig.consent_text,
             **({"broker": sig.broker_org.legal_name if sig.broker_org else "", "mandate": sig.mandate_id}
                if sig.mandate_id else {})}
            for sig in document.signatures.select_related("user", "organization", "broker_org")
            .order_by("signed_at", "pk")
        ],
    }


def seal_signed_papers(order: Order, documents: list[TransferDocument]) -> list[TransferDocument]:
    """Both parties signed: the platform signs each final paper (PAdES) with the signing record embedded.
    Without a configured certificate the papers stay unsealed and the audit log says so."""
    if not sealing.configured():
        audit_record(action="transfer.papers_not_sealed", obj=order, actor_label="system",
                     data={"reason": "no signing certificate configured"})
        return []
    sealed = []
    for document in documents:
        if not document.needs_signatures or document.sealed_sha256:
            continue
        pdf = papers.signed_pdf_bytes(document)  # the paper's exact pages, then the signature page
        out = sealing.seal_pdf(pdf, record=signing_record(order, document),
                               reason=f"{order.reference} {document.kind} v{document.version}: signed by both parties",
                               location=order.tenant.name_en or order.tenant.name)
        document.sealed_file.save(f"{document.kind}-v{document.version}-signed.pdf", ContentFile(out), save=False)
        document.sealed_sha256 = papers.sha256(out)
        document.sealed_at = timezone.now()
        document.save(update_fields=["sealed_file", "sealed_sha256", "sealed_at"])
        audit_record(action="transfer.paper_sealed", obj=document, actor_label="system",
                     data={"order": order.reference, "paper": document.kind, "sha256": document.sealed_sha256})
        sealed.append(document)
    return sealed


@transaction.atomic(durable=True)
def document_sign(*, document: TransferDocument, user: User, typed_name: str, consent: bool,
                  ip_address: str | None = None, user_agent: str = "",
                  shown_sha256: str = "") -> Signature:
    """One party signs one paper: a member of the party's organization, typing their profile name, with
    explicit consent; the signature keeps the time, the user, the IP address and the SHA-256 of the exact
    PDF bytes signed. Their profile name is locked from then on. Audited on the paper and the order."""
    return _document_sign(document=document, user=user, typed_name=typed_name, consent=consent,
                          ip_address=ip_address, user_agent=user_agent, shown_sha256=shown_sha256)


def _document_sign(*, document: TransferDocument, user: User, typed_name: str, consent: bool,
                   ip_address: str | None, user_agent: str, shown_sha256: str) -> Signature:
    """`document_sign` inside the caller's transaction (the order is locked here, again if need be)."""
    order = _lock_order(document.order_id)
    document = TransferDocument.objects.select_for_update(of=("self",)).get(pk=document.pk)
    party, name, mandate = _check_signer(order, user, typed_name, consent, document=document)
    already = document.signatures.filter(party=party, user=user).first()
    if already is not None:  # the same person pressed twice: nothing new to say
        return already
    signature = _sign_locked(order=order, document=document, user=user, party=party, name=name,
                             ip_address=ip_address, user_agent=user_agent, shown_sha256=shown_sha256, mandate=mandate)
    user_lock_name(user=user)
    if document.is_return:
        from .returns import after_return_signed  # returns builds on this module

        after_return_signed(order, party)
    else:
        _after_signing(order, party)
    return signature


@transaction.atomic(durable=True)
def documents_sign_all(*, order: Order, user: User, typed_name: str, consent: bool,
                       ip_address: str | None = None, user_agent: str = "",
                       shown_sha256: dict[str, str] | None = None) -> list[Signature]:
    """One party signs every current paper still awaiting its signature in one step: one typed name, one
    consent, each paper's own SHA-256 recorded. All or nothing: one paper changed since it was shown
    (`shown_sha256` maps paper kind to the fingerprint on screen) and nothing is signed. While a transfer
    back is under way this is the assignment back (the same checks as signing it alone)."""
    order = _lock_order(order.pk)
    if order.state == OrderState.RETURN_PENDING:
        document = return_document(order)
        if document is None:
            raise InvalidTransition(_("Order %(ref)s has no assignment back to sign.") % {"ref": order.reference})
        party, _name, _mandate = _check_signer(order, user, typed_name, consent, document=document)
        if party in {sig.party for sig in document.signatures.all()}:
            raise InvalidTransition(_("Your side has signed every paper already."))
        signature = _document_sign(
            document=document, user=user, typed_name=typed_name, consent=consent, ip_address=ip_address,
            user_agent=user_agent, shown_sha256=(shown_sha256 or {}).get(document.kind, ""))
        return [signature]
    party, name, mandate = _check_signer(order, user, typed_name, consent)
    documents = list(TransferDocument.objects.select_for_update(of=("self",))
                     .filter(order=order, kind__in=signed_kinds_for(order), superseded=False).order_by("kind", "pk"))
    todo = [d for d in documents if d.needs_signatures and not d.signatures.filter(party=party).exists()]
    if not todo:
        raise InvalidTransition(_("Your side has signed every paper already."))
    shown = shown_sha256 or {}
    signatures = [_sign_locked(order=order, document=d, user=user, party=party, name=name, ip_address=ip_address,
                               user_agent=user_agent, shown_sha256=shown.get(d.kind, ""), mandate=mandate)
                  for d in todo]
    user_lock_name(user=user)
    _after_signing(order, party)
    return signatures


@transaction.atomic(durable=True)
def export_certificate_upload(*, order: Order, user: User, file: Any) -> TransferFiling:
    """The seller uploads the technology-export contract registration certificate (PDF or image,
    checked by content)."""
    order = _lock_order(order.pk)
    if party_of(user, order) != Party.SELLER:
        raise NotAllowed(_("Only the seller uploads the technology-export contract registration certificate."))
    if order.state not in (OrderState.FUNDED, OrderState.TRANSFER_REJECTED):
        raise InvalidTransition(_("The certificate is needed before filing; this order is “%(state)s”.")
                                % {"state": order.get_state_display()})
    if file is None:
        raise ValidationFailed(_("Choose the certificate file to upload."), field_errors={"file": [_("Required.")]})
    try:
        content_type = validate_upload(file, allowed=DOCUMENTS)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), field_errors={"file": exc.messages}) from exc
    filing = current_filing(order)
    if filing is None:
        filing, _created = prepare_in_transaction(order)
    filing = cast(TransferFiling, TransferFiling.objects.select_for_update(of=("self",)).get(pk=filing.pk))
    filing.export_certificate.save(file.name.rsplit("/", 1)[-1][:80] or "certificate", file, save=False)
    filing.export_certificate_type = content_type
    filing.export_certificate_uploaded_by = user
    filing.export_certificate_uploaded_at = timezone.now()
    filing.save(update_fields=["export_certificate", "export_certificate_type", "export_certificate_uploaded_by",
                               "export_certificate_uploaded_at", "updated_at"])
    audit_record(actor=user, action="transfer.export_certificate_uploaded", obj=filing,
                 data={"order": order.reference, "content_type": content_type, "size": file.size})
    notify(users=officers(), kind="transfer.export_certificate",
           subject=gettext_lazy("Order %(ref)s: export contract certificate uploaded"),
           params={"ref": order.reference}, url=order_url(order))
    return filing


__all__ = ["transfer_prepare", "document_sign", "documents_sign_all", "seal_signed_papers", "export_certificate_upload", "generate_cover",
           "prepare_in_transaction", "CONSENT_TEXT"]


def transfer_prepare_or_record(*, order: Order) -> TransferFiling | None:
    """The worker's way to prepare papers: on failure the error is recorded (its own transaction) and the
    officers are told once, instead of the failure vanishing into a log; a later success resolves it."""
    from transfers.models import PaperFailure

    try:
        filing = transfer_prepare(order=order)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded for staff, then re-raised as logged
        log.exception("preparing the transfer papers of order %s failed", order.pk)
        with transaction.atomic():
            failure = (PaperFailure.objects.select_for_update().filter(order=order, resolved_at__isnull=True)
                       .first())
            if failure is None:
                PaperFailure.objects.create(order=order, error=f"{type(exc).__name__}: {exc}"[:500])
                notify(users=officers(), kind="transfer.papers_failed",
                       subject=gettext_lazy("Order %(ref)s: the transfer papers could not be generated"),
                       body=gettext_lazy("%(error)s Fix the cause (e.g. the parties' details), then generate "
                                         "them again on the order page."),
                       params={"ref": order.reference, "error": str(exc)[:200]}, url=order_url(order))
            else:
                failure.attempts += 1
                failure.error = f"{type(exc).__name__}: {exc}"[:500]
                failure.save(update_fields=["attempts", "error", "failed_at"])
        return None
    PaperFailure.objects.filter(order=order, resolved_at__isnull=True).update(resolved_at=timezone.now())
    return filing


def transfer_papers_retry(*, order: Order, actor: Any) -> None:
    """An officer asks the worker to generate the papers again (after fixing what made them fail)."""
    from core.outbox import enqueue

    require_officer(actor)
    with transaction.atomic():
        audit_record(actor=actor, action="transfer.papers_retry", obj=order, data={"order": order.reference})
        enqueue("transfers.tasks.prepare_transfer", tenant_id=order.tenant_id, order_id=order.pk)
