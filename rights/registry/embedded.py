"""The embedded register: the `RegisterRecord` table (loaded by `manage.py import_register` and the
demo data). Behaves like a remote source: optional latency and switchable failure
(`LISTINGS_REGISTER_LATENCY_MS`, `LISTINGS_REGISTER_FAIL`)."""

import time

from django.conf import settings
from django.db.models import F
from django.utils.translation import gettext as _

from core.errors import GatewayError

from ..models import RegisterRecord
from ..numbers import NumberError, parse_candidates
from .base import Lookup, RegisterGateway

_trgm: dict[str, bool] = {}


def trigram_available() -> bool:
    """Whether PostgreSQL has pg_trgm (the system server does; the embedded pgserver wheel does not, and
    then the owner search matches the beginning of names only)."""
    if "ok" not in _trgm:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            _trgm["ok"] = cursor.fetchone() is not None
    return _trgm["ok"]


class EmbeddedRegister(RegisterGateway):
    name = "embedded"

    def _call(self):
        latency = getattr(settings, "LISTINGS_REGISTER_LATENCY_MS", 0)
        if latency:
            time.sleep(latency / 1000)
        if getattr(settings, "LISTINGS_REGISTER_FAIL", False):
            raise GatewayError(_("The register cannot be reached at the moment; please try again in a few minutes."))

    def lookup(self, text, *, jurisdiction=None, kind=None):
        result = Lookup(text=text)
        try:
            result.parsed = parse_candidates(text, jurisdiction=jurisdiction, kind=kind)
        except NumberError as exc:
            result.error = exc.message
            return result
        self._call()
        keys = sorted({k for p in result.parsed for k in p.keys})
        # `id + 0`: through the GIN index on keys, never a walk of the primary key (see http.cached).
        records = list(RegisterRecord.objects.filter(keys__overlap=keys).filter(awaiting_verification=False)
                       .order_by((F("id") + 0).asc())[:5])
        if kind:
            records = [r for r in records if r.kind == kind] or records
        if records:
            # The reading that matched first in the order the parser ranked them.
            for p in result.parsed:
                for r in records:
                    if set(p.keys) & set(r.keys):
                        result.record = r
                        return result
        result.error = _("%(number)s is a valid number, but the register has no right with it. Check the number, "
                         "or contact the exchange if the right was granted recently.") % {
            "number": result.parsed[0].display}
        return result

    def get(self, *, jurisdiction, number):
        self._call()
        return RegisterRecord.objects.filter(jurisdiction=jurisdiction, number=number).first()

    def get_many(self, records):
        """One query for the whole batch (the rows are the register)."""
        try:
            self._call()
        except GatewayError as exc:
            return {r.pk: exc for r in records}
        fresh = RegisterRecord.objects.in_bulk([r.pk for r in records])
        return {r.pk: fresh.get(r.pk) for r in records}

    def owner_marks(self, *, owner_name, jurisdiction):
        self._call()
        return list(RegisterRecord.objects.filter(jurisdiction=jurisdiction, kind="trademark",
                                                  owner_name=owner_name).order_by("number"))

    supports_owner_search = True

    def search_owner(self, *, name, jurisdiction=None, limit=50):
        """Owners whose name contains `name`, any case, those that begin with it first (pg_trgm index
        `register_owner_trgm`); where PostgreSQL has no pg_trgm (the embedded pgserver of `make run`), the
        names that begin with it (index `register_owner_prefix`)."""
        from django.db.models import Case, IntegerField, Value, When

        self._call()
        name = name.strip()
        qs = RegisterRecord.objects.filter(awaiting_verification=False)
        if jurisdiction:
            qs = qs.filter(jurisdiction=jurisdiction)
        qs = qs.defer("raw", "abstract", "abstract_en")
        if not trigram_available():
            return list(qs.filter(owner_name__istartswith=name).order_by("owner_name", "jurisdiction", "number")[:limit])
        return list(qs.filter(owner_name__icontains=name).annotate(
            inside=Case(When(owner_name__istartswith=name, then=Value(0)), default=Value(1),
                        output_field=IntegerField()))
            .order_by("inside", "owner_name", "jurisdiction", "number")[:limit])
