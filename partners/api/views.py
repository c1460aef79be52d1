"""The key itself and webhook endpoints (partners' own resources)."""

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from core.api.base import PartnerAPIView
from core.api.pagination import paginated
from partners import services
from partners.models import Scope, WebhookDelivery, WebhookEndpoint, WebhookEvent

WEBHOOKS = ["webhooks"]


class MeApi(PartnerAPIView):
    """Who this key acts as: its organization, exchange and scopes."""

    class OutputSerializer(serializers.Serializer):
        key_prefix = serializers.CharField(source="prefix")
        name = serializers.CharField()
        scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices))
        expires_at = serializers.DateTimeField(source="expiry_date", allow_null=True)
        exchange = serializers.CharField(source="tenant.slug")
        exchange_name = serializers.CharField(source="tenant.name")
        currency = serializers.CharField(source="tenant.currency")
        organization_id = serializers.IntegerField()
        organization_name = serializers.CharField(source="organization.legal_name")
        organization_verified = serializers.BooleanField(source="organization.is_verified")

    @extend_schema(operation_id="me_retrieve", tags=["key"], responses=OutputSerializer,
                   summary="The key: organization, exchange, scopes")
    def get(self, request):
        return Response(self.OutputSerializer(self.api_key).data)


class WebhookEndpointOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "event_types", "is_active", "language", "created_at"]


class WebhookEndpointWithSecret(WebhookEndpointOutput):
    secret = serializers.CharField(help_text="Verify deliveries with it; shown when created or rotated only.")

    class Meta(WebhookEndpointOutput.Meta):
        fields = [*WebhookEndpointOutput.Meta.fields, "secret"]


ENDPOINT_EXAMPLE = OpenApiExample(
    "Subscribe to order and listing events",
    value={"url": "https://partner.example.com/ipex/webhooks", "description": "production",
           "event_types": ["order.state_changed", "listing.verified", "listing.rejected"]},
    request_only=True,
)


def _endpoint_or_404(view, pk) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=pk, organization=view.organization).first()
    if endpoint is None:
        raise Http404
    return endpoint


class WebhookEndpointListCreateApi(PartnerAPIView):
    write_scope = Scope.WEBHOOKS

    class InputSerializer(serializers.Serializer):
        url = serializers.URLField(max_length=500)
        description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        event_types = serializers.ListField(
            child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, max_length=10
        )
        language = serializers.ChoiceField(
            choices=[("", "the exchange's default"), *settings.LANGUAGES], required=False, default="",
            help_text="Language of the texts in the events (a right alert's message and action); empty: the "
                      "exchange's default language.")

    @extend_schema(operation_id="webhook_endpoints_list", tags=WEBHOOKS, responses=paginated(WebhookEndpointOutput),
                   summary="Your webhook endpoints")
    def get(self, request):
        queryset = WebhookEndpoint.objects.filter(organization=self.organization)
        return self.paginate(queryset, WebhookEndpointOutput, ordering=("-created_at", "-id"))

    @extend_schema(operation_id="webhook_endpoints_create", tags=WEBHOOKS, request=InputSerializer,
                   responses={201: WebhookEndpointWithSecret}, examples=[ENDPOINT_EXAMPLE],
                   summary="Register an endpoint (the signing secret is returned once)")
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_create(organization=self.organization, api_key=self.api_key,
                                                    **data.validated_data)
        return Response(WebhookEndpointWithSecret(endpoint).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/v1/webhooks/endpoints/{endpoint.pk}"})


class WebhookEndpointDetailApi(PartnerAPIView):
    write_scope = Scope.WEBHOOKS

    class UpdateSerializer(serializers.Serializer):
        url = serializers.URLField(max_length=500, required=False)
        description = serializers.CharField(max_length=200, required=False, allow_blank=True)
        event_types = serializers.ListField(
            child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, max_length=10, required=False
        )
        is_active = serializers.BooleanField(required=False)
        language = serializers.ChoiceField(choices=[("", "the exchange's default"), *settings.LANGUAGES],
                                           required=False)

    @extend_schema(operation_id="webhook_endpoints_retrieve", tags=WEBHOOKS, responses=WebhookEndpointOutput)
    def get(self, request, pk):
        return Response(WebhookEndpointOutput(_endpoint_or_404(self, pk)).data)

    @extend_schema(operation_id="webhook_endpoints_update", tags=WEBHOOKS, request=UpdateSerializer,
                   responses=WebhookEndpointOutput)
    def patch(self, request, pk):
        endpoint = _endpoint_or_404(self, pk)
        data = self.UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(WebhookEndpointOutput(endpoint).data)

    @extend_schema(operation_id="webhook_endpoints_destroy", tags=WEBHOOKS, responses={204: None})
    def delete(self, request, pk):
        services.webhook_endpoint_delete(endpoint=_endpoint_or_404(self, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointRotateSecretApi(PartnerAPIView):
    write_scope = Scope.WEBHOOKS

    @extend_schema(operation_id="webhook_endpoints_rotate_secret", tags=WEBHOOKS, request=None,
                   responses={200: WebhookEndpointWithSecret}, summary="Replace the signing secret")
    def post(self, request, pk):
        endpoint = services.webhook_endpoint_rotate_secret(endpoint=_endpoint_or_404(self, pk))
        return Response(WebhookEndpointWithSecret(endpoint).data)


class WebhookDeliveryOutput(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "event_id", "event_type", "status", "attempts", "response_code", "last_error",
                  "created_at", "last_attempt_at", "next_attempt_at", "delivered_at", "payload"]


class WebhookDeliveryListApi(PartnerAPIView):
    @extend_schema(operation_id="webhook_deliveries_list", tags=WEBHOOKS, responses=paginated(WebhookDeliveryOutput),
                   summary="Recent deliveries to an endpoint, newest first")
    def get(self, request, pk):
        endpoint = _endpoint_or_404(self, pk)
        queryset = WebhookDelivery.objects.filter(endpoint=endpoint)
        return self.paginate(queryset, WebhookDeliveryOutput, ordering=("-created_at", "-id"))
