"""The base of every partner API view.

- Authentication by API key (`PartnerKeyAuthentication`, the key model named by `API_KEY_MODEL`); the
  key's tenant is put in context right after authentication and reset when the request ends.
- Scopes (`HasScope`), per-key throttling, cursor pagination, problem details.
- `Idempotency-Key` on every POST: the first response is stored per API key and replayed for the
  same key and the same body; the same key with another body gets 422. The store is the module
  named by `settings.API_IDEMPOTENCY_STORE` (`fingerprint`, `idempotency_begin/finish/abandon`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.tenancy import tenant_context

from .authentication import PartnerKeyAuthentication
from .pagination import PartnerCursorPagination
from .permissions import HasScope
from .problems import problem
from .renderers import SafeJSONRenderer
from .throttling import PartnerKeyThrottle

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT_HEADERS = ("Location",)


def _canonical_body(request: Request) -> bytes:
    """The body as compared for idempotency: JSON canonicalised (key order and spacing do not
    matter), multipart as its fields and file digests (the boundary differs on every request)."""
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type.startswith("multipart/"):
        form: Any = request.data  # a QueryDict for multipart
        parts = []
        for name in sorted(form.keys()):
            for value in form.getlist(name):
                if hasattr(value, "read"):
                    value.seek(0)
                    digest = hashlib.sha256(value.read()).hexdigest()
                    value.seek(0)
                    parts.append([name, "file", getattr(value, "name", ""), digest])
                else:
                    parts.append([name, str(value)])
        return json.dumps(parts).encode()
    raw: bytes = request.body
    if content_type.endswith("json") and raw:
        try:
            return json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
        except ValueError:
            return raw
    return raw


def _store() -> Any:
    return importlib.import_module(settings.API_IDEMPOTENCY_STORE)


class PartnerAPIView(APIView):
    authentication_classes = [PartnerKeyAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [PartnerKeyThrottle]
    read_scope = "read"
    write_scope: str | None = None

    # --- who is calling ---------------------------------------------------------------------
    @property
    def api_key(self) -> Any:
        return self.request.auth

    @property
    def organization(self) -> Any:
        return self.request.auth.organization  # type: ignore[union-attr]  # the auth is the API key

    @property
    def actor(self) -> Any:
        return self.request.auth.service_user  # type: ignore[union-attr]  # the auth is the API key

    # --- tenant in context for the whole request ---------------------------------------------
    def perform_authentication(self, request: Request) -> None:
        request.user  # noqa: B018 (runs the authenticators)
        tenant = getattr(request.auth, "tenant", None)
        if tenant is not None:
            self._tenant_scope.enter_context(tenant_context(tenant))

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self._tenant_scope = contextlib.ExitStack()
        self._idempotency: Any = None
        with self._tenant_scope:
            try:
                response: Any = super().dispatch(request, *args, **kwargs)
            except BaseException:
                if self._idempotency is not None:  # a bug answered 500: free the key for a retry
                    _store().idempotency_abandon(record=self._idempotency)
                raise
            if hasattr(response, "render") and callable(response.render) and not response.is_rendered:
                response.render()  # serialise while the tenant is still in context
            return response

    # --- idempotency ---------------------------------------------------------------------------
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self._idempotency = None
        if request.method == "POST":
            self._idempotency_claim(request)

    def _idempotency_claim(self, request: Request) -> None:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return
        key = key.strip()
        if not key or len(key) > 255:
            raise exceptions.ValidationError({IDEMPOTENCY_HEADER: [_("Use 1 to 255 characters.")]})
        fp = _store().fingerprint(method=request.method, path=request.get_full_path(), body=_canonical_body(request))
        record, created = _store().idempotency_begin(api_key=self.api_key, key=key, method=request.method,
                                                     path=request.get_full_path(), fingerprint_=fp)
        if created:
            self._idempotency = record
            return
        if record.fingerprint != fp:
            raise _IdempotencyProblem(problem(
                status_code=422, code="idempotency_key_reused",
                detail=_("This Idempotency-Key was already used with another request; use a new key."),
                instance=request.path))
        if record.status_code is None:
            raise _IdempotencyProblem(problem(
                status_code=409, code="idempotency_in_progress",
                detail=_("A request with this Idempotency-Key is still being processed; retry shortly."),
                instance=request.path, headers={"Retry-After": "1"}))
        headers = {k: v for k, v in (record.response_headers or {}).items() if k != "Content-Type"}
        headers[REPLAYED_HEADER] = "true"
        content_type = (record.response_headers or {}).get("Content-Type")
        data = json.loads(record.response_body) if record.response_body else None
        raise _IdempotencyProblem(Response(data, status=record.status_code, headers=headers,
                                           content_type=content_type))

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _IdempotencyProblem):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(self, "_idempotency", None)
        if record is not None:
            self._idempotency = None
            if response.status_code >= 500 or not isinstance(response, Response):
                _store().idempotency_abandon(record=record)
            else:
                body = SafeJSONRenderer().render(response.data).decode() if response.data is not None else ""
                kept = {h: response[h] for h in KEPT_HEADERS if h in response}
                if response.content_type:
                    kept["Content-Type"] = response.content_type
                _store().idempotency_finish(record=record, status_code=response.status_code, body=body, headers=kept)
        return response

    # --- helpers for subclasses ------------------------------------------------------------------
    def paginate(self, queryset: QuerySet[Any], serializer_class: type[Any], *, ordering: str | None = None,
                 context: dict[str, Any] | None = None) -> Response:
        paginator = PartnerCursorPagination()
        if ordering:
            paginator.ordering = ordering
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer_class(page, many=True, context=context or {"request": self.request}).data
        return paginator.get_paginated_response(data)


class _IdempotencyProblem(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__("idempotency")
        self.response = response
