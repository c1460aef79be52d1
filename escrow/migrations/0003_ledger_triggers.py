"""The database itself keeps the journal honest: journal rows are append-only (UPDATE and DELETE
are refused), and every entry balances per currency (a deferred constraint trigger checks at commit).
Sequences give orders and payments their references."""

from django.db import migrations

SQL = r"""
CREATE OR REPLACE FUNCTION escrow_journal_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'escrow journal rows are append-only: % on % refused (post a correcting entry instead)',
    TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER escrow_journalentry_append_only BEFORE UPDATE OR DELETE ON escrow_journalentry
  FOR EACH ROW EXECUTE FUNCTION escrow_journal_append_only();
CREATE TRIGGER escrow_journalline_append_only BEFORE UPDATE OR DELETE ON escrow_journalline
  FOR EACH ROW EXECUTE FUNCTION escrow_journal_append_only();

CREATE OR REPLACE FUNCTION escrow_journal_balanced() RETURNS trigger AS $$
DECLARE
  bad record;
BEGIN
  SELECT currency, SUM(amount_minor) AS total INTO bad FROM escrow_journalline
    WHERE entry_id = NEW.entry_id GROUP BY currency HAVING SUM(amount_minor) <> 0 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'escrow journal entry % does not balance in %: off by %', NEW.entry_id, bad.currency, bad.total
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER escrow_journalline_balanced AFTER INSERT ON escrow_journalline
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION escrow_journal_balanced();

CREATE OR REPLACE FUNCTION escrow_journalentry_has_lines() RETURNS trigger AS $$
BEGIN
  IF (SELECT COUNT(*) FROM escrow_journalline WHERE entry_id = NEW.id) < 2 THEN
    RAISE EXCEPTION 'escrow journal entry % needs at least two lines', NEW.id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER escrow_journalentry_lines AFTER INSERT ON escrow_journalentry
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION escrow_journalentry_has_lines();

CREATE SEQUENCE IF NOT EXISTS escrow_order_ref_seq;
CREATE SEQUENCE IF NOT EXISTS escrow_payment_ref_seq;
"""

REVERSE = r"""
DROP TRIGGER IF EXISTS escrow_journalentry_lines ON escrow_journalentry;
DROP TRIGGER IF EXISTS escrow_journalline_balanced ON escrow_journalline;
DROP TRIGGER IF EXISTS escrow_journalline_append_only ON escrow_journalline;
DROP TRIGGER IF EXISTS escrow_journalentry_append_only ON escrow_journalentry;
DROP FUNCTION IF EXISTS escrow_journalentry_has_lines();
DROP FUNCTION IF EXISTS escrow_journal_balanced();
DROP FUNCTION IF EXISTS escrow_journal_append_only();
DROP SEQUENCE IF EXISTS escrow_order_ref_seq;
DROP SEQUENCE IF EXISTS escrow_payment_ref_seq;
"""


class Migration(migrations.Migration):
    dependencies = [("escrow", "0002_ledger_payments_disputes")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
