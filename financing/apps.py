from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinancingConfig(AppConfig):
    name = "financing"
    verbose_name = _("Valuation and financing")

    def ready(self):
        from core.events import receiver_for_events

        from . import receivers

        if receivers.on_domain_event not in _registered:
            receiver_for_events(receivers.on_domain_event)
            _registered.append(receivers.on_domain_event)


_registered: list = []
