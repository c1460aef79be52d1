"""The register gateway the platform uses: each number goes to the adapter configured for its
jurisdiction and kind (setting `REGISTER_ADAPTERS`, e.g. `{"US:trademark": "...uspto_tsdr.TsdrRegister",
"US": "...uspto_odp.OdpRegister", "EP": "...epo_ops.OpsRegister"}`; the most specific key wins),
everything else to the embedded register. With no adapters configured (the default, `make run`)
it is the embedded register."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from ..numbers import NumberError, parse_candidates
from .base import Lookup, RegisterGateway
from .embedded import EmbeddedRegister


class RoutedRegister(RegisterGateway):
    name = "routed"

    def __init__(self):
        self.embedded = EmbeddedRegister()
        self._adapters: dict[str, RegisterGateway] = {}

    def adapter_for(self, jurisdiction: str, kind: str | None) -> RegisterGateway:
        table = getattr(settings, "REGISTER_ADAPTERS", {}) or {}
        trademark = kind == "trademark"
        for key in ([f"{jurisdiction}:{kind}"] if kind else []) + (
                [f"{jurisdiction}:trademark"] if trademark else [f"{jurisdiction}:patent", jurisdiction]):
            path = table.get(key)
            if path:
                if path not in self._adapters:
                    self._adapters[path] = import_string(path)()
                return self._adapters[path]
        return self.embedded

    def lookup(self, text, *, jurisdiction=None, kind=None):
        try:
            readings = parse_candidates(text, jurisdiction=jurisdiction, kind=kind)
        except NumberError:
            return self.embedded.lookup(text, jurisdiction=jurisdiction, kind=kind)
        # The embedded register first when it already knows the right (its cache of every source).
        local = self.embedded.lookup(text, jurisdiction=jurisdiction, kind=kind)
        adapters = []
        for p in readings:
            adapter = self.adapter_for(p.jurisdiction, p.kind or kind)
            if adapter is not self.embedded and adapter not in adapters:
                adapters.append(adapter)
        if not adapters or (local.found and getattr(local.record, "source", "") in ("embedded", "bulk",
                                                                                    "certificate")):
            return local
        result: Lookup | None = None
        for adapter in adapters:
            result = adapter.lookup(text, jurisdiction=jurisdiction, kind=kind)
            if result.found:
                return result
        return result if result is not None and not local.found else local

    def get(self, *, jurisdiction, number):
        from ..models import RegisterRecord

        record = RegisterRecord.objects.filter(jurisdiction=jurisdiction, number=number).only("kind").first()
        adapter = self.adapter_for(jurisdiction, record.kind if record else None)
        return adapter.get(jurisdiction=jurisdiction, number=number)

    def get_many(self, records):
        """Each right from the adapter of its jurisdiction and kind (known from the row: no query to
        route); the embedded register answers its share in one query."""
        groups: dict[int, tuple] = {}
        for record in records:
            adapter = self.adapter_for(record.jurisdiction, record.kind)
            groups.setdefault(id(adapter), (adapter, []))[1].append(record)
        out: dict = {}
        for adapter, group in groups.values():
            out.update(adapter.get_many(group))
        return out

    def owner_marks(self, *, owner_name, jurisdiction):
        return self.embedded.owner_marks(owner_name=owner_name, jurisdiction=jurisdiction)

    def search_owner(self, *, name, jurisdiction=None, limit=50):
        """The embedded register's matches, plus those of the live adapter of `jurisdiction` where it can
        search by applicant (USPTO ODP, EPO OPS); each right once."""
        records = list(self.embedded.search_owner(name=name, jurisdiction=jurisdiction, limit=limit))
        if jurisdiction:
            adapter = self.adapter_for(jurisdiction, None)
            if adapter is not self.embedded and adapter.supports_owner_search:
                seen = {r.pk for r in records}
                records += [r for r in adapter.search_owner(name=name, jurisdiction=jurisdiction, limit=limit)
                            if r.pk not in seen]
        return records[:limit]
