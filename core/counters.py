"""Per-tenant counters for the numbers people see (IPX-2026-000123): one row per exchange and name.

`next_number` is one statement (INSERT ... ON CONFLICT DO UPDATE ... RETURNING), atomic on its own. Inside
a transaction it keeps the counter row locked until commit, so the numbers of one exchange are handed
out one transaction at a time (other exchanges never wait); a rolled-back transaction leaves no gap.
"""

from typing import Any

from django.db import connection

from .models import TenantCounter


def next_number(*, tenant: Any, name: str) -> int:
    table = connection.ops.quote_name(TenantCounter._meta.db_table)
    tenant_id = getattr(tenant, "pk", tenant)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (tenant_id, name, value) VALUES (%s, %s, 1) "  # noqa: S608 (our table name)
            f"ON CONFLICT (tenant_id, name) DO UPDATE SET value = {table}.value + 1 RETURNING value",
            [tenant_id, name])
        row = cursor.fetchone()
    return int(row[0])
