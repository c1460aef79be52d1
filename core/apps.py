from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The shared library. Its models (Tenant, AuditEvent, Notification, OutboxMessage) keep the app
    label "marketplace" they were created under, so tables and migration history of existing databases
    stay as they are; the project package `marketplace/` is the app labelled "project"."""

    default = True
    name = "core"
    label = "marketplace"
    verbose_name = _("Platform")
