"""The key's organization in the partner API: its details and whether it may sell yet."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.models import Organization
from accounts.selectors import seller_blockers
from core.api.base import PartnerAPIView


class OrganizationApi(PartnerAPIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        kind = serializers.ChoiceField(choices=Organization.Kind.choices)
        legal_name = serializers.CharField()
        legal_name_en = serializers.CharField()
        country = serializers.CharField()
        registration_number = serializers.CharField()
        verification_status = serializers.ChoiceField(choices=Organization.Verification.choices)
        verification_note = serializers.CharField()
        can_sell = serializers.BooleanField()
        seller_blockers = serializers.ListField(child=serializers.CharField(),
                                                help_text="What to do before the organization may sell")

    @extend_schema(operation_id="organization_retrieve", tags=["key"], responses=OutputSerializer,
                   summary="Your organization: verification, and whether it may sell yet")
    def get(self, request):
        org = self.organization
        blockers = [str(b) for b in seller_blockers(self.actor, org)]
        data = {f: getattr(org, f) for f in ("id", "kind", "legal_name", "legal_name_en", "country",
                                             "registration_number", "verification_status", "verification_note")}
        return Response(self.OutputSerializer({**data, "can_sell": not blockers, "seller_blockers": blockers}).data)
