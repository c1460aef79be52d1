from django.urls import path

from . import views

app_name = "rights"
urlpatterns = [
    path("", views.portfolio_page, name="portfolio"),
    path("import/", views.portfolio_import, name="import"),
    path("import/<int:pk>/", views.import_status, name="import_status"),
    path("export.<str:fmt>", views.portfolio_export, name="export"),
    path("calendar/", views.calendar_subscribe, name="calendar_subscribe"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("<int:pk>/sell/", views.sell_from_portfolio, name="sell"),
    path("sell/", views.sell_selection, name="sell_selection"),
    path("alerts/", views.alert_settings, name="alert_settings"),
    path("alerts/<int:pk>/read/", views.alert_read, name="alert_read"),
    path("alerts/read/", views.alerts_read_all, name="alerts_read_all"),
]
