"""Recompute the stored fees of every current holding (`rights.models.HoldingFee`).

Run it after changing the fee rules or tables in `rights/fees.py` (and once after the migration that
added the table); monitoring also recomputes each right's fees when it re-checks it (daily)."""

from django.core.management.base import BaseCommand, CommandError

from core.models import Tenant
from core.tenancy import tenant_context
from rights.fees import FEE_TABLES_AS_OF
from rights.models import Holding
from rights.services import holding_fees_store


class Command(BaseCommand):
    help = ("Recompute the stored fee deadlines of every current holding from the rules in rights/fees.py "
            f"(tables as of {FEE_TABLES_AS_OF}). Run after the rules change.")

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="only this tenant (its slug)")
        parser.add_argument("--batch", type=int, default=1000)

    def handle(self, *args, **options):
        tenants = Tenant.objects.order_by("pk")
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"No tenant {options['tenant']!r}.")
        for tenant in tenants:
            holdings, fees, last = 0, 0, 0
            with tenant_context(tenant):
                while True:
                    batch = list(Holding.objects.filter(ended_at__isnull=True, pk__gt=last).select_related("record")
                                 .defer("record__raw", "snapshot").order_by("pk")[:options["batch"]])
                    if not batch:
                        break
                    fees += holding_fees_store(holdings=batch)
                    holdings += len(batch)
                    last = batch[-1].pk
            if holdings:
                self.stdout.write(f"{tenant.slug}: {holdings} holdings, {fees} fees stored")
        self.stdout.write(self.style.SUCCESS("Fees recomputed."))
