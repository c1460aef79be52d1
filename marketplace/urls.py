from django.contrib import admin
from django.urls import include, path

from core import views as core_views

from . import views
from .i18n import set_language

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("branding/logo", core_views.tenant_logo, name="tenant_logo"),
    path("notifications/", core_views.notifications, name="notifications"),
    path("notifications/read-all/", core_views.notifications_read_all, name="notifications_read_all"),
    path("notifications/<int:pk>/open/", core_views.notification_open, name="notification_open"),
    path("orders/", include("escrow.urls")),
    path("transfers/", include("transfers.urls")),
    path("financing/", include("financing.urls")),
    path("portfolio/", include("rights.urls")),
    path("deals/", include("negotiation.urls")),
    path("api/", include("marketplace.api_urls")),
    path("", include("demand.urls")),
    path("", include("listings.urls")),
]

# No URL maps onto the storage of uploads (local folder or bucket), in any setting: private files leave
# only through permission-checked views (core/storage.py).

handler404 = "marketplace.errorpages.not_found"
handler500 = "marketplace.errorpages.server_error"
