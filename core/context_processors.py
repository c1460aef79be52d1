from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    tenant = getattr(request, "tenant", None)
    languages = settings.LANGUAGES
    if tenant and tenant.languages:
        languages = [(code, name) for code, name in settings.LANGUAGES if code in tenant.languages]
    unread = 0
    user = getattr(request, "user", None)
    if tenant and user is not None and user.is_authenticated:
        from .models import Notification

        unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    return {"tenant": tenant, "site_languages": languages, "unread_notifications": unread}
