"""Every API error as problem details (RFC 9457), `application/problem+json`:

    {"type": "urn:ipex:problem:validation_failed", "title": "Invalid input", "status": 400,
     "detail": "...", "instance": "/api/v1/listings", "code": "validation_failed",
     "errors": {"price_minor": ["A valid integer is required."], "rights.0.number": ["..."]}}

One handler maps DRF exceptions, Django's Http404 / PermissionDenied / ValidationError and the
domain errors of `core.errors` (their status, code, message and field errors).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core.errors import DomainError

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"


class ProblemJSONRenderer(JSONRenderer):  # for clients that only Accept problem+json
    media_type = PROBLEM_CONTENT_TYPE


def _titles() -> dict[int, _StrOrPromise]:
    return {
        400: _("Invalid input"),
        401: _("Not authenticated"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Method not allowed"),
        406: _("Not acceptable"),
        409: _("Conflict"),
        413: _("Request too large"),
        415: _("Unsupported media type"),
        422: _("Unprocessable request"),
        429: _("Too many requests"),
        502: _("An outside system failed"),
    }


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error structure as {"field.sub.0.name": ["message", ...]}; "_" for non-field errors."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "_" if key in ("non_field_errors", "__all__") else str(key)
            path = f"{prefix}.{name}" if prefix and name != "_" else (prefix or name)
            for k, v in flatten_errors(value, path).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out.setdefault(prefix or "_", []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                if not item:
                    continue
                for k, v in flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)).items():
                    out.setdefault(k, []).extend(v)
    elif detail is not None:
        out.setdefault(prefix or "_", []).append(str(detail))
    return out


def problem(*, status_code: int, code: str, detail: Any, errors: dict[str, list[str]] | None = None, instance: str = "",
            title: Any = None, extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:ipex:problem:{code}",
        "title": str(title or _titles().get(status_code, _("Error"))),
        "status": status_code,
        "detail": str(detail),
        "instance": instance,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def _code_of(detail: Any, default: str) -> str:
    if isinstance(detail, exceptions.ErrorDetail):
        return detail.code or default
    return default


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    request = context.get("request")
    instance = request.path if request is not None else ""
    headers: dict[str, str] = {}

    if isinstance(exc, DomainError):
        errors = {("_" if k in ("__all__", "non_field_errors") else k): [str(m) for m in (v if isinstance(v, list | tuple) else [v])]
                  for k, v in (exc.field_errors or {}).items()}
        row_errors = getattr(exc, "row_errors", None)  # bulk imports attach their rows' errors
        return problem(status_code=exc.status, code=exc.code, detail=exc.message, errors=errors, instance=instance,
                       extra={"row_errors": row_errors} if row_errors else None)

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"_": exc.messages}
        return problem(status_code=400, code="invalid", detail=_("Some fields are not valid."),
                       errors=flatten_errors(messages), instance=instance)

    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: let Django answer 500 and log it

    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if wait is not None:
        headers["Retry-After"] = str(max(1, int(wait + 0.999)))

    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        only = errors.get("_")
        message = only[0] if only and len(errors) == 1 else _("Some fields are not valid.")
        return problem(status_code=exc.status_code, code="invalid", detail=message, errors=errors, instance=instance,
                       headers=headers)

    detail: Any = exc.detail
    code = _code_of(detail, exc.default_code)
    extra: dict[str, Any] = {}
    if isinstance(exc, exceptions.Throttled):
        code = "throttled"
        extra["retry_after"] = int(headers.get("Retry-After", "1"))
        detail = _("Too many requests for this API key; retry in %(s)d seconds.") % {"s": extra["retry_after"]}
    if isinstance(detail, dict | list):
        return problem(status_code=exc.status_code, code=code, detail=_("The request was refused."),
                       errors=flatten_errors(detail), instance=instance, headers=headers)
    return problem(status_code=exc.status_code, code=code, detail=str(detail), instance=instance,
                   headers=headers, extra=extra)


def not_found_response(request: HttpRequest) -> Response:
    return problem(status_code=status.HTTP_404_NOT_FOUND, code="not_found", detail=_("Not found."),
                   instance=request.path)
