"""Checking the digital signature of an appraisal report when the appraiser uploads it (pyHanko).

A report is accepted only when it carries a PDF signature that is intact (the signed bytes were not
changed), cryptographically valid, covers the whole document (nothing added after signing), and whose
certificate chains to one of the authorities the exchange trusts (`settings.APPRAISAL_TRUST_ROOTS`,
PEM or DER paths). The signer's name, issuer and signing time are kept on the appraisal and shown.
Anything else is refused with a message the appraiser can act on.
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
    from pyhanko_certvalidator import ValidationContext

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
        status = validate_pdf_signature(embedded, ValidationContext(trust_roots=roots, allow_fetching=False))
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
    if not status.trusted:
        raise SignatureProblem(_("The report is signed by %(signer)s, but that certificate (issued by "
                                 "%(issuer)s) is not from an authority the exchange accepts for appraisers.")
                               % {"signer": signer, "issuer": issuer})
    return ReportSignature(signer=signer[:300], issuer=issuer[:300], signed_at=status.signer_reported_dt)
