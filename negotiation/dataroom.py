"""The data room of a listing: the seller's documents behind the exchange's NDA. A buyer organization
accepts the NDA (recorded like a signature) to open them; every download is a watermarked copy
(viewer's name, organization, time) made on the fly — the stored original never changes — and is
logged for the seller. PDFs are stamped with pypdf + reportlab, images with Pillow."""

from __future__ import annotations

import hashlib
import io

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.selectors import active_organization
from core.audit import audit_record
from core.errors import NotAllowed, NotFound, ValidationFailed
from core.uploads import DOCUMENTS, validate_upload
from listings.models import Listing
from transfers.papers import CJK  # the CJK font the papers register with reportlab

from .models import DataRoomDocument, DocumentView, NdaAcceptance
from .services import seller_side_for_listing

NDA_TEXT = gettext_lazy(
    "Non-disclosure undertaking. For the organization I act for, I undertake to keep the documents of this "
    "data room confidential, to use them only to evaluate the deal offered in this listing, not to copy them "
    "to anyone outside my organization, and to delete them when the negotiation ends without a deal. Every "
    "copy is marked with my name, my organization and the time I opened it."
)
MAX_TITLE = 200


def nda_text() -> str:
    return str(NDA_TEXT)


def nda_of(listing, org):
    if org is None:
        return None
    return NdaAcceptance.objects.filter(listing=listing, organization=org).first()


def may_open(user, listing) -> tuple[bool, bool]:
    """(may open the documents, is on the seller's side)."""
    seller_side, _mandate = seller_side_for_listing(user, listing)
    if seller_side:
        return True, True
    org = active_organization(user) if user is not None and user.is_authenticated else None
    return nda_of(listing, org) is not None, False


@transaction.atomic(durable=True)
def dataroom_upload(*, listing, actor, file, title: str) -> DataRoomDocument:
    allowed, _mandate = seller_side_for_listing(actor, listing)
    if not allowed:
        raise NotAllowed(_("Only the seller (or its broker) can add documents to the data room."))
    title = (title or "").strip()[:MAX_TITLE] or getattr(file, "name", "document")[:MAX_TITLE]
    try:
        content_type = validate_upload(file, allowed=DOCUMENTS)
    except ValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), field_errors={"file": exc.messages}) from None
    file.seek(0)
    data = file.read()
    digest = hashlib.sha256(data).hexdigest()
    document = DataRoomDocument(listing=listing, title=title, content_type=content_type, sha256=digest,
                                size=len(data), uploaded_by=actor)
    document.file.save(getattr(file, "name", "document").rsplit("/", 1)[-1], ContentFile(data), save=False)
    document.save()
    audit_record(actor=actor, action="dataroom.upload", obj=document,
                 data={"listing": listing.pk, "sha256": digest, "size": len(data), "content_type": content_type})
    return document


@transaction.atomic(durable=True)
def nda_accept(*, listing, actor, typed_name: str, consent: bool, ip_address=None, user_agent: str = "") -> NdaAcceptance:
    """The buyer's member accepts the NDA for their organization: their full name typed, consent given."""
    org = active_organization(actor) if actor is not None and actor.is_authenticated else None
    if org is None:
        raise NotAllowed(_("Join or register an organization in your account first."))
    if listing.state != Listing.State.PUBLISHED and not NdaAcceptance.objects.filter(listing=listing,
                                                                                   organization=org).exists():
        raise NotFound(_("This listing is not for sale right now."))
    name = " ".join((typed_name or "").split())
    errors = {}
    if not name or name.casefold() != " ".join((actor.full_name or "").split()).casefold():
        errors["typed_name"] = [_("Type your full name exactly as in your account (%(name)s).")
                                % {"name": actor.full_name}]
    if not consent:
        errors["consent"] = [_("Tick the box to accept the NDA.")]
    if errors:
        raise ValidationFailed(_("The NDA was not accepted."), field_errors=errors)
    existing = nda_of(listing, org)
    if existing is not None:
        return existing
    text_sha = hashlib.sha256(nda_text().encode()).hexdigest()
    try:
        with transaction.atomic():
            nda = NdaAcceptance.objects.create(listing=listing, organization=org, user=actor, typed_name=name[:150],
                                               consent=True, ip_address=ip_address, user_agent=(user_agent or "")[:300],
                                               text_sha256=text_sha)
    except IntegrityError:
        return nda_of(listing, org)
    audit_record(actor=actor, action="dataroom.nda_accepted", obj=nda, ip_address=ip_address,
                 data={"listing": listing.pk, "organization": org.pk, "typed_name": name, "text_sha256": text_sha})
    return nda


def _stamp_text(user, org, now) -> str:
    return f"{user.full_name or user.email} · {org.legal_name if org else '-'} · {now:%Y-%m-%d %H:%M} UTC · ipex"


def watermark_pdf(original: bytes, text: str) -> bytes:
    """A copy of the PDF with `text` stamped across and at the foot of every page."""
    from pypdf import PdfReader, PdfWriter
    from reportlab.lib.colors import Color
    from reportlab.pdfgen import canvas

    writer = PdfWriter(clone_from=io.BytesIO(original))  # a copy: the original bytes are never touched
    for page in writer.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        buffer = io.BytesIO()
        c = canvas.Canvas(buffer, pagesize=(width, height))
        c.setFont(CJK, 11)
        c.setFillColor(Color(0.75, 0.1, 0.1, alpha=0.35))
        c.saveState()
        c.translate(width / 2, height / 2)
        c.rotate(35)
        c.drawCentredString(0, 0, text)
        c.restoreState()
        c.setFont(CJK, 7)
        c.setFillColor(Color(0.3, 0.3, 0.3, alpha=0.9))
        c.drawString(18, 10, text)
        c.save()
        stamp = PdfReader(io.BytesIO(buffer.getvalue())).pages[0]
        page.merge_page(stamp)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def watermark_image(original: bytes, text: str) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.open(io.BytesIO(original)).convert("RGBA")
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    font = ImageFont.load_default(size=max(12, image.size[0] // 40))
    step = max(60, image.size[1] // 6)
    for y in range(step // 2, image.size[1], step):
        draw.text((10, y), text, fill=(180, 20, 20, 110), font=font)
    stamped = Image.alpha_composite(image, overlay).convert("RGB")
    out = io.BytesIO()
    stamped.save(out, format="PNG")
    return out.getvalue()


def document_open(*, document, actor, ip_address=None) -> tuple[bytes, str, str]:
    """The watermarked copy of a data-room document for `actor`, logged. Someone without the NDA (and not
    on the seller's side) gets NotFound: the documents do not exist for them."""
    allowed, _seller = may_open(actor, document.listing)
    if not allowed:
        raise NotFound(_("Not found."))
    org = active_organization(actor)
    now = timezone.now()
    with document.file.open("rb") as handle:
        original = handle.read()
    text = _stamp_text(actor, org, now)
    if document.content_type == "application/pdf":
        data, content_type, ext = watermark_pdf(original, text), "application/pdf", "pdf"
    else:
        data, content_type, ext = watermark_image(original, text), "image/png", "png"
    with transaction.atomic():
        DocumentView.objects.create(document=document, user=actor, organization=org, ip_address=ip_address)
        audit_record(actor=actor, action="dataroom.open", obj=document, ip_address=ip_address,
                     data={"listing": document.listing_id, "organization": org.pk if org else None})
    return data, content_type, f"{document.pk}-watermarked.{ext}"


def views_of(listing):
    return DocumentView.objects.filter(document__listing=listing).select_related("document", "user", "organization")
