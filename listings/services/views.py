"""The listing page's view counter (read by financing's market-interest indicator).

A view is not worth a database write on every anonymous page: the listing row is wide and indexed
many times, so a counter UPDATE rarely stays HOT and rewrites every index entry, and its commit waits
for the WAL flush. With Redis as the cache, a view is one HINCRBY; `listing_views_flush` (beat task
`listings.tasks.flush_listing_views`, every minute) adds the buffered counts to `Listing.view_count`
with one UPDATE per exchange. Without Redis (the embedded default, tests) the view is written at once.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import F

from core.cache import counter_add, counter_drain
from core.replicas import write_without_pinning
from core.tenancy import require_tenant

from ..models import Listing


def _counter_name(tenant_id: int) -> str:
    return f"listings:views:{tenant_id}"


def listing_record_view(*, listing_id: int) -> None:
    """One more view of a listing of the tenant in context (by a visitor who is not the seller)."""
    if counter_add(_counter_name(require_tenant().pk), listing_id):
        return
    with write_without_pinning():  # a counter: no cookie, no pinning to the primary for the visitor
        Listing.objects.filter(pk=listing_id).update(view_count=F("view_count") + 1)


def listing_views_flush() -> int:
    """Add the views buffered in Redis for the tenant in context to their listings; returns how many
    listings were updated. A failed write puts the counts back for the next run."""
    tenant = require_tenant()
    counts = {int(pk): n for pk, n in counter_drain(_counter_name(tenant.pk)).items() if n > 0}
    if not counts:
        return 0
    table = connection.ops.quote_name(Listing._meta.db_table)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} AS l SET view_count = l.view_count + v.n "  # noqa: S608 - constant table name
                "FROM unnest(%s::bigint[], %s::int[]) AS v(id, n) WHERE l.id = v.id AND l.tenant_id = %s",
                [list(counts), list(counts.values()), tenant.pk])
            return cursor.rowcount
    except Exception:
        for pk, n in counts.items():
            counter_add(_counter_name(tenant.pk), pk, n)
        raise
