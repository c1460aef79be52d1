from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ProjectConfig(AppConfig):
    """The composition root (settings, URL tree, Celery app, demo data); it owns no models."""

    default = True
    name = "marketplace"
    label = "project"


class PlatformAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "core.admin_site.TenantAdminSite"
