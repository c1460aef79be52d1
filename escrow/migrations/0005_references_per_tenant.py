"""Order and payment references are numbered per exchange and year (core.TenantCounter) instead of by two
global sequences: the counters start after the highest number each exchange already used, then the
sequences go."""

from django.db import migrations

SEED = r"""
INSERT INTO marketplace_tenantcounter (tenant_id, name, value)
SELECT tenant_id, kind || ':' || split_part(reference, '-', 2), max(split_part(reference, '-', 3)::bigint)
FROM (
    SELECT tenant_id, 'order' AS kind, reference FROM escrow_order WHERE reference ~ '^[A-Z]+-[0-9]{4}-[0-9]+$'
    UNION ALL
    SELECT tenant_id, 'payment', reference FROM escrow_payment WHERE reference ~ '^[A-Z]+-[0-9]{4}-[0-9]+$'
) AS used
GROUP BY 1, 2
ON CONFLICT (tenant_id, name) DO UPDATE SET value = GREATEST(marketplace_tenantcounter.value, EXCLUDED.value);
DROP SEQUENCE IF EXISTS escrow_order_ref_seq;
DROP SEQUENCE IF EXISTS escrow_payment_ref_seq;
"""

UNDO = r"""
CREATE SEQUENCE IF NOT EXISTS escrow_order_ref_seq;
CREATE SEQUENCE IF NOT EXISTS escrow_payment_ref_seq;
SELECT setval('escrow_order_ref_seq', GREATEST(1, (SELECT max(value) FROM marketplace_tenantcounter WHERE name LIKE 'order:%')));
SELECT setval('escrow_payment_ref_seq', GREATEST(1, (SELECT max(value) FROM marketplace_tenantcounter WHERE name LIKE 'payment:%')));
"""


class Migration(migrations.Migration):
    dependencies = [
        ("escrow", "0004_bank_accounts_disputes_split"),
        ("marketplace", "0004_tenant_counters"),
    ]

    operations = [migrations.RunSQL(SEED, UNDO)]
