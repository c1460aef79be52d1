"""Back-office for transfers: filings by status and office, what needs attention (overdue answers,
signing deadline passed, corrections, rejections awaiting a choice), papers and signatures, the
office's notices. Buttons call the same services as the website."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from core.admin_site import ReadOnlyInline, TenantModelAdmin
from core.errors import DomainError

from . import services
from .models import (
    FilingStatus,
    OfficeNotice,
    Signature,
    SimulatedOfficeCase,
    TransferDocument,
    TransferFiling,
)


class AttentionFilter(admin.SimpleListFilter):
    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Office answer overdue")),
            ("stuck", _("Signing and filing deadline passed")),
            ("inspection", _("Buyer confirmation overdue")),
            ("correction", _("Correction requested")),
            ("rejected", _("Rejected: refile or refund")),
            ("package", _("Package ready: record the reference")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        value = self.value()
        if value == "overdue":
            return queryset.filter(status__in=[FilingStatus.FILED, FilingStatus.PACKAGE_READY],
                                   expected_answer_at__lt=now)
        if value == "stuck":
            return queryset.filter(status__in=[FilingStatus.PREPARING, FilingStatus.PACKAGE_READY],
                                   order__state="funded", order__filing_due__lt=now)
        if value == "inspection":
            return queryset.filter(order__state="transfer_approved", order__inspection_due__lt=now)
        if value == "correction":
            return queryset.filter(status=FilingStatus.CORRECTION_REQUESTED)
        if value == "rejected":
            return queryset.filter(status=FilingStatus.REJECTED, resolution="", order__state="transfer_rejected")
        if value == "package":
            return queryset.filter(status=FilingStatus.PACKAGE_READY)
        return queryset


class NoticeInline(ReadOnlyInline):
    model = OfficeNotice
    fields = ("kind", "number", "text", "issued_at", "received_at", "recorded_by")
    readonly_fields = fields

    def get_queryset(self, request):
        return OfficeNotice.objects.unscoped().select_related("recorded_by")


@admin.register(TransferFiling)
class TransferFilingAdmin(TenantModelAdmin):
    view_roles = (Role.ESCROW_OFFICER, Role.FINANCE)
    change_roles = (Role.ESCROW_OFFICER,)
    list_display = ("order_link", "kind", "attempt", "office", "status_badge", "reference", "filed_at", "answer_due",
                    "poll_attempts", "late_recordation")
    list_filter = (AttentionFilter, "kind", "status", "office", "adapter", "late_recordation")
    search_fields = ("reference", "order__reference", "notice_number")
    list_select_related = ("order",)
    ordering = ("-updated_at",)
    inlines = [NoticeInline]
    actions = ["file_selected", "refile_selected"]
    fields = ("order", "kind", "attempt", "office", "adapter", "status", "reference", "filed_at", "filed_by", "executed_on",
              "late_recordation", "expected_answer_at", "next_poll_at", "poll_attempts", "last_polled_at",
              "last_error", "notice_number", "notice_text", "notice_received_at", "correction_text",
              "correction_due", "rejection_reason", "resolution", "export_certificate", "staff_actions")
    readonly_fields = fields

    @admin.display(description=_("order"), ordering="order__reference")
    def order_link(self, filing):
        anchor = "transfer-back" if filing.kind == "return" else "transfer"
        return format_html('<a href="{}#{}">{}</a>', filing.order.get_absolute_url(), anchor, filing.order.reference)

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, filing):
        return filing.get_status_display()

    @admin.display(description=_("answer due"), ordering="expected_answer_at")
    def answer_due(self, filing):
        if filing.status == FilingStatus.CORRECTION_REQUESTED:
            return filing.correction_due
        due = filing.expected_answer_at
        if due and filing.is_open and due < timezone.now():
            return format_html('<strong style="color:#b91c1c">{} ({})</strong>', due.strftime("%Y-%m-%d"),
                               gettext("overdue"))
        return due

    @admin.display(description=_("actions"))
    def staff_actions(self, filing):
        if not filing.pk:
            return "-"
        return format_html('<a class="button" href="{}">{}</a>', reverse("transfers:staff_filing", args=[filing.pk]),
                           gettext("Record reference or notice, send a correction, refile or refund"))

    @admin.action(description=_("File the selected transfers with the office"))
    def file_selected(self, request, queryset):
        done = 0
        for filing in queryset.select_related("order").order_by("pk"):
            try:
                services.transfer_file(order=filing.order, actor=request.user,
                                       ip_address=request.META.get("REMOTE_ADDR"))
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{filing.order.reference}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, gettext("%(n)d transfers filed.") % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Refile the selected rejected transfers"))
    def refile_selected(self, request, queryset):
        done = 0
        for filing in queryset.filter(status=FilingStatus.REJECTED).select_related("order").order_by("pk"):
            try:
                services.transfer_refile(order=filing.order, actor=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{filing.order.reference}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, gettext("%(n)d transfers refiled.") % {"n": done}, messages.SUCCESS)


class SignatureInline(ReadOnlyInline):
    model = Signature
    fields = ("party", "typed_name", "user", "signed_at", "ip_address", "document_sha256")
    readonly_fields = fields

    def get_queryset(self, request):
        return Signature.objects.unscoped().select_related("user")


@admin.register(TransferDocument)
class TransferDocumentAdmin(TenantModelAdmin):
    view_roles = (Role.ESCROW_OFFICER, Role.FINANCE)
    change_roles = ()
    list_display = ("order", "kind", "version", "superseded", "sha256", "created_at")
    list_filter = ("kind", "superseded")
    search_fields = ("order__reference", "sha256")
    list_select_related = ("order",)
    inlines = [SignatureInline]
    fields = ("order", "filing", "kind", "version", "file", "sha256", "size", "superseded", "data", "created_at")
    readonly_fields = fields


@admin.register(SimulatedOfficeCase)
class SimulatedOfficeCaseAdmin(admin.ModelAdmin):
    """The embedded office's own register (platform operators only)."""

    list_display = ("reference", "office", "outcome", "received_at", "decide_at", "corrections_asked", "resubmitted_at")
    list_filter = ("office", "outcome")
    search_fields = ("reference",)

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser


__all__ = ["TransferFilingAdmin", "TransferDocumentAdmin"]
