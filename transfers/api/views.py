"""Transfer papers in the partner API: the order's papers and office notices, download, signing.
Views only call transfers selectors and services."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, serializers
from rest_framework.response import Response

from accounts.selectors import acting_member
from core.api.base import PartnerAPIView
from core.errors import ValidationFailed
from core.storage import private_file_response
from escrow.selectors import order_for_viewer
from partners.models import Scope
from transfers import selectors, services
from transfers.models import RETURN_KINDS, SIGNED_KINDS, TransferDocument

from .serializers import DocumentSerializer, TransferSerializer

TRANSFERS = ["transfer papers"]


def order_for_key(view, reference):
    """The order if the key's organization is its buyer or seller; 404 otherwise (existence is private)."""
    order, role = order_for_viewer(view.actor, reference)
    if role not in ("buyer", "seller"):
        raise Http404
    return order, role


def _document_data(order, document) -> dict:
    return {
        "id": document.pk, "kind": document.kind, "direction": "back" if document.is_return else "forward",
        "label": str(document.get_kind_display()),
        "version": document.version, "sha256": document.sha256, "needs_signatures": document.needs_signatures,
        "signatures": [{"party": s.party, "typed_name": s.typed_name, "signed_at": s.signed_at}
                       for s in document.signatures.all()],
        "download_url": f"/api/v1/orders/{order.reference}/documents/{document.pk}/file",
        "created_at": document.created_at,
    }


def transfer_back_summary(order) -> dict | None:
    """The transfer back to the seller (a refund after the office recorded the buyer), or None."""
    filings = selectors.return_filings(order)
    if not filings:
        return None
    documents = selectors.current_documents(order, kinds=RETURN_KINDS)
    missing = selectors.missing_signatures(order, documents)
    deadline = selectors.return_sign_deadline(order, documents[0] if documents else None)
    return {
        "filings": [{"office": f.office, "status": f.status, "attempt": f.attempt, "office_reference": f.reference,
                     "filed_at": f.filed_at, "notice_number": f.notice_number,
                     "notice_received_at": f.notice_received_at, "rejection_reason": f.rejection_reason,
                     "correction_text": f.correction_text} for f in filings],
        "documents": [_document_data(order, d) for d in documents],
        "signatures_missing": {str(party): [d.pk for d in docs] for party, docs in missing.items()},
        "sign_due": deadline.due if deadline is not None and deadline.phase != "signed" else None,
    }


def transfer_summary(order) -> dict | None:
    """The transfer status of an order for the order's API representation (with the transfer back,
    when there is one)."""
    filing = selectors.current_filing(order)
    documents = selectors.current_documents(order)
    if filing is None and not documents:
        return None
    missing = selectors.missing_signatures(order, [d for d in documents if d.kind in SIGNED_KINDS])
    notices = list(filing.notices.all().order_by("received_at", "id")) if filing is not None else []
    return {
        "status": filing.status if filing else "",
        "office": filing.office if filing else "",
        "office_reference": filing.reference if filing else "",
        "filed_at": filing.filed_at if filing else None,
        "notice_number": filing.notice_number if filing else "",
        "notice_received_at": filing.notice_received_at if filing else None,
        "rejection_reason": filing.rejection_reason if filing else "",
        "correction_text": filing.correction_text if filing else "",
        "documents": [_document_data(order, d) for d in documents],
        "notices": [{"kind": n.kind, "number": n.number, "text": n.text, "received_at": n.received_at,
                     "document_id": n.document_id} for n in notices],
        "signatures_missing": {str(party): [d.pk for d in docs] for party, docs in missing.items()},
        "transfer_back": transfer_back_summary(order),
    }


def _document_for(view, reference, pk) -> tuple:
    order, role = order_for_key(view, reference)
    document = TransferDocument.objects.filter(pk=pk, order=order).first()
    if document is None:
        raise Http404
    return order, role, document


DIRECTIONS = ("forward", "back")


class OrderDocumentListApi(PartnerAPIView):
    @extend_schema(operation_id="orders_documents_list", tags=TRANSFERS, responses=DocumentSerializer(many=True),
                   summary="The order's current papers and office notices",
                   description="Forward papers (the transfer to the buyer) first, then the assignment back to the "
                               "seller when a refund of a recorded transfer is under way.",
                   parameters=[OpenApiParameter("direction", str, enum=["forward", "back"], required=False,
                                                description="Only the forward papers, or only the assignment back")])
    def get(self, request, reference):
        order, _role = order_for_key(self, reference)
        direction = request.query_params.get("direction", "")
        if direction and direction not in DIRECTIONS:
            raise ValidationFailed("Unknown direction: use forward or back.",
                                   field_errors={"direction": ["Use forward or back."]})
        documents = []
        if direction in ("", "forward"):
            documents += selectors.current_documents(order)
        if direction in ("", "back"):
            documents += selectors.current_documents(order, kinds=RETURN_KINDS)
        return Response(DocumentSerializer([_document_data(order, d) for d in documents], many=True).data)


class OrderDocumentFileApi(PartnerAPIView):
    @extend_schema(operation_id="orders_documents_download", tags=TRANSFERS,
                   responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF")},
                   summary="Download a paper or notice (PDF)")
    def get(self, request, reference, pk):
        order, _role, document = _document_for(self, reference, pk)
        return private_file_response(document.file, content_type="application/pdf", as_attachment=True,
                                     filename=f"{order.reference}-{document.filename}", redirect=False)


class OrderDocumentSignApi(PartnerAPIView):
    write_scope = Scope.ORDERS

    class InputSerializer(serializers.Serializer):
        typed_name = serializers.CharField(max_length=150, help_text="Full name of the person signing for your side")
        signer_email = serializers.EmailField(help_text="The member of your organization who signs (their profile "
                                                        "name must match typed_name)")
        consent = serializers.BooleanField(help_text="The signer read the paper and signs it")
        sha256 = serializers.RegexField(r"^[0-9a-f]{64}$", required=False,
                                        help_text="SHA-256 of the PDF the signer read; refused if it changed since")

    @extend_schema(operation_id="orders_documents_sign", tags=TRANSFERS, request=InputSerializer,
                   responses=DocumentSerializer, summary="Sign a transfer paper for your side",
                   examples=[OpenApiExample("Sign", request_only=True, value={
                       "typed_name": "Chen Jing", "signer_email": "chen.jing@example.edu.cn", "consent": True,
                       "sha256": "9f2b5c0e1c4d0f3a5e7b9c1d3f5a7b9c1d3f5a7b9c1d3f5a7b9c1d3f5a7b9c1d"})])
    def post(self, request, reference, pk):
        order, _role, document = _document_for(self, reference, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signer = acting_member(organization=self.organization, actor=self.actor, email=data.validated_data["signer_email"])
        services.document_sign(document=document, user=signer, typed_name=data.validated_data["typed_name"],
                               consent=data.validated_data["consent"], ip_address=request.META.get("REMOTE_ADDR"),
                               user_agent=request.headers.get("User-Agent", ""),
                               shown_sha256=data.validated_data.get("sha256", ""))
        document = TransferDocument.objects.prefetch_related("signatures").get(pk=document.pk)
        return Response(DocumentSerializer(_document_data(order, document)).data)


class OrderDocumentsSignAllApi(PartnerAPIView):
    """Sign every current paper still awaiting your side's signature in one step: one typed name (the
    signer's profile name), one consent; each paper's SHA-256 is recorded. All or nothing. While a
    transfer back is under way (order `return_pending`) this signs the assignment back."""

    write_scope = Scope.ORDERS

    class InputSerializer(serializers.Serializer):
        typed_name = serializers.CharField(max_length=150, help_text="The signer's full name, as in their profile")
        signer_email = serializers.EmailField(help_text="The member of your organization who signs")
        consent = serializers.BooleanField(help_text="The signer read every paper and signs them")
        sha256 = serializers.DictField(
            child=serializers.RegexField(r"^[0-9a-f]{64}$"), required=False,
            help_text="Paper kind → SHA-256 of the PDF the signer read; nothing is signed if one changed since")

    @extend_schema(operation_id="orders_documents_sign_all", tags=TRANSFERS, request=InputSerializer,
                   responses=DocumentSerializer(many=True), summary="Sign all transfer papers for your side at once",
                   examples=[OpenApiExample("Sign all", request_only=True,
                                            value={"typed_name": "Chen Jing", "signer_email": "chen.jing@example.edu.cn",
                                                   "consent": True})])
    def post(self, request, reference):
        order, _role = order_for_key(self, reference)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signer = acting_member(organization=self.organization, actor=self.actor, email=data.validated_data["signer_email"])
        services.documents_sign_all(order=order, user=signer, typed_name=data.validated_data["typed_name"],
                                    consent=data.validated_data["consent"], ip_address=request.META.get("REMOTE_ADDR"),
                                    user_agent=request.headers.get("User-Agent", ""),
                                    shown_sha256=data.validated_data.get("sha256") or {})
        order.refresh_from_db()
        kinds = RETURN_KINDS if selectors.return_filings(order) else SIGNED_KINDS
        documents = selectors.current_documents(order, kinds=kinds)
        return Response(DocumentSerializer([_document_data(order, d) for d in documents], many=True).data)


class OrderExportCertificateApi(PartnerAPIView):
    """Seller: upload the technology-export contract registration certificate (PDF or image), needed
    before filing when a Chinese patent goes to a foreign buyer."""

    write_scope = Scope.ORDERS
    parser_classes = [parsers.MultiPartParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()

    @extend_schema(operation_id="orders_export_certificate", tags=TRANSFERS,
                   request={"multipart/form-data": InputSerializer}, responses=TransferSerializer,
                   summary="Seller: upload the export contract registration certificate")
    def post(self, request, reference):
        order, _role = order_for_key(self, reference)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.export_certificate_upload(order=order, user=self.actor, file=data.validated_data["file"])
        return Response(TransferSerializer(transfer_summary(order)).data)
