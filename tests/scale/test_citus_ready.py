"""The schema is ready to distribute by tenant_id on Citus (DESIGN section 5), checked from the models, and
the preparation DDL of docs/citus-tables.md runs on a copy of today's schema in real PostgreSQL."""

from pathlib import Path

import pytest
from django.core.management import call_command

from marketplace import citus

ROOT = Path(__file__).resolve().parents[2]


def test_every_table_is_distributed_reference_or_local_and_fits():
    unexpected, stale = citus.check()
    print("\nAccepted exceptions (marketplace/citus.py ACCEPTED; this list only shrinks):")
    for (label, what), why in sorted(citus.ACCEPTED.items()):
        print(f"  {label}, {what}: {why}")
    assert unexpected == [], "\n".join(f"{label}, {what}: {why}" for label, what, why in unexpected)
    assert stale == [], f"fixed, so remove from ACCEPTED: {stale}"


def test_every_tenant_owned_table_is_distributed_and_its_unique_keys_carry_the_tenant():
    kinds = {t.label: t.kind for t in citus.tables()}
    assert kinds["escrow.Order"] == kinds["transfers.Signature"] == kinds["marketplace.TenantCounter"] == "distributed"
    assert kinds["marketplace.Tenant"] == kinds["accounts.User"] == "reference"
    order = next(t for t in citus.tables() if t.label == "escrow.Order")
    assert [cols for _what, cols in citus._unique_sets(order.model) if cols != ("id",)] == [
        ("tenant_id", "listing_id"), ("tenant_id", "reference")]


def test_a_violation_is_found(monkeypatch):
    """The check is not blind: an unclassified platform table and a unique key without tenant are caught."""
    monkeypatch.delitem(citus.REFERENCE_TABLES, "rights.RegisterRecord")
    monkeypatch.setattr(citus, "ACCEPTED", {})
    unexpected, _stale = citus.check()
    found = {(label, what) for label, what, _why in unexpected}
    assert ("rights.RegisterRecord", "unclassified") in found
    assert ("partners.PartnerAPIKey", "unique (prefix)") in found
    assert ("listings.Right", "foreign key register_record_id -> rights.RegisterRecord") in found


def test_docs_citus_tables_is_current():
    committed = (ROOT / "docs" / "citus-tables.md").read_text()
    assert committed == citus.markdown(), "run `python manage.py citus_tables` and commit docs/citus-tables.md"
    call_command("citus_tables", "--check")


@pytest.mark.scale
def test_the_preparation_ddl_runs_on_a_copy_of_the_schema(pg_cluster, schema_sql):
    # given a fresh database with today's schema on the throwaway server
    pg_cluster.psql(pg_cluster.primary_port, "DROP DATABASE IF EXISTS citus_prep", dbname="postgres")
    pg_cluster.psql(pg_cluster.primary_port, "CREATE DATABASE citus_prep", dbname="postgres")
    port = str(pg_cluster.primary_port)
    pg_cluster.run("psql", "-h", "127.0.0.1", "-p", port, "-d", "citus_prep", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                   input=schema_sql)
    # when the preparation of docs/citus-tables.md runs
    pg_cluster.run("psql", "-h", "127.0.0.1", "-p", port, "-d", "citus_prep", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                   input=citus.prepare_sql().encode())

    def rows(sql):
        out = pg_cluster.psql(pg_cluster.primary_port, sql, dbname="citus_prep")
        return [line.split("|") for line in out.splitlines() if line]

    distributed = sorted(t.db_table for t in citus.tables() if t.kind == citus.DISTRIBUTED)
    listed = ", ".join(f"'{name}'" for name in distributed)
    # then every primary and unique key of a distributed table starts with tenant_id
    keys = rows(f"""SELECT conrelid::regclass::text, conname, (SELECT attname FROM pg_attribute WHERE
                 attrelid = conrelid AND attnum = conkey[1]) FROM pg_constraint
                 WHERE contype IN ('p', 'u') AND conrelid::regclass::text IN ({listed})""")
    assert {table for table, _name, _first in keys} == set(distributed)
    assert [k for k in keys if k[2] != "tenant_id"] == []
    # and every foreign key between two distributed tables joins on tenant_id as well
    fks = rows(f"""SELECT conrelid::regclass::text, confrelid::regclass::text,
                 (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute WHERE attrelid = conrelid
                  AND attnum = ANY(conkey))::text
                 FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text IN ({listed})
                 AND confrelid::regclass::text IN ({listed})""")
    expected = sum(1 for t in citus.tables() if t.kind == citus.DISTRIBUTED
                   for _c, _target, target_table, _tc in t.foreign_keys if target_table in distributed)
    assert len(fks) == expected > 20
    assert [fk for fk in fks if "tenant_id" not in fk[2]] == []
