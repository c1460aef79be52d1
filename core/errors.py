"""The one hierarchy of domain errors. Services raise these; one DRF exception handler and one
view helper turn them into problem details or form messages. Services never import DRF."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Something the user asked for cannot be done; `message` is shown to them as is."""

    status = 400
    code = "invalid"

    def __init__(self, message: Any, *, code: str | None = None, field_errors: dict[str, Any] | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.field_errors = field_errors or {}


class ValidationFailed(DomainError):
    code = "validation_failed"


class NotAllowed(DomainError):
    """The actor may not do this (wrong party, wrong role, wrong tenant)."""

    status = 403
    code = "not_allowed"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class InvalidTransition(DomainError):
    """The object is not in a state where this action is possible (anymore)."""

    status = 409
    code = "invalid_state"


class Conflict(DomainError):
    """Someone else got there first (a race), or the request clashes with stored data."""

    status = 409
    code = "conflict"


class GatewayError(DomainError):
    """An outside system (payment provider, office, register) failed or refused."""

    status = 502
    code = "gateway_error"


class TenantNotSet(RuntimeError):
    """A tenant-owned table was queried with no tenant in context: fail closed, never all rows."""
