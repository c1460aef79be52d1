"""Domain events: how a lower app tells higher apps (and partners) what happened, without importing them.

Services call `emit(...)` inside their transaction after a state change, e.g.
    emit("listing.withdrawn", organizations=[listing.seller_org], data={"listing": listing.pk},
         listing=listing, actor=actor, reason=reason)
`data` is the JSON-safe payload partners receive by webhook; keyword arguments after it are the live
objects the in-process handlers get.

- `@on("listing.withdrawn")`: a higher app reacts inside the caller's transaction (escrow returns the
  seller's margin). Handlers register when their module is imported (each app's `AppConfig.ready`),
  write rows and `enqueue` tasks only, and run before the webhook receivers.
- `@receiver_for_events`: every event, as (tenant, event, organization_ids, data) — partner webhooks.
- `answer(...)` / `ask(...)`: a lower app's question that the owner of the rule answers (listings asks
  escrow how much margin a listing needs: escrow owns the margin). Asking a question nobody answers is
  a programming error, not a silent default.
- Rights announce: right.alert, right.owner_recorded, right.encumbrance_recorded, holding.closed_to_wants.
- Listings announce: listing.published, listing.withdrawn, listing.lapsed, listing.sold (sold, or all its
  licences taken).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from core.tenancy import require_tenant

_F = TypeVar("_F", bound=Callable[..., Any])

_receivers: list[Callable[..., Any]] = []
_handlers: dict[str, list[Callable[..., Any]]] = defaultdict(list)
_answers: dict[str, Callable[..., Any]] = {}


def receiver_for_events(func: _F) -> _F:
    _receivers.append(func)
    return func


def on(*events: str) -> Callable[[_F], _F]:
    def register(func: _F) -> _F:
        for event in events:
            if func not in _handlers[event]:
                _handlers[event].append(func)
        return func

    return register


def emit(event: str, *, organizations: Iterable[Any], data: dict[str, Any], **objects: Any) -> None:
    tenant = require_tenant()
    for handler in _handlers.get(event, ()):
        handler(tenant=tenant, data=data, **objects)
    org_ids = sorted({org.pk for org in organizations if org is not None})
    for receiver in _receivers:
        receiver(tenant=tenant, event=event, organization_ids=org_ids, data=data)


def answer(question: str) -> Callable[[_F], _F]:
    def register(func: _F) -> _F:
        _answers[question] = func
        return func

    return register


def ask(question: str, **kwargs: Any) -> Any:
    try:
        func = _answers[question]
    except KeyError:
        raise LookupError(f"no app answers {question!r}: is the owning app installed?") from None
    return func(**kwargs)
