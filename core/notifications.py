"""Tell people what happened: an in-app notification now, an email in their language after commit.

Callers pass lazy strings (gettext_lazy) and params: `notify(users=[buyer], kind="order.paid",
subject=_("Order %(ref)s is paid"), body=_("..."), params={"ref": order.reference},
url=order.get_absolute_url())`. The notification keeps the untranslated messages and the params (lazy
params, such as a state's label, as their untranslated text too), and is rendered when it is read:
the inbox in the reader's language of that moment, the email in the recipient's language when it is
sent. `subject`/`body` keep the text as first rendered (admin, old rows).

A parameter may itself be a message with parameters (`Message`, e.g. a rights alert quoted in the
notification): it is stored as its untranslated text and parameters and rendered, nested, when read.
Other apps keep such messages on their own rows the same way (`Message.stored()` / `Message.restore()`).
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


class Message:
    """A message rendered when it is read: its untranslated text and its parameters (lazy strings,
    nested `Message`s). `str()` renders it in the active language."""

    __slots__ = ("params", "source")

    def __init__(self, text: Any, params: dict[str, Any] | None = None) -> None:
        self.source = _source(text) if text else ""
        self.params = _stored_params(params)

    @classmethod
    def restore(cls, source: str, params: dict[str, Any] | None = None) -> "Message":
        """A message from what `stored()` (or `source`/`params` columns) kept."""
        message = cls("")
        message.source, message.params = source or "", dict(params or {})
        return message

    @classmethod
    def from_stored(cls, data: dict[str, Any] | None) -> "Message":
        data = data or {}
        return cls.restore(str(data.get(_LAZY) or ""), data.get("params") or {})

    def stored(self) -> dict[str, Any]:
        """JSON-able: the untranslated text and the stored parameters."""
        return {_LAZY: self.source, "params": self.params}

    def __str__(self) -> str:
        return render(self.source, self.params)

    def __bool__(self) -> bool:
        return bool(self.source)

    def __repr__(self) -> str:
        return f"Message({self.source!r}, {self.params!r})"


def _stored_params(params: dict[str, Any] | None) -> dict[str, Any]:
    stored: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if isinstance(value, Message):
            stored[key] = value.stored()
        elif isinstance(value, Promise):
            stored[key] = {_LAZY: _source(value)}
        elif isinstance(value, (str, int, float, bool)) or value is None:
            stored[key] = value
        else:
            stored[key] = str(value)
    return stored


def _resolved_one(value: Any) -> Any:
    if isinstance(value, dict) and _LAZY in value:
        if "params" in value:  # a nested message with its own parameters
            return render(value[_LAZY], value["params"])
        return gettext(value[_LAZY]) if value[_LAZY] else ""
    return value


def _resolved(params: dict[str, Any] | None) -> dict[str, Any]:
    return {k: _resolved_one(v) for k, v in (params or {}).items()}


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
