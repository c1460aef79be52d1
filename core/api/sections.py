"""Parts of one resource's API representation that a higher app contributes.

An order's representation belongs to escrow, but its `transfer` part (papers, filing, office notices)
is the transfers app's: escrow may not import transfers. The higher app registers the part in its
`AppConfig.ready` with the serializer that documents it and a function that computes it; the owner's
serializer lists every registered part as a field, and the owner's view fills them.

    add_section("order", "transfer", serializer=TransferSerializer, data=transfer_summary)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers


@dataclass(frozen=True)
class Section:
    name: str
    serializer: type[serializers.Serializer[Any]]
    data: Callable[[Any], Any]


_sections: dict[str, dict[str, Section]] = {}


def add_section(resource: str, name: str, *, serializer: type[serializers.Serializer[Any]],
                data: Callable[[Any], Any]) -> None:
    _sections.setdefault(resource, {})[name] = Section(name, serializer, data)


def section_fields(resource: str) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
    """Serializer fields for every registered part (null when the part does not apply yet)."""
    return {s.name: s.serializer(allow_null=True, read_only=True) for s in _sections.get(resource, {}).values()}


def section_data(resource: str, obj: Any) -> dict[str, Any]:
    return {s.name: s.data(obj) for s in _sections.get(resource, {}).values()}
