from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransfersConfig(AppConfig):
    name = "transfers"
    verbose_name = _("Transfers")

    def ready(self):
        from core.api.sections import add_section

        from . import services  # noqa: F401 (registers the reactions to escrow's events)
        from .api.serializers import TransferSerializer
        from .api.views import transfer_summary

        add_section("order", "transfer", serializer=TransferSerializer, data=transfer_summary)
