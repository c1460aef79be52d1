"""Tell people what happened: an in-app notification now, an email in their language after commit.

Callers pass lazy strings (gettext_lazy) and params, so each recipient reads them in their own
language: `notify(users=[buyer], kind="order.paid", subject=_("Order %(ref)s is paid"),
body=_("..."), params={"ref": order.reference}, url=order.get_absolute_url())`.
"""

from collections.abc import Iterable
from typing import Any

from django.utils import translation

from .models import Notification
from .outbox import enqueue
from .tenancy import require_tenant


def _render(text: Any, params: dict[str, Any] | None, language: str) -> str:
    with translation.override(language):
        rendered = str(text)
        return rendered % params if params else rendered


def notify(*, users: Iterable[Any], kind: str, subject: Any, body: Any = "", params: dict[str, Any] | None = None,
           url: str = "", email: bool = True) -> list[Notification]:
    tenant = require_tenant()
    created: list[Notification] = []
    seen: set[int] = set()
    for user in users:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        language = getattr(user, "language", "") or tenant.default_language
        note = Notification.objects.create(
            tenant=tenant,
            user=user,
            kind=kind,
            subject=_render(subject, params, language)[:300],
            body=_render(body, params, language) if body else "",
            url=url,
        )
        created.append(note)
        if email and user.email:
            enqueue("core.tasks.send_notification_email", notification_id=note.pk, tenant_id=tenant.pk)
    return created
