from typing import Any

from django.utils.translation import gettext as _
from rest_framework import permissions


class HasScope(permissions.BasePermission):
    """Reads need the `read` scope; writes the view's `write_scope` (listings, orders or webhooks)."""

    message = ""

    def has_permission(self, request: Any, view: Any) -> bool:
        key = request.auth
        if not callable(getattr(key, "has_scope", None)):  # not an API key (no key, or a session)
            return False
        if request.method in permissions.SAFE_METHODS:
            scope = getattr(view, "read_scope", "read")
        else:
            scope = getattr(view, "write_scope", None)
        if scope is None or key.has_scope(scope):
            return True
        self.message = _("This API key lacks the '%(scope)s' scope.") % {"scope": scope}
        return False
