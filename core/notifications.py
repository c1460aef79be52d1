"""Tell people what happened: an in-app notification now, an email in their language after commit.

Callers pass lazy strings (gettext_lazy) and params: `notify(users=[buyer], kind="order.paid",
subject=_("Order %(ref)s is paid"), body=_("..."), params={"ref": order.reference},
url=order.get_absolute_url())`. The notification keeps the untranslated messages and the params (lazy
params, such as a state's label, as their untranslated text too), and is rendered when it is read:
the inbox in the reader's language of that moment, the email in the recipient's language when it is
sent. `subject`/`body` keep the text as first rendered (admin, old rows).
"""

from collections.abc import Iterable
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext

from .models import Notification
from .outbox import enqueue
from .tenancy import require_tenant

_LAZY = "__msgid__"


def _source(text: Any) -> str:
    """The untranslated message of a lazy string (or the text itself)."""
    with translation.override(None):
        return str(text)


def _stored_params(params: dict[str, Any] | None) -> dict[str, Any]:
    stored: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if isinstance(value, Promise):
            stored[key] = {_LAZY: _source(value)}
        elif isinstance(value, (str, int, float, bool)) or value is None:
            stored[key] = value
        else:
            stored[key] = str(value)
    return stored


def _resolved(params: dict[str, Any] | None) -> dict[str, Any]:
    return {k: gettext(v[_LAZY]) if isinstance(v, dict) and _LAZY in v else v for k, v in (params or {}).items()}


def render(source: str, params: dict[str, Any] | None) -> str:
    """A stored message in the active language, with its parameters."""
    text = gettext(source) if source else ""
    if params:
        try:
            return text % _resolved(params)
        except (KeyError, ValueError, TypeError):
            return text
    return text


def _render(text: Any, params: dict[str, Any] | None, language: str) -> str:
    with translation.override(language):
        rendered = str(text)
        return rendered % params if params else rendered


def notify(*, users: Iterable[Any], kind: str, subject: Any, body: Any = "", params: dict[str, Any] | None = None,
           url: str = "", email: bool = True) -> list[Notification]:
    tenant = require_tenant()
    created: list[Notification] = []
    seen: set[int] = set()
    subject_source, body_source = _source(subject), _source(body) if body else ""
    stored = _stored_params(params)
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
            subject_source=subject_source,
            body_source=body_source,
            params=stored,
            url=url,
        )
        created.append(note)
        if email and user.email:
            enqueue("core.tasks.send_notification_email", notification_id=note.pk, tenant_id=tenant.pk)
    return created
