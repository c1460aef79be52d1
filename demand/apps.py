from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemandConfig(AppConfig):
    name = "demand"
    verbose_name = _("Demand, tenders and auctions")

    def ready(self):
        from . import receivers  # noqa: F401 (subscribes to listing.published)
