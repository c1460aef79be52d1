from django.core.management.base import BaseCommand, CommandError

from rights.registry.importer import FIELDS, import_rows, read_file


class Command(BaseCommand):
    help = ("Load rights into the embedded register from a CSV (header row with field names) or JSON file "
            "(a list of objects). Every row is validated; with any error nothing is written unless "
            "--skip-invalid. Rows are upserted by jurisdiction + normalised number. Fields: " + ", ".join(FIELDS))

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", choices=["csv", "json"])
        parser.add_argument("--skip-invalid", action="store_true", help="write the valid rows even if some are not")
        parser.add_argument("--dry-run", action="store_true", help="validate only")

    def handle(self, *args, **options):
        try:
            rows = read_file(options["file"], fmt=options["format"])
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc}") from exc
        report = import_rows(rows, skip_invalid=options["skip_invalid"], dry_run=options["dry_run"])
        for row, message in report.errors:
            self.stderr.write(f"row {row}: {message}")
        if report.written:
            self.stdout.write(self.style.SUCCESS(
                f"{len(rows)} rows read: {report.created} created, {report.updated} updated, "
                f"{len(report.errors)} rejected."))
        elif options["dry_run"]:
            self.stdout.write(f"{len(rows)} rows read, {len(report.errors)} with errors (dry run, nothing written).")
        if report.errors and not report.written:
            raise CommandError(f"{len(report.errors)} of {len(rows)} rows have errors; nothing was written "
                               "(fix them, or use --skip-invalid).")
