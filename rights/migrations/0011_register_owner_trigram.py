"""A name inside an owner's name ("Tsinghua" in "Beijing Tsinghua University Research Institute"): a pg_trgm
GIN index on UPPER(owner_name), the expression Django's `icontains` compares, where the server has the
extension (the system PostgreSQL does; the embedded pgserver wheel of `make run` does not, and the owner
search then matches the beginning of names, index `register_owner_prefix`)."""

import django.contrib.postgres.indexes
import django.db.models.functions.comparison
import django.db.models.functions.text
from django.contrib.postgres.indexes import OpClass
from django.db import migrations, models


def _trigram_available(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        return cursor.fetchone() is not None


def trigram_and_index(apps, schema_editor):
    if not _trigram_available(schema_editor):
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("CREATE INDEX IF NOT EXISTS register_owner_trgm ON rights_registerrecord "
                          "USING gin ((UPPER(owner_name::text)) gin_trgm_ops)")


def drop_index(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS register_owner_trgm")


class Migration(migrations.Migration):

    dependencies = [
        ('rights', '0010_holding_number_title_alert_reads'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(
                model_name='registerrecord',
                index=django.contrib.postgres.indexes.GinIndex(
                    OpClass(django.db.models.functions.text.Upper(django.db.models.functions.comparison.Cast(
                        'owner_name', models.TextField())), name='gin_trgm_ops'), name='register_owner_trgm'))],
            database_operations=[migrations.RunPython(trigram_and_index, drop_index)],
        ),
    ]
