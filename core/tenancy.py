"""Tenancy: one mechanism for every tenant-owned row.

- `current_tenant` is a context variable. TenantMiddleware sets it from the host name, the API
  authentication from the key, a task from its `tenant_id` argument (`tenant_context`), always
  reset in `finally`.
- `TenantOwned` models get `tenant` and a default manager that fails closed: with no tenant in
  context, querying raises `TenantNotSet` instead of returning every tenant's rows. The escape
  hatch is explicit and greppable: `Model.objects.unscoped()`.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.db import models
from django.http import HttpResponseBadRequest, HttpResponseNotFound
from django.template.loader import render_to_string

from .errors import TenantNotSet

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponseBase

    from .models import Tenant

_current_tenant: contextvars.ContextVar[Tenant | None] = contextvars.ContextVar("current_tenant", default=None)


def get_current_tenant() -> Tenant | None:
    return _current_tenant.get()


def require_tenant() -> Tenant:
    tenant = _current_tenant.get()
    if tenant is None:
        raise TenantNotSet("No tenant in context: use tenant_context(tenant) or .unscoped() explicitly.")
    return tenant


@contextlib.contextmanager
def tenant_context(tenant: Tenant | int | None) -> Iterator[Tenant]:
    """Run a block as `tenant` (a Tenant or its id). Used by tasks, commands and tests."""
    if tenant is not None and not hasattr(tenant, "pk"):
        from .models import Tenant

        tenant = Tenant.objects.get(pk=tenant)
    token = _current_tenant.set(cast("Tenant | None", tenant))
    try:
        yield cast("Tenant", tenant)
    finally:
        _current_tenant.reset(token)


_M = TypeVar("_M", bound=models.Model)


class TenantQuerySet(models.QuerySet[_M]):
    pass


_TenantManagerBase = models.Manager.from_queryset(TenantQuerySet)


class TenantManager(_TenantManagerBase[_M]):
    """Default manager of tenant-owned models: always filtered to the tenant in context."""

    def get_queryset(self) -> TenantQuerySet[_M]:
        return cast("TenantQuerySet[_M]", super().get_queryset().filter(tenant=require_tenant()))

    def unscoped(self) -> TenantQuerySet[_M]:
        """All tenants' rows. Only for platform-wide selectors, commands and superusers."""
        return cast("TenantQuerySet[_M]", super().get_queryset())

    def create(self, **kwargs: Any) -> _M:
        kwargs.setdefault("tenant", require_tenant())
        return super().create(**kwargs)


class TenantOwned(models.Model):
    tenant = models.ForeignKey("marketplace.Tenant", on_delete=models.PROTECT, related_name="+")

    objects = TenantManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.tenant_id is None:
            self.tenant = require_tenant()
        super().save(*args, **kwargs)


def host_of(request: HttpRequest) -> str:
    return str(request.get_host()).split(":")[0].lower().rstrip(".")


HEALTH_PATHS = frozenset({"/healthz", "/healthz/"})


class TenantMiddleware:
    """Resolves the tenant from the host name; an unknown host gets a plain 404 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        from .models import Tenant

        nul = "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", "")
        if nul and not request.path.startswith("/api/"):  # the API answers these with problem details itself
            # PostgreSQL refuses NUL in text: answer 400 here rather than a 500 deep in a query.
            return HttpResponseBadRequest("NUL characters are not accepted in addresses.")
        if request.path in HEALTH_PATHS:  # answers without a tenant: no query before its own check
            request.tenant = None  # type: ignore[attr-defined]
            return self.get_response(request)
        host = host_of(request)
        tenant = Tenant.for_host(host)
        request.tenant = tenant  # type: ignore[attr-defined]  # set by this middleware for views
        if tenant is None:
            html = render_to_string("unknown_host.html", {"host": host})
            return HttpResponseNotFound(html)
        token = _current_tenant.set(tenant)
        try:
            return self.get_response(request)
        finally:
            _current_tenant.reset(token)
