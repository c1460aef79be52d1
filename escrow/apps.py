from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EscrowConfig(AppConfig):
    name = "escrow"
    verbose_name = _("Escrow")

    def ready(self):
        from . import services  # noqa: F401 (registers escrow's answers and event handlers: margins)
