"""The staff back-office: each exchange's staff see and change only their own exchange's rows."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils.translation import gettext_lazy as _

from .permissions import Role, has_role, is_tenant_staff
from .tenancy import TenantOwned, tenant_context

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


class StaffAuthenticationForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user: Any) -> None:
        # The same words as a wrong password: the admin login is no oracle telling a right password of a
        # non-staff account apart from a wrong one.
        if not user.is_active or not (user.is_superuser or is_tenant_staff(user)):
            raise self.get_invalid_login_error()


class TenantAdminSite(admin.AdminSite):
    site_header = _("Exchange back-office")
    site_title = _("Back-office")
    index_title = _("Work queues")
    login_form = StaffAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and (user.is_superuser or is_tenant_staff(user))

    def admin_view(self, view: _View, cacheable: bool = False) -> _View:
        """A platform superuser sees every exchange's rows; when they open or act on a row of another
        exchange than the host's, the view runs in that row's exchange, so its services find it."""
        inner = super().admin_view(view, cacheable)
        model = getattr(getattr(inspect.unwrap(view), "__self__", None), "model", None)
        if model is None or not issubclass(model, TenantOwned):
            return inner

        @wraps(inner)
        def in_rows_tenant(request: Any, *args: Any, **kwargs: Any) -> Any:
            object_id = kwargs.get("object_id") or kwargs.get("pk")
            if object_id and request.user.is_active and request.user.is_superuser:
                try:
                    tenant_id = model.objects.unscoped().filter(pk=object_id).values_list("tenant_id", flat=True).first()
                except (ValueError, ValidationError):
                    tenant_id = None
                if tenant_id and tenant_id != getattr(request.tenant, "pk", None):
                    with tenant_context(tenant_id):
                        return inner(request, *args, **kwargs)
            return inner(request, *args, **kwargs)

        return cast("_View", in_rows_tenant)

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        if tenant:
            context["site_header"] = f"{tenant.display_name()} · {self.site_header}"
        return context


class TenantModelAdmin(admin.ModelAdmin[Any]):
    """Base of every admin of a tenant-owned model.

    Querysets come from the scoped default manager (the tenant of the host name); platform
    superusers see every tenant's rows. Which staff roles may view / change is declared per admin.
    """

    view_roles: tuple[str, ...] = (Role.TENANT_ADMIN,)
    change_roles: tuple[str, ...] = (Role.TENANT_ADMIN,)
    allow_add = False
    allow_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        if request.user.is_superuser:
            return cast("QuerySet[Any]", self.model.objects.unscoped())
        return super().get_queryset(request)

    def _may(self, request: HttpRequest, roles: Sequence[str]) -> bool:
        return request.user.is_superuser or has_role(request.user, Role.TENANT_ADMIN, *roles)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may(request, self.view_roles + self.change_roles)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, self.view_roles + self.change_roles)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request, self.change_roles)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.allow_add and self._may(request, self.change_roles)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allow_delete and self._may(request, self.change_roles)

    # The exchange of a row is never a form field: rows are created in the exchange of the host
    # (save_model) and can never be moved to another exchange through the admin.
    def get_exclude(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return tuple(super().get_exclude(request, obj) or ()) + ("tenant",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return [f for f in super().get_fields(request, obj) if f != "tenant" or f in self.readonly_fields]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list[tuple[Any, Any]]:
        fieldsets = super().get_fieldsets(request, obj)
        readonly = set(self.get_readonly_fields(request, obj))
        return [(name, {**opts, "fields": [f for f in opts["fields"] if f != "tenant" or f in readonly]})
                for name, opts in fieldsets]

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str) -> Any:
        # Another exchange's row (or no row) by id: a plain 404, never a hint that it exists elsewhere.
        raise Http404

    def save_model(self, request: Any, obj: Any, form: Form, change: bool) -> None:
        if not change and getattr(obj, "tenant_id", None) is None:
            obj.tenant = request.tenant
        super().save_model(request, obj, form, change)


class ReadOnlyInline(admin.TabularInline[Any, Any]):
    """Shown to whoever may view the parent (the parent admin already checked the staff role and tenant)."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
