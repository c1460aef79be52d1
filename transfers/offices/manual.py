"""Real offices (CNIPA, USPTO, EUIPO, WIPO): the platform produces the filing package — the signed
papers and the office's cover data (for the USPTO the recordation cover sheet fields) — and escrow
staff submit it through the office's own channel (CNIPA e-filing, USPTO Assignment Center, EUIPO
user area, WIPO eMadrid). Staff then record the reference the office gave and, later, its notice.
No public status source is polled: the admin lists filings whose answer is overdue."""

from __future__ import annotations

import io
import json
import zipfile

from .base import OfficeAnswer, OfficeGateway, SubmitResult


class ManualOfficeGateway(OfficeGateway):
    name = "manual"
    polls = False

    def submit(self, filing, *, package: dict) -> SubmitResult:
        return SubmitResult(reference="")

    def resubmit(self, filing, *, note: str) -> SubmitResult:
        return SubmitResult(reference=filing.reference)

    def status_many(self, filings) -> dict[int, OfficeAnswer]:
        return {f.pk: OfficeAnswer(OfficeAnswer.PENDING) for f in filings}


def package_zip(*, cover: dict, documents) -> bytes:
    """The filing package as a zip: cover data (JSON) and every current paper, signed copies included."""
    from transfers.papers import signed_pdf_bytes

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cover-data.json", json.dumps(cover, ensure_ascii=False, indent=2, default=str))
        for document in documents:
            archive.writestr(f"signed-{document.filename}", signed_pdf_bytes(document))
    return buffer.getvalue()
