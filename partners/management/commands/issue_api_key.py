import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import Organization
from core.errors import DomainError
from core.models import Tenant
from core.tenancy import tenant_context
from partners.models import Scope
from partners.services import api_key_issue


class Command(BaseCommand):
    help = "Issue a partner API key for an organization of an exchange; prints the key once."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="exchange slug, e.g. zgc")
        parser.add_argument("--org", required=True, type=int, help="organization id")
        parser.add_argument("--scopes", default="read", help=f"comma-separated among {', '.join(Scope.values)}")
        parser.add_argument("--name", default="partner key")
        parser.add_argument("--expires-days", type=int, default=None, help="days until the key expires")

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No exchange with slug {options['tenant']!r}.")
        with tenant_context(tenant):
            organization = Organization.objects.filter(pk=options["org"]).first()
            if organization is None:
                raise CommandError(f"No organization {options['org']} in {tenant.slug}.")
            expiry = None
            if options["expires_days"]:
                expiry = timezone.now() + dt.timedelta(days=options["expires_days"])
            scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
            try:
                key, secret = api_key_issue(organization=organization, name=options["name"], scopes=scopes,
                                            expiry_date=expiry)
            except DomainError as exc:
                raise CommandError(str(exc.message)) from exc
        self.stderr.write(f"Key {key.prefix} for {organization.legal_name} ({tenant.slug}), scopes "
                          f"{', '.join(key.scopes)}. Shown once:")
        self.stdout.write(secret)
