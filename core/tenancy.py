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

from django.db import models
from django.http import HttpResponseBadRequest, HttpResponseNotFound
from django.template.loader import render_to_string

from .errors import TenantNotSet

_current_tenant: contextvars.ContextVar = contextvars.ContextVar("current_tenant", default=None)


def get_current_tenant():
    return _current_tenant.get()


def require_tenant():
    tenant = _current_tenant.get()
    if tenant is None:
        raise TenantNotSet("No tenant in context: use tenant_context(tenant) or .unscoped() explicitly.")
    return tenant


@contextlib.contextmanager
def tenant_context(tenant):
    """Run a block as `tenant` (a Tenant or its id). Used by tasks, commands and tests."""
    if tenant is not None and not hasattr(tenant, "pk"):
        from .models import Tenant

        tenant = Tenant.objects.get(pk=tenant)
    token = _current_tenant.set(tenant)
    try:
        yield tenant
    finally:
        _current_tenant.reset(token)


class TenantQuerySet(models.QuerySet):
    pass


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Default manager of tenant-owned models: always filtered to the tenant in context."""

    def get_queryset(self):
        return super().get_queryset().filter(tenant=require_tenant())

    def unscoped(self):
        """All tenants' rows. Only for platform-wide selectors, commands and superusers."""
        return super().get_queryset()

    def create(self, **kwargs):
        kwargs.setdefault("tenant", require_tenant())
        return super().create(**kwargs)


class TenantOwned(models.Model):
    tenant = models.ForeignKey("marketplace.Tenant", on_delete=models.PROTECT, related_name="+")

    objects = TenantManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.tenant_id is None:
            self.tenant = require_tenant()
        super().save(*args, **kwargs)


def host_of(request) -> str:
    return request.get_host().split(":")[0].lower().rstrip(".")


class TenantMiddleware:
    """Resolves the tenant from the host name; an unknown host gets a plain 404 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .models import Tenant

        nul = "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", "")
        if nul and not request.path.startswith("/api/"):  # the API answers these with problem details itself
            # PostgreSQL refuses NUL in text: answer 400 here rather than a 500 deep in a query.
            return HttpResponseBadRequest("NUL characters are not accepted in addresses.")
        host = host_of(request)
        tenant = Tenant.for_host(host)
        request.tenant = tenant
        if tenant is None and not request.path.startswith("/healthz"):
            html = render_to_string("unknown_host.html", {"host": host})
            return HttpResponseNotFound(html)
        token = _current_tenant.set(tenant)
        try:
            return self.get_response(request)
        finally:
            _current_tenant.reset(token)
