"""Each published listing's search document carries its month of publication as a lexeme
('xp202611'), kept right by a trigger whoever writes the row (services, bulk loads, the bench).

The newest-first window of a keyword with thousands of matches then reads the matches of the latest
months from the GIN index (listings.search._newest_window) instead of walking every listing newest
first until enough of them match."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION listing_month_token() RETURNS trigger AS $$
BEGIN
  IF NEW.search_document IS NOT NULL THEN
    IF TG_OP = 'UPDATE' AND OLD.published_at IS NOT NULL THEN
      NEW.search_document := ts_delete(NEW.search_document,
                                       'xp' || to_char(OLD.published_at AT TIME ZONE 'UTC', 'YYYYMM'));
    END IF;
    IF NEW.published_at IS NOT NULL THEN
      NEW.search_document := NEW.search_document
        || to_tsvector('simple', 'xp' || to_char(NEW.published_at AT TIME ZONE 'UTC', 'YYYYMM'));
    END IF;
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS listing_month_token ON listings_listing;
CREATE TRIGGER listing_month_token BEFORE INSERT OR UPDATE OF search_document, published_at
  ON listings_listing FOR EACH ROW EXECUTE FUNCTION listing_month_token();
"""

REVERSE = """
DROP TRIGGER IF EXISTS listing_month_token ON listings_listing;
DROP FUNCTION IF EXISTS listing_month_token();
"""

# Existing rows get their token (small exchanges; a large one can run this in batches beforehand).
BACKFILL = "UPDATE listings_listing SET search_document = search_document WHERE published_at IS NOT NULL " \
           "AND search_document IS NOT NULL"


class Migration(migrations.Migration):
    dependencies = [("listings", "0010_field_labels")]
    operations = [migrations.RunSQL(FUNCTION, REVERSE), migrations.RunSQL(BACKFILL, migrations.RunSQL.noop)]
