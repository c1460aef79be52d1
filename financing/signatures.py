"""Checking the digital signature of an appraisal report when the appraiser uploads it (pyHanko).

A report is accepted only when it carries a PDF signature that is intact (the signed bytes were not
changed), cryptographically valid, covers the whole document (nothing added after signing), and whose
certificate chains to one of the authorities the exchange trusts (`settings.APPRAISAL_TRUST_ROOTS`,
PEM or DER paths). The signer's name, issuer and signing time are kept on the appraisal and shown.
Anything else is refused with a message the appraiser can act on.

Revocation: the certificates of the chain are checked against revocation information —
CRLs the exchange keeps (`APPRAISAL_CRLS`, DER/PEM paths; tests pass the CRL of a throwaway CA this
way) and, where `APPRAISAL_REVOCATION_FETCH` is on (production), the CRLs and OCSP responders the
certificates name, fetched at upload. `APPRAISAL_REVOCATION_MODE` is pyHanko's: "hard-fail" (default:
a certificate that names a CRL or OCSP responder whose answer cannot be had is refused), "require"
(every certificate of the chain must have revocation information), or "soft-fail". A revoked signer
(or a revoked authority in its chain) is refused with the date and the reason.

Timestamp: with `APPRAISAL_REQUIRE_TIMESTAMP` on, the signature must carry a timestamp token from a
time-stamping authority chaining to `APPRAISAL_TSA_ROOTS` (the token's time is then kept as the signing
time instead of the time the signer's computer reported).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from io import BytesIO

from django.conf import settings
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class SignatureProblem(Exception):
    """The report's signature is missing, broken or not trusted; the message says which, in words."""


@dataclass(frozen=True)
class ReportSignature:
    signer: str
    issuer: str
    signed_at: dt.datetime | None


def _trust_roots() -> list:
    from pyhanko.keys import load_cert_from_pemder

    return [load_cert_from_pemder(str(path)) for path in getattr(settings, "APPRAISAL_TRUST_ROOTS", []) or []]


def _crls() -> list[bytes]:
    """The CRLs the exchange keeps (DER, or PEM turned into DER)."""
    from asn1crypto import pem

    out = []
    for path in getattr(settings, "APPRAISAL_CRLS", []) or []:
        with open(path, "rb") as handle:
            data = handle.read()
        if pem.detect(data):
            data = pem.unarmor(data)[2]
        out.append(data)
    return out


def validation_context(roots):
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(trust_roots=roots, crls=_crls(),
                             allow_fetching=bool(getattr(settings, "APPRAISAL_REVOCATION_FETCH", False)),
                             revocation_mode=getattr(settings, "APPRAISAL_REVOCATION_MODE", "hard-fail"))


def _tsa_context():
    from pyhanko.keys import load_cert_from_pemder

    paths = getattr(settings, "APPRAISAL_TSA_ROOTS", []) or []
    if not paths:
        return None
    return validation_context([load_cert_from_pemder(str(p)) for p in paths])


def _trusted_without_revocation_check(embedded, roots) -> bool:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    if getattr(settings, "APPRAISAL_REVOCATION_MODE", "hard-fail") == "soft-fail":
        return False
    try:
        lenient = ValidationContext(trust_roots=roots, crls=_crls(), allow_fetching=False, revocation_mode="soft-fail")
        return bool(validate_pdf_signature(embedded, lenient).trusted)
    except Exception:  # noqa: BLE001 - then it is not trusted either way
        return False


def _name(name) -> str:
    """"Common name (organization)" of an X.509 name, without attribute labels (they would be English on
    every page); the full distinguished name when it has no common name."""
    parts = name.native
    common, org = parts.get("common_name", ""), parts.get("organization_name", "")
    if isinstance(common, list):
        common = ", ".join(common)
    if isinstance(org, list):
        org = ", ".join(org)
    if not common:
        return str(name.human_friendly)
    return f"{common} ({org})" if org and org != common else str(common)


def verify_report(data: bytes) -> ReportSignature:
    """The signature of the PDF `data`, or SignatureProblem."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        logger.info("appraisal report unreadable: %s", exc)
        raise SignatureProblem(_("The report could not be read as a PDF document.")) from None
    if not signatures:
        raise SignatureProblem(_("The report is not digitally signed. Sign the PDF with your signing certificate "
                                 "and upload it again."))
    embedded = signatures[-1]  # the last signature must cover the whole file
    roots = _trust_roots()
    try:
        status = validate_pdf_signature(embedded, validation_context(roots), ts_validation_context=_tsa_context())
    except Exception as exc:  # noqa: BLE001 (pyHanko raises many kinds on a malformed signature)
        logger.info("appraisal report signature unreadable: %s", exc)
        raise SignatureProblem(_("The report's signature is damaged and cannot be checked.")) from None
    cert = status.signing_cert
    signer = _name(cert.subject) if cert is not None else ""
    issuer = _name(cert.issuer) if cert is not None else ""
    if not status.intact or not status.valid:
        raise SignatureProblem(_("The report was changed after it was signed (signature of %(signer)s does not "
                                 "match the document). Upload the report exactly as signed.") % {"signer": signer})
    if status.coverage is None or status.coverage.name not in ("ENTIRE_FILE", "ENTIRE_REVISION") or \
            status.docmdp_ok is False:
        raise SignatureProblem(_("The report was changed after it was signed (content was added after the "
                                 "signature). Upload the report exactly as signed."))
    if status.coverage.name == "ENTIRE_REVISION" and embedded.signed_revision != reader.xrefs.total_revisions - 1:
        raise SignatureProblem(_("The report was changed after it was signed (content was added after the "
                                 "signature). Upload the report exactly as signed."))
    logger.info("appraisal report signature: trust problem %s", status.trust_problem_indic)
    if status.revoked:
        details = status.revocation_details
        when = details.revocation_date.strftime("%Y-%m-%d") if details.revocation_date else "?"
        reason = str(details.revocation_reason.human_friendly) if details.revocation_reason is not None else ""
        if details.ca_revoked:
            raise SignatureProblem(_("The report is signed by %(signer)s, but the certificate of its issuing "
                                     "authority %(issuer)s was revoked on %(date)s. Sign it again with a valid "
                                     "certificate.") % {"signer": signer, "issuer": issuer, "date": when})
        raise SignatureProblem(_("The report is signed by %(signer)s, whose certificate was revoked on %(date)s "
                                 "(%(reason)s). A revoked certificate cannot sign appraisal reports; sign it again "
                                 "with a valid one.") % {"signer": signer, "date": when, "reason": reason or "-"})
    if not status.trusted and _trusted_without_revocation_check(embedded, roots):
        # pyHanko reports a missing answer as a general chain failure: the same chain is trusted when
        # revocation is not required, so what failed is the revocation check
        raise SignatureProblem(_("Whether the certificate of %(signer)s is revoked could not be checked (its "
                                 "authority's revocation list or status service did not answer). Try again later.")
                               % {"signer": signer})
    if not status.trusted:
        raise SignatureProblem(_("The report is signed by %(signer)s, but that certificate (issued by "
                                 "%(issuer)s) is not from an authority the exchange accepts for appraisers.")
                               % {"signer": signer, "issuer": issuer})
    stamp = status.timestamp_validity
    if getattr(settings, "APPRAISAL_REQUIRE_TIMESTAMP", False) and (stamp is None or not stamp.trusted):
        raise SignatureProblem(_("The report's signature carries no timestamp from a time-stamping authority the "
                                 "exchange accepts. Sign it again with a timestamp (your signing software's "
                                 "TSA setting).") if stamp is None else
                               _("The timestamp on the report's signature is not from a time-stamping authority "
                                 "the exchange accepts."))
    signed_at = stamp.timestamp if stamp is not None and stamp.trusted else status.signer_reported_dt
    return ReportSignature(signer=signer[:300], issuer=issuer[:300], signed_at=signed_at)
