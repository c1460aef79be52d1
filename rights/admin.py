"""Back-office for the rights register."""

from django.contrib import admin

from core.permissions import Role, has_role

from .models import RegisterRecord


@admin.register(RegisterRecord)
class RegisterRecordAdmin(admin.ModelAdmin):
    """The embedded register: readable by the exchanges' verifiers and administrators; changed only by
    platform superusers (or `manage.py import_register`)."""

    list_display = ("number", "jurisdiction", "kind", "title", "owner_name", "legal_status", "expiry_date")
    list_filter = ("jurisdiction", "kind", "legal_status")
    search_fields = ("number", "application_number", "publication_number", "title", "owner_name")
    readonly_fields = ("keys", "updated_at")
    ordering = ("jurisdiction", "number")

    def _staff(self, request):
        return request.user.is_superuser or has_role(request.user, Role.TENANT_ADMIN, Role.VERIFIER)

    def has_module_permission(self, request):
        return self._staff(request)

    def has_view_permission(self, request, obj=None):
        return self._staff(request)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
