from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinancingConfig(AppConfig):
    name = "financing"
    verbose_name = _("Valuation and financing")

    def ready(self):
        from . import receivers  # noqa: F401 (registers the core.events handlers)
