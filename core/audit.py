from typing import Any

from django.db import models

from .models import AuditEvent


def audit_record(*, actor: Any = None, actor_label: str = "", action: str, obj: models.Model, from_state: str | None = "",
                 to_state: str | None = "", reason: Any = "", data: dict[str, Any] | None = None,
                 ip_address: str | None = None, tenant: Any = None) -> AuditEvent:
    """Write one audit row for `obj` (any model with a pk; its tenant is used when it has one)."""
    tenant = tenant or getattr(obj, "tenant", None)
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        tenant=tenant,
        actor=actor,
        actor_label=actor_label or (actor.email if actor else "system"),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        from_state=from_state or "",
        to_state=to_state or "",
        reason=reason or "",
        data=data or {},
        ip_address=ip_address,
    )


def audit_trail(obj: models.Model) -> models.QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).select_related("actor")
