from django.core.management.base import BaseCommand

from accounts.demo import DEMO_PASSWORD
from marketplace.demo import ADMIN_EMAIL, PEOPLE, seed_all


class Command(BaseCommand):
    help = "Load the demo exchanges, people and data. Idempotent: running it twice changes nothing."

    def handle(self, *args, **options):
        tenants = seed_all(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  platform admin: {ADMIN_EMAIL} / {DEMO_PASSWORD}")
        for slug, people in PEOPLE.items():
            self.stdout.write(f"  {tenants[slug].name_en} (http://{tenants[slug].hosts[0]}:8000):")
            for email, *_ in people:
                self.stdout.write(f"    {email} / {DEMO_PASSWORD}")
