from __future__ import annotations

from dataclasses import dataclass, field

from ..numbers import ParsedNumber


@dataclass
class Lookup:
    """What a number typed by a person resolved to."""

    text: str
    parsed: list[ParsedNumber] = field(default_factory=list)
    record: object | None = None  # RegisterRecord
    error: str = ""

    @property
    def found(self):
        return self.record is not None

    @property
    def best(self) -> ParsedNumber | None:
        if self.record is not None:
            for p in self.parsed:
                if set(p.keys) & set(self.record.keys):
                    return p
        return self.parsed[0] if self.parsed else None


class RegisterGateway:
    name = "abstract"

    def lookup(self, text: str, *, jurisdiction: str | None = None, kind: str | None = None) -> Lookup:
        raise NotImplementedError

    def get(self, *, jurisdiction: str, number: str):
        raise NotImplementedError

    def get_many(self, records) -> dict:
        """Re-read several rights (the monitoring batch): {record pk: the fresh record, None when the
        register no longer has it, or the DomainError it raised for that right}."""
        from core.errors import DomainError

        out: dict = {}
        for record in records:
            try:
                out[record.pk] = self.get(jurisdiction=record.jurisdiction, number=record.number)
            except DomainError as exc:
                out[record.pk] = exc
        return out

    def owner_marks(self, *, owner_name: str, jurisdiction: str) -> list:
        raise NotImplementedError

    supports_owner_search = False

    def search_owner(self, *, name: str, jurisdiction: str | None = None, limit: int = 50) -> list:
        """Rights whose owner of record (applicant, holder) is named `name` (its beginning, any case)."""
        raise NotImplementedError
