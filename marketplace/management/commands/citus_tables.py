"""Write docs/citus-tables.md (distributed vs reference tables, the exceptions, the DDL) from the models."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from marketplace import citus

DOC = Path(settings.BASE_DIR) / "docs" / "citus-tables.md"


class Command(BaseCommand):
    help = "Write docs/citus-tables.md from the models (--check: fail if it is not current)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="only compare; exit 1 when the file differs")
        parser.add_argument("--sql", choices=["prepare", "distribute"], help="print one step's SQL instead")

    def handle(self, *args, check=False, sql=None, **options):
        if sql:
            self.stdout.write(citus.prepare_sql() if sql == "prepare" else citus.distribute_sql(), ending="")
            return
        text = citus.markdown()
        if check:
            if not DOC.exists() or DOC.read_text() != text:
                raise CommandError(f"{DOC} is not current: run `python manage.py citus_tables`.")
            self.stdout.write("docs/citus-tables.md is current.")
            return
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text)
        self.stdout.write(f"wrote {DOC}")
