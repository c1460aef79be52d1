"""Website views of the transfers app: read and sign a paper, download papers, upload the export
certificate, and the escrow officer's filing actions. Each view parses, calls one service and
redirects back to the order page with a message; domain errors become messages, never 500s."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.storage import private_file_response
from escrow.models import Order

from . import papers, selectors, services
from .forms import CorrectionForm, ExportCertificateForm, NoticeForm, RefundForm, SignForm
from .models import FilingStatus, TransferDocument, TransferFiling
from .services.common import can_view_order_papers, is_officer, order_url, party_of, signing_party


def client_ip(request) -> str | None:
    """The signer's address through the trusted proxies (core.net), not the proxy's."""
    from core.net import client_ip as trusted_client_ip

    return trusted_client_ip(request)


def _order_page(order) -> str:
    return f"{order_url(order)}#transfer"


def _document_for(request, pk) -> TransferDocument:
    document = (TransferDocument.objects.select_related("order", "order__listing", "order__seller_org",
                                                        "order__buyer_org").filter(pk=pk).first())
    if document is None or not can_view_order_papers(request.user, document.order):
        raise Http404
    return document


def _order_for(request, pk) -> Order:
    order = Order.objects.select_related("listing", "seller_org", "buyer_org").filter(pk=pk).first()
    if order is None or not can_view_order_papers(request.user, order):
        raise Http404
    return order


def _officer_only(request):
    if not is_officer(request.user):
        raise Http404


def _error(request, exc: DomainError):
    messages.error(request, exc.message)


@login_required
def paper(request, pk):
    document = _document_for(request, pk)
    order = document.order
    party, _mandate = signing_party(request.user, order)
    signatures = list(document.signatures.select_related("user", "organization", "broker_org"))
    mine = next((s for s in signatures if s.party == party), None)
    form = SignForm(initial={"sha256": document.sha256})
    if request.method == "POST":
        form = SignForm(request.POST)
        if form.is_valid():
            try:
                services.document_sign(
                    document=document, user=request.user, typed_name=form.cleaned_data["typed_name"],
                    consent=form.cleaned_data["consent"], ip_address=client_ip(request),
                    user_agent=request.META.get("HTTP_USER_AGENT", ""), shown_sha256=form.cleaned_data["sha256"])
            except DomainError as exc:
                for field, errors in exc.field_errors.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
                if not exc.field_errors:
                    form.add_error(None, exc.message)
            else:
                messages.success(request, _("You signed the %(paper)s.") % {"paper": document.get_kind_display()})
                remaining = [] if document.is_return else selectors.missing_signatures(order).get(party, [])
                if remaining:
                    return redirect("transfers:paper", remaining[0].pk)
                return redirect(_order_page(order))
    if document.is_return:  # the assignment back: its own rule, no other paper to sign after it
        signable_now, remaining = selectors.return_signable_now(order), []
    else:
        signable_now = selectors.papers_signable_now(order)
        remaining = selectors.missing_signatures(order).get(party, []) if party and signable_now else []
    return render(request, "transfers/paper.html", {
        "document": document, "order": order, "party": party, "signatures": signatures, "mine": mine,
        "form": form, "can_sign": bool(party) and mine is None and document.needs_signatures
        and not document.superseded and signable_now,
        "remaining": remaining, "order_page": _order_page(order), "pages": range(1, papers.page_count(document) + 1),
    })


PAGE_SCALE = 1.6  # ~115 dpi: sharp on a phone held close, light enough to load page by page


@login_required
def page_image(request, pk, page):
    """One page of the paper as a PNG, rendered from the PDF itself (pypdfium2), for reading before
    signing on any screen. Same permission as the paper; cached by the paper's fingerprint."""
    document = _document_for(request, pk)
    key = f"paper-page:{document.sha256}:{page}:{PAGE_SCALE}"
    png = cache.get(key)
    if png is None:
        with document.file.open("rb") as handle:
            pages = papers.render_pages(handle.read(), scale=PAGE_SCALE)
        if not 1 <= page <= len(pages):
            raise Http404
        for number, image in enumerate(pages, start=1):
            cache.set(f"paper-page:{document.sha256}:{number}:{PAGE_SCALE}", image, 60 * 60 * 24 * 30)
        png = pages[page - 1]
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def sign_all(request, pk):
    """One typed name and one consent sign every paper still awaiting this side's signature."""
    order = _order_for(request, pk)
    form = SignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Type your full name and tick the box to sign."))
        return redirect(_order_page(order))
    shown = {key[len("sha256_"):]: value for key, value in request.POST.items() if key.startswith("sha256_")}
    try:
        signed = services.documents_sign_all(
            order=order, user=request.user, typed_name=form.cleaned_data["typed_name"],
            consent=form.cleaned_data["consent"], ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""), shown_sha256=shown)
    except DomainError as exc:
        messages.error(request, " ".join([str(exc.message)] + [str(e) for errs in exc.field_errors.values()
                                                                for e in errs]))
    else:
        messages.success(request, _("You signed %(n)d papers.") % {"n": len(signed)})
    return redirect(_order_page(order))


@login_required
def pdf(request, pk):
    document = _document_for(request, pk)
    return private_file_response(document.file, content_type="application/pdf",
                                 as_attachment="download" in request.GET,
                                 filename=f"{document.order.reference}-{document.filename}")


@login_required
def signed_pdf(request, pk):
    document = _document_for(request, pk)
    if document.sealed_file:  # signed by the platform's certificate (PAdES), with the signing record
        with document.sealed_file.open("rb") as handle:
            content = handle.read()
    else:
        content = papers.signed_pdf_bytes(document)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{document.order.reference}-signed-{document.filename}"')
    return response


@login_required
@require_POST
def export_upload(request, pk):
    order = _order_for(request, pk)
    form = ExportCertificateForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_order_page(order))
    try:
        services.export_certificate_upload(order=order, user=request.user, file=form.cleaned_data["file"])
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Certificate uploaded. Escrow staff have been told."))
    return redirect(_order_page(order))


@login_required
def export_certificate(request, pk):
    order = _order_for(request, pk)
    filing = selectors.current_filing(order)
    if filing is None or not filing.export_certificate or not (
            is_officer(request.user) or party_of(request.user, order) == "seller"):
        raise Http404
    return private_file_response(filing.export_certificate, content_type=filing.export_certificate_type)


@login_required
@require_POST
def papers_retry(request, pk):
    _officer_only(request)
    order = _order_for(request, pk)
    try:
        services.transfer_papers_retry(order=order, actor=request.user)
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("The papers are being generated again."))
    return redirect(_order_page(order))


@login_required
def file_transfer(request, pk):
    """Filing with the office cannot be taken back: a summary (office, rights, papers and their
    fingerprints, who becomes the owner) first, then the officer confirms explicitly."""
    _officer_only(request)
    order = _order_for(request, pk)
    if request.method != "POST" or request.POST.get("confirmed") != "yes":
        filing = selectors.current_filing(order)
        documents = selectors.current_documents(order)
        return render(request, "transfers/file_confirm.html", {
            "order": order, "filing": filing, "documents": documents,
            "rights": list(order.listing.rights.all()), "order_page": _order_page(order),
        })
    try:
        filing = services.transfer_file(order=order, actor=request.user, ip_address=client_ip(request))
    except DomainError as exc:
        _error(request, exc)
    else:
        if filing.status == FilingStatus.PACKAGE_READY:
            messages.success(request, _("The filing package is ready: submit it to the office, then record the "
                                        "reference it gives."))
        else:
            messages.success(request, _("Filed with %(office)s, reference %(ref)s.")
                             % {"office": filing.get_office_display(), "ref": filing.reference})
    return redirect(_order_page(order))


@login_required
@require_POST
def file_back(request, pk):
    """An officer files the transfer back (the assignment back signed by both) with the office, after
    ticking the confirmation on the order page: it cannot be undone."""
    _officer_only(request)
    order = _order_for(request, pk)
    if request.POST.get("confirmed") != "yes":
        messages.error(request, _("Tick the confirmation to file the transfer back; nothing was filed."))
        return redirect(_order_page(order))
    try:
        filings = services.transfer_back_file(order=order, actor=request.user, ip_address=client_ip(request))
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("The transfer back was filed: %(refs)s.")
                         % {"refs": ", ".join(f"{f.get_office_display()} {f.reference or '-'}" for f in filings)})
    return redirect(_order_page(order))


def _filing_for_officer(request, pk) -> TransferFiling:
    _officer_only(request)
    filing = TransferFiling.objects.select_related("order", "order__listing", "order__seller_org",
                                                   "order__buyer_org").filter(pk=pk).first()
    if filing is None:
        raise Http404
    return filing


@login_required
def package(request, pk):
    from .offices.manual import package_zip

    filing = _filing_for_officer(request, pk)
    documents = selectors.current_documents(filing.order)
    cover = next((d for d in documents if d.kind == "cover"), None)
    body = package_zip(cover=cover.data if cover else {}, documents=[d for d in documents if d.kind != "cover"])
    response = HttpResponse(body, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filing.order.reference}-filing-package.zip"'
    return response


@login_required
@require_POST
def record_reference(request, pk):
    filing = _filing_for_officer(request, pk)
    try:
        services.transfer_record_reference(filing=filing, actor=request.user, reference=request.POST.get("reference", ""))
    except DomainError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Reference recorded: the order is filed with the office."))
    return redirect(_order_page(filing.order))


@login_required
def staff_queue(request):
    _officer_only(request)
    from django.db.models import Q
    from django.utils import timezone

    filings = (TransferFiling.objects.select_related("order", "order__listing")
               .filter(Q(status__in=[FilingStatus.PREPARING, FilingStatus.PACKAGE_READY, FilingStatus.FILED,
                                     FilingStatus.CORRECTION_REQUESTED])
                       | Q(status=FilingStatus.REJECTED, resolution=""))
               .exclude(order__state__in=["completed", "cancelled", "refunded"])
               .order_by("status", "order__filing_due", "pk")[:200])
    return render(request, "transfers/staff_queue.html", {"filings": filings, "now": timezone.now()})


@login_required
def staff_filing(request, pk):
    filing = _filing_for_officer(request, pk)
    order = filing.order
    notice_form, correction_form, refund_form = NoticeForm(), CorrectionForm(), RefundForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "notice":
                notice_form = NoticeForm(request.POST)
                if notice_form.is_valid():
                    data = notice_form.cleaned_data
                    services.transfer_record_notice(filing=filing, actor=request.user, kind=data["kind"],
                                                    number=data["number"], text=data["text"],
                                                    correction_due=data["correction_due"])
                    messages.success(request, _("Notice recorded."))
                    return redirect(_order_page(order))
            elif action == "correction":
                correction_form = CorrectionForm(request.POST)
                if correction_form.is_valid():
                    services.transfer_submit_correction(filing=filing, actor=request.user,
                                                        note=correction_form.cleaned_data["note"])
                    messages.success(request, _("Correction sent to the office."))
                    return redirect(_order_page(order))
            elif action == "refile":
                new = services.transfer_refile(order=order, actor=request.user, ip_address=client_ip(request))
                messages.success(request, _("Refiled, reference %(ref)s.") % {"ref": new.reference or "-"})
                return redirect(_order_page(order))
            elif action == "refund":
                refund_form = RefundForm(request.POST)
                if refund_form.is_valid():
                    services.transfer_refund(order=order, actor=request.user,
                                             reason=refund_form.cleaned_data["reason"])
                    messages.success(request, _("The buyer is being refunded."))
                    return redirect(_order_page(order))
        except DomainError as exc:
            _error(request, exc)
    return render(request, "transfers/staff_filing.html", {
        "filing": filing, "order": order, "notices": list(filing.notices.all()),
        "notice_form": notice_form, "correction_form": correction_form, "refund_form": refund_form,
        "order_page": _order_page(order),
    })
