from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .admin_site import TenantModelAdmin
from .models import AuditEvent, Notification, OutboxMessage, Tenant
from .permissions import Role


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin[Tenant]):
    list_display = ("name", "slug", "currency", "primary_host", "is_active")
    search_fields = ("name", "slug")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    has_view_permission = has_change_permission = has_add_permission = has_delete_permission = (
        lambda self, request, obj=None: request.user.is_superuser
    )


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

    list_display = ("created_at", "user", "kind", "subject", "read_at", "emailed_at")
    list_filter = ("kind",)
    search_fields = ("subject", "user__email")
    list_select_related = ("user",)
    fields = ("created_at", "user", "kind", "subject", "body", "url", "read_at", "emailed_at")
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
