from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = _("Partner API")

    def ready(self):
        from core.events import receiver_for_events

        from . import webhooks

        if webhooks.on_domain_event not in _registered:
            receiver_for_events(webhooks.on_domain_event)
            _registered.append(webhooks.on_domain_event)


_registered: list = []
