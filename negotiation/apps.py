from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NegotiationConfig(AppConfig):
    name = "negotiation"
    verbose_name = _("Negotiated deals")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import (
            receivers,  # noqa: F401 (reacts to core.events from the lower apps)
            services,  # noqa: F401 (answers negotiation.offer_to_buyer for demand)
        )
