import re
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .admin_site import TenantModelAdmin
from .audit import audit_record
from .models import AuditEvent, Notification, OutboxMessage, Tenant
from .permissions import Role, has_role
from .uploads import IMAGES, validate_upload

HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


class TenantForm(forms.ModelForm[Tenant]):
    class Meta:
        model = Tenant
        fields = ("name", "name_en", "tagline", "tagline_en", "logo_upload", "logo", "primary_color", "accent_color",
                  "support_email", "buyer_fee_bps", "seller_commission_bps", "min_fee_minor", "margin_bps",
                  "margin_fixed_minor", "verified_buyer_above_minor", "seller_confirm_days", "buyer_pay_days", "sign_and_file_days",
                  "buyer_inspect_days", "slug", "hosts", "is_active", "currency", "languages", "default_language",
                  "country")

    def clean_logo_upload(self) -> Any:
        logo = self.cleaned_data.get("logo_upload")
        if logo and hasattr(logo, "content_type"):  # a new upload: checked by content, not by name
            validate_upload(logo, allowed=IMAGES, max_bytes=2 * 1024 * 1024)
        return logo

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        for field in ("primary_color", "accent_color"):
            value = data.get(field) or ""
            if value and not HEX_COLOUR.fullmatch(value):
                self.add_error(field, _("Write the colour as #RRGGBB, e.g. #1d4ed8."))
        return data


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin[Tenant]):
    """Platform superusers manage every exchange; an exchange's administrators edit their own exchange
    (names, branding, fee schedule, margin rule, deadlines), never its host names or who runs it.
    Every change is audited with the fields it changed."""

    form = TenantForm
    list_display = ("name", "slug", "currency", "primary_host", "is_active")
    search_fields = ("name", "slug")
    PLATFORM_ONLY = ("slug", "hosts", "is_active", "currency", "languages", "default_language", "country")
    fieldsets = [
        (_("Names and branding"), {"fields": ("name", "name_en", "tagline", "tagline_en", "logo_upload", "logo",
                                              "primary_color", "accent_color", "support_email")}),
        (_("Fee schedule"), {"fields": ("buyer_fee_bps", "seller_commission_bps", "min_fee_minor")}),
        (_("Seller margin"), {"fields": ("margin_bps", "margin_fixed_minor")}),
        (_("Who may buy"), {"fields": ("verified_buyer_above_minor",)}),
        (_("Deadlines of the trade (days)"), {"fields": ("seller_confirm_days", "buyer_pay_days",
                                                         "sign_and_file_days", "buyer_inspect_days")}),
        (_("Platform"), {"fields": PLATFORM_ONLY}),
    ]

    def _own(self, request: HttpRequest, obj: Tenant | None) -> bool:
        tenant = getattr(request, "tenant", None)
        return (tenant is not None and has_role(request.user, Role.TENANT_ADMIN)
                and (obj is None or obj.pk == tenant.pk))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        tenant = getattr(request, "tenant", None)
        return qs.filter(pk=tenant.pk) if tenant is not None else qs.none()

    def get_readonly_fields(self, request: HttpRequest, obj: Tenant | None = None) -> tuple[str, ...]:
        return () if request.user.is_superuser else self.PLATFORM_ONLY

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser) or self._own(request, None)

    def has_view_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        return bool(request.user.is_superuser) or self._own(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        return self.has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Tenant | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Tenant, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        Tenant.clear_host_cache()
        if change and form.changed_data:
            audit_record(actor=request.user, action="tenant.settings_changed", obj=obj, tenant=obj,
                         data={f: str(form.cleaned_data.get(f)) for f in form.changed_data})


@admin.register(AuditEvent)
class AuditEventAdmin(TenantModelAdmin):
    view_roles = (Role.VERIFIER, Role.ESCROW_OFFICER, Role.FINANCE)
    change_roles = ()
    list_display = ("created_at", "actor_label", "action", "object_type", "object_id", "from_state", "to_state")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "actor_label", "reason")
    date_hierarchy = "created_at"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(TenantModelAdmin):
    """What people were told, read-only: staff look up whether and when someone was notified."""

    list_display = ("created_at", "user", "kind", "subject", "read_at", "emailed_at", "email_failed_at")
    list_filter = ("kind", ("email_failed_at", admin.EmptyFieldListFilter))
    search_fields = ("subject", "user__email")
    list_select_related = ("user",)
    fields = ("created_at", "user", "kind", "subject", "body", "url", "read_at", "emailed_at", "email_attempts",
              "email_error", "email_failed_at")
    readonly_fields = fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin[OutboxMessage]):
    list_display = ("created_at", "task_name", "sent_at", "attempts", "last_error")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Django asks with the row too (the change view); the old alias of has_module_permission
        # took no `obj` and raised TypeError there.
        return request.user.is_superuser
