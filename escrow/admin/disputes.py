"""The disputes queue: both sides' statements and evidence, and the staff's decision."""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin_site import ReadOnlyInline, TenantModelAdmin
from core.storage import private_file_response

from ..models import (
    Dispute,
    DisputeEvidence,
)
from .common import VIEW


class EvidenceInline(ReadOnlyInline):
    model = DisputeEvidence
    fields = ("open_link", "content_type", "uploaded_by", "uploaded_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return DisputeEvidence.objects.unscoped().select_related("uploaded_by")

    @admin.display(description=_("file"))
    def open_link(self, ev):
        url = reverse("admin:escrow_dispute_evidence", args=[ev.dispute_id, ev.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, ev)


@admin.register(Dispute)
class DisputeAdmin(TenantModelAdmin):
    """The disputes queue: open ones first; resolve from the order's page."""

    view_roles = VIEW
    change_roles = ()
    list_display = ("order_link", "party", "reason_short", "state", "outcome", "opened_at")
    list_filter = ("state", "outcome", "party")
    search_fields = ("order__reference", "reason")
    list_select_related = ("order",)
    inlines = [EvidenceInline]
    readonly_fields = ("order", "opened_by", "party", "reason", "state", "outcome", "resolution_note", "resolved_by",
                       "opened_at", "resolved_at")

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-state", "opened_at")  # "open" sorts after "resolved"

    @admin.display(description=_("order"))
    def order_link(self, d):
        return format_html('<a href="{}">{}</a>', reverse("admin:escrow_order_change", args=[d.order_id]), d.order)

    @admin.display(description=_("reason"))
    def reason_short(self, d):
        return (d.reason[:80] + "…") if len(d.reason) > 80 else d.reason

    def get_urls(self):
        return [path("<int:pk>/evidence/<int:ev>/", self.admin_site.admin_view(self.evidence_view),
                     name="escrow_dispute_evidence")] + super().get_urls()

    def evidence_view(self, request, pk, ev):
        if not self.has_view_permission(request):
            raise Http404
        dispute = get_object_or_404(self.get_queryset(request), pk=pk)
        item = get_object_or_404(DisputeEvidence.objects.unscoped().filter(dispute=dispute), pk=ev)
        try:
            return private_file_response(item.file, content_type=item.content_type)
        except FileNotFoundError:
            raise Http404 from None
