"""The rights register gateway (DESIGN section 4).

`get_register()` returns the configured implementation (setting `LISTINGS_REGISTER_GATEWAY`, a dotted
path; default the routed register, which sends each number to the live adapter configured for its
jurisdiction and kind in `REGISTER_ADAPTERS` and everything else to the embedded register). Every implementation answers the same questions:

- `lookup(text, jurisdiction=None, kind=None) -> Lookup`: parse what a person typed and find the right;
- `get(jurisdiction, number) -> RegisterRecord | None`: re-read one right (daily re-check);
- `owner_marks(owner_name, jurisdiction) -> list[RegisterRecord]`: trademarks held by one owner.

Results are `RegisterRecord` rows: the live adapters (USPTO ODP, USPTO TSDR, EPO OPS; `http.py`)
upsert what they fetched into that table, which then serves as their cache.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import Lookup, RegisterGateway

__all__ = ["Lookup", "RegisterGateway", "get_register"]

DEFAULT = "rights.registry.routed.RoutedRegister"


def get_register() -> RegisterGateway:
    return import_string(getattr(settings, "LISTINGS_REGISTER_GATEWAY", DEFAULT))()
