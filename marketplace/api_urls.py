"""Routes of the partner REST API (/api/v1/), its schema (/api/schema/) and docs (/api/docs/).

Views live in each app's `api/` package (one view per use case) on top of `partners.api.base`.
"""

from django.urls import include, path, re_path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from partners.api import views as partner_views
from partners.api.converters import IdConverter, ReferenceConverter
from partners.api.fallback import api_not_found

register_converter(IdConverter, "id")
register_converter(ReferenceConverter, "ref")

v1 = [
    path("me", partner_views.MeApi.as_view(), name="me"),
    path("webhooks/endpoints", partner_views.WebhookEndpointListCreateApi.as_view(), name="webhook-endpoints"),
    path("webhooks/endpoints/<id:pk>", partner_views.WebhookEndpointDetailApi.as_view(), name="webhook-endpoint"),
    path("webhooks/endpoints/<id:pk>/rotate-secret", partner_views.WebhookEndpointRotateSecretApi.as_view(),
         name="webhook-endpoint-rotate-secret"),
    path("webhooks/endpoints/<id:pk>/deliveries", partner_views.WebhookDeliveryListApi.as_view(),
         name="webhook-deliveries"),
]

urlpatterns = [
    path("v1/", include((v1, "api"), namespace="api")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    re_path(r"^.*$", api_not_found),
]
