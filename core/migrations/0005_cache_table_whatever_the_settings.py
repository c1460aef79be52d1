"""The database cache's table, created whatever cache the settings of the migrating process name.

0002 ran `createcachetable`, which creates tables only for the database caches configured *now*: a
database first migrated under the test settings (local-memory cache) or with REDIS_URL set had no
table, and switching to the embedded default (the database cache) then made every API request a 500.
This creates the same table (Django's DatabaseCache schema) unconditionally; it is idempotent."""

from django.db import migrations

TABLE = "ipex_cache"  # settings.CACHE_TABLE

CREATE = f"""
CREATE TABLE IF NOT EXISTS "{TABLE}" (
    "cache_key" varchar(255) NOT NULL PRIMARY KEY,
    "value" text NOT NULL,
    "expires" timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS "{TABLE}_expires" ON "{TABLE}" ("expires");
"""


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0004_tenant_counters")]
    operations = [migrations.RunSQL(CREATE, migrations.RunSQL.noop)]
