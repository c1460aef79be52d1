"""How the schema distributes on Citus, read from the models: one place that says which table is which.

- **distributed** by `tenant_id`: every tenant-owned model (`core.tenancy.TenantOwned`), all colocated,
  so an exchange's orders, ledger, papers and listings sit on one node and join there;
- **reference** (a copy on every node): small platform-wide tables that distributed rows point at;
- **local** (on the coordinator only): platform plumbing that no distributed row points at.

`check()` lists what would stop `create_distributed_table` today; `ACCEPTED` is the documented, shrinking
list of known exceptions (each with its way out). `prepare_sql()` is the DDL that turns today's schema
into the distributable one (primary keys and foreign keys between distributed tables gain `tenant_id`),
`distribute_sql()` the Citus calls after it. `manage.py citus_tables` writes docs/citus-tables.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db import models

from core.tenancy import TenantOwned

DISTRIBUTED, REFERENCE, LOCAL = "distributed", "reference", "local"

# Platform-wide tables, by model label, with why they are where they are.
REFERENCE_TABLES = {
    "marketplace.Tenant": "the exchanges themselves; every distributed row points at one",
    "accounts.User": "one person may act on several exchanges; orders, signatures and notifications point at users",
    "accounts.User_groups": "Django permission plumbing of users",
    "accounts.User_user_permissions": "Django permission plumbing of users",
    "auth.Group": "Django permission plumbing",
    "auth.Group_permissions": "Django permission plumbing",
    "auth.Permission": "Django permission plumbing",
    "contenttypes.ContentType": "Django's model registry",
    "rights.RegisterRecord": "the public register of rights, shared by every exchange; listed rights point at it",
}
LOCAL_TABLES = {
    "sessions.Session": "web sessions (or move them to Redis/cache sessions)",
    "admin.LogEntry": "the admin's own log (our audit log is distributed)",
    "account.EmailAddress": "allauth's login e-mail addresses (of users: platform-wide)",
    "account.EmailConfirmation": "allauth's confirmation keys",
    "marketplace.OutboxMessage": "the transactional outbox: tasks waiting for the broker",
    "escrow.WebhookEvent": "payment providers' event ids, processed once (platform accounts)",
    "transfers.SimulatedOfficeCase": "the embedded simulated office's own cases (an outside system)",
    "rest_framework_api_key.APIKey": "the library's unused base table (partner keys are PartnerAPIKey)",
    "axes.AccessAttempt": "login throttling counters per address and account (platform-wide logins)",
    "axes.AccessAttemptExpiration": "login throttling expiry (django-axes)",
    "axes.AccessFailureLog": "failed logins (django-axes; security log of platform-wide logins)",
    "axes.AccessLog": "logins (django-axes)",
}
# Tables without a model.
EXTRA_LOCAL_TABLES = {
    "django_migrations": "Django's migration history",
    "ipex_cache": "the database cache (throttling, rate limits)",
}

# Known exceptions: (model label, what, why it is accepted today and the way out). The Citus-readiness test
# prints them and fails on anything not listed here, and on a listed item that no longer occurs (so the
# list only shrinks).
ACCEPTED = {
    ("partners.PartnerAPIKey", "unique (prefix)"): (
        "a presented key is looked up by its prefix before the tenant is known. Way out: look it up with the "
        "host's tenant (the API already refuses a key on another exchange's host) and make it "
        "UNIQUE (tenant_id, prefix)."),
    ("demand.Tender", "unique (want)"): (
        "one tender per want (a one-to-one field). Way out: a ForeignKey with UNIQUE (tenant_id, want_id)."),
    ("negotiation.Licence", "unique (order)"): (
        "one licence per order (a one-to-one field). Way out: a ForeignKey with UNIQUE (tenant_id, order_id)."),
    ("rights.CalendarFeed", "unique (organization)"): (
        "one calendar feed per organization (a one-to-one field). Way out: UNIQUE (tenant_id, organization_id)."),
    ("rights.CalendarFeed", "unique (token)"): (
        "the private feed URL is looked up by its token before the tenant is known. Way out: put the tenant "
        "in the URL (the host already names it) and make it UNIQUE (tenant_id, token)."),
    ("partners.PartnerAPIKey", "unique (service_user)"): (
        "one service user per key (users are platform-wide). Way out: UNIQUE (tenant_id, service_user_id)."),
}


@dataclass
class Table:
    label: str
    db_table: str
    kind: str
    why: str = ""
    model: type | None = None
    foreign_keys: list = field(default_factory=list)  # (column, target Table label, target db_table)


def _label(model) -> str:
    return model._meta.label


def all_models():
    return [m for m in apps.get_models(include_auto_created=True) if m._meta.managed and not m._meta.proxy]


def kind_of(model) -> tuple[str | None, str]:
    label = _label(model)
    if issubclass(model, TenantOwned):
        return DISTRIBUTED, "tenant-owned"
    if label in REFERENCE_TABLES:
        return REFERENCE, REFERENCE_TABLES[label]
    if label in LOCAL_TABLES:
        return LOCAL, LOCAL_TABLES[label]
    return None, ""


def tables() -> list[Table]:
    out = []
    for model in all_models():
        kind, why = kind_of(model)
        table = Table(_label(model), model._meta.db_table, kind or "unclassified", why, model)
        for f in model._meta.local_fields:
            if isinstance(f, models.ForeignKey) and f.db_constraint:
                table.foreign_keys.append((f.column, _label(f.related_model), f.related_model._meta.db_table,
                                           f.target_field.column))
        out.append(table)
    return sorted(out, key=lambda t: (t.kind, t.db_table))


def _unique_sets(model) -> list[tuple[str, tuple[str, ...]]]:
    """Every unique key of the model as (description, columns)."""
    meta = model._meta
    sets = []
    for f in meta.local_fields:
        if f.unique:
            sets.append((f"unique ({f.name})", (f.column,)))
    for names in meta.unique_together:
        cols = tuple(meta.get_field(n).column for n in names)
        sets.append((f"unique ({', '.join(names)})", cols))
    for c in meta.constraints:
        if isinstance(c, models.UniqueConstraint) and c.fields:
            cols = tuple(meta.get_field(n).column for n in c.fields)
            sets.append((f"unique ({', '.join(c.fields)})", cols))
    return sets


ALLOWED_FK = {
    (DISTRIBUTED, DISTRIBUTED), (DISTRIBUTED, REFERENCE), (REFERENCE, REFERENCE), (LOCAL, REFERENCE), (LOCAL, LOCAL),
}


def violations() -> list[tuple[str, str, str]]:
    """(model label, what, why) for everything that does not fit the distribution."""
    found = []
    by_label = {t.label: t for t in tables()}
    for t in by_label.values():
        if t.kind == "unclassified":
            has_tenant = any(getattr(f, "name", "") == "tenant" for f in t.model._meta.local_fields)
            found.append((t.label, "unclassified",
                          "has a tenant column but is not TenantOwned" if has_tenant else
                          "not tenant-owned: add it to REFERENCE_TABLES or LOCAL_TABLES in marketplace/citus.py"))
            continue
        if t.kind == DISTRIBUTED:
            for what, cols in _unique_sets(t.model):
                if cols == (t.model._meta.pk.column,):
                    continue  # the primary key: prepare_sql makes it (tenant_id, id)
                if "tenant_id" not in cols:
                    found.append((t.label, what, "a unique key of a distributed table must include tenant_id"))
        for column, target, _db_table, _target_col in t.foreign_keys:
            target_kind = by_label[target].kind if target in by_label else "unclassified"
            if (t.kind, target_kind) not in ALLOWED_FK:
                found.append((t.label, f"foreign key {column} -> {target}",
                              f"a {t.kind} table cannot point at a {target_kind} table"))
    return sorted(found)


def check() -> tuple[list, list]:
    """(unexpected violations, accepted exceptions that no longer occur)."""
    found = violations()
    unexpected = [v for v in found if (v[0], v[1]) not in ACCEPTED]
    seen = {(v[0], v[1]) for v in found}
    stale = [k for k in ACCEPTED if k not in seen]
    return unexpected, stale


def _distributed_in_order() -> list[Table]:
    """Distributed tables, each after the distributed tables it points at (Citus distributes them first)."""
    dist = {t.label: t for t in tables() if t.kind == DISTRIBUTED}
    done, order = set(), []

    def visit(label, trail=()):
        if label in done or label in trail:
            return
        for _col, target, _tbl, _tcol in dist[label].foreign_keys:
            if target in dist and target != label:
                visit(target, (*trail, label))
        done.add(label)
        order.append(dist[label])

    for label in sorted(dist):
        visit(label)
    return order


def prepare_sql() -> str:
    """Plain PostgreSQL (runs without Citus): primary keys (tenant_id, id), foreign keys between
    distributed tables on (tenant_id, column), unique keys listed in ACCEPTED widened by tenant_id."""
    dist = _distributed_in_order()
    lines = ["BEGIN;", "-- 1. primary keys carry tenant_id (CASCADE drops the single-column foreign keys onto them)"]
    for t in dist:
        lines.append(f"ALTER TABLE {t.db_table} DROP CONSTRAINT {t.db_table}_pkey CASCADE;")
        lines.append(f"ALTER TABLE {t.db_table} ADD PRIMARY KEY (tenant_id, {t.model._meta.pk.column});")
    lines.append("-- 2. unique keys that do not carry tenant_id yet (the accepted exceptions) are widened")
    for t in dist:
        for what, cols in _unique_sets(t.model):
            if "tenant_id" in cols or (t.label, what) not in ACCEPTED or cols == (t.model._meta.pk.column,):
                continue
            lines.append(f"DO $$ DECLARE c text; BEGIN SELECT conname INTO c FROM pg_constraint WHERE conrelid = "  # noqa: S608 (DDL text for a document, from model metadata)
                         f"'{t.db_table}'::regclass AND contype = 'u' AND conkey = ARRAY(SELECT attnum FROM "
                         f"pg_attribute WHERE attrelid = '{t.db_table}'::regclass AND attname IN "
                         f"({', '.join(repr(c) for c in cols)}))::smallint[]; "
                         f"IF c IS NOT NULL THEN EXECUTE format('ALTER TABLE {t.db_table} DROP CONSTRAINT %I', c); "
                         f"END IF; END $$;")
            lines.append(f"ALTER TABLE {t.db_table} ADD UNIQUE (tenant_id, {', '.join(cols)});")
    lines.append("-- 3. foreign keys between distributed tables join rows of one exchange only")
    for t in dist:
        for column, _target, target_table, target_col in t.foreign_keys:
            if target_table in {d.db_table for d in dist}:
                lines.append(f"ALTER TABLE {t.db_table} ADD FOREIGN KEY (tenant_id, {column}) REFERENCES "
                             f"{target_table} (tenant_id, {target_col}) DEFERRABLE INITIALLY DEFERRED;")
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


def distribute_sql() -> str:
    """The Citus calls, after prepare_sql, on the coordinator (Citus 12+)."""
    refs = [t for t in tables() if t.kind == REFERENCE]
    locals_ = [t for t in tables() if t.kind == LOCAL]
    dist = _distributed_in_order()
    lines = ["-- reference tables first: distributed rows point at them"]
    lines += [f"SELECT create_reference_table('{t.db_table}');" for t in refs]
    lines.append("-- local tables that point at reference tables join Citus' metadata on the coordinator")
    lines += [f"SELECT citus_add_local_table_to_metadata('{t.db_table}');" for t in locals_ if t.foreign_keys]
    lines.append("-- every tenant-owned table by tenant_id, all colocated with the first")
    first = dist[0].db_table if dist else ""
    for t in dist:
        colocate = "" if t.db_table == first else f", colocate_with => '{first}'"
        lines.append(f"SELECT create_distributed_table('{t.db_table}', 'tenant_id'{colocate});")
    return "\n".join(lines) + "\n"


def markdown() -> str:
    all_tables = tables()
    unexpected, _stale = check()
    out = [
        "# Citus: distributed and reference tables",
        "",
        "Generated from the models by `python manage.py citus_tables` (marketplace/citus.py); a test fails when",
        "this file is not current. DESIGN section 5: the schema distributes by `tenant_id`.",
        "",
        "| table | model | kind | why |",
        "|---|---|---|---|",
    ]
    for t in all_tables:
        out.append(f"| `{t.db_table}` | {t.label} | {t.kind} | {t.why} |")
    for name, why in sorted(EXTRA_LOCAL_TABLES.items()):
        out.append(f"| `{name}` | — | {LOCAL} | {why} |")
    counts = {k: sum(1 for t in all_tables if t.kind == k) for k in (DISTRIBUTED, REFERENCE, LOCAL)}
    out += ["", f"{counts[DISTRIBUTED]} distributed, {counts[REFERENCE]} reference, "
            f"{counts[LOCAL] + len(EXTRA_LOCAL_TABLES)} local tables.", "",
            "## Accepted exceptions (this list only shrinks)", ""]
    for (label, what), why in sorted(ACCEPTED.items()):
        out.append(f"- **{label}**, {what}: {why}")
    if unexpected:
        out += ["", "## Violations (fix before distributing)", ""]
        out += [f"- **{label}**, {what}: {why}" for label, what, why in unexpected]
    out += ["", "## Step 1: prepare (plain PostgreSQL, tested on a copy of the schema)", "",
            "Run in a maintenance window (it rewrites primary keys and takes ACCESS EXCLUSIVE locks). The",
            "composite foreign keys also prove that no row points at another exchange's row.", "",
            "```sql", prepare_sql().rstrip(), "```", "",
            "## Step 2: distribute (on the Citus coordinator, after adding the workers)", "",
            "```sql", distribute_sql().rstrip(), "```", ""]
    return "\n".join(out)
