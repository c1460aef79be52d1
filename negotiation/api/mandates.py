"""Brokers' mandates in the partner API: a broker organization's key lists its mandates, proposes one
to a principal organization of the same exchange and revokes it; a principal's key lists the mandates it
gave and accepts, declines or revokes them. Views only parse, call `accounts.mandates` and serialise."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts import mandates as mandate_services
from accounts.models import Mandate, Organization
from core.api.base import PartnerAPIView
from core.api.pagination import paginated
from core.errors import ValidationFailed
from partners.models import Scope

MANDATES = ["mandates"]
MAX_ID = 999999999999999999


class MandateSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=Mandate.State.choices,
                                    help_text="proposed: awaiting the principal; active: accepted (in force "
                                              "between starts_on and ends_on); declined; revoked")
    side = serializers.ChoiceField(choices=Mandate.Side.choices,
                                   help_text="seller: the broker negotiates the principal's listings; buyer: the "
                                             "broker makes offers for the principal")
    role = serializers.SerializerMethodField(help_text="Your organization's part: \"broker\" (you hold the "
                                                       "mandate) or \"principal\" (you gave it)")
    principal = serializers.SerializerMethodField(help_text="The organization the broker acts for")
    broker = serializers.SerializerMethodField(help_text="The broker organization")
    listing_ids = serializers.ListField(child=serializers.IntegerField(), help_text="The listings covered "
                                                                                    "(empty when all_listings)")
    all_listings = serializers.BooleanField(help_text="Covers all of the principal's listings")
    commission_bps = serializers.IntegerField(help_text="The broker's commission in basis points of the price")
    may_sign = serializers.BooleanField(help_text="The broker may sign the transfer or licence papers")
    in_force = serializers.SerializerMethodField(help_text="Accepted and today within its term")

    class Meta:
        model = Mandate
        fields = ["id", "state", "side", "role", "principal", "broker", "listing_ids", "all_listings",
                  "commission_bps", "may_sign", "starts_on", "ends_on", "in_force", "decided_at", "created_at"]

    def get_role(self, mandate) -> str:
        org = self.context.get("organization")
        return "broker" if org is not None and mandate.broker_org_id == org.pk else "principal"

    def get_principal(self, mandate) -> dict:
        return {"id": mandate.principal_org_id, "legal_name": mandate.principal_org.legal_name}

    def get_broker(self, mandate) -> dict:
        return {"id": mandate.broker_org_id, "legal_name": mandate.broker_org.legal_name}

    def get_in_force(self, mandate) -> bool:
        from django.utils import timezone

        today = timezone.localdate()
        return mandate.state == Mandate.State.ACTIVE and mandate.starts_on <= today <= mandate.ends_on


def mandate_for_key(view, pk) -> Mandate:
    mandate = mandate_services.mandate_of_org(view.organization, pk)
    if mandate is None:
        raise Http404
    return mandate


def _data(view, mandate) -> dict:
    return MandateSerializer(mandate_for_key(view, mandate.pk), context={"organization": view.organization}).data


class MandateListCreateApi(PartnerAPIView):
    write_scope = Scope.ORDERS

    class FilterSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=["broker", "principal"], required=False,
                                       help_text="Only the mandates you hold (broker) or gave (principal)")
        state = serializers.ChoiceField(choices=Mandate.State.choices, required=False)

    class InputSerializer(serializers.Serializer):
        principal_organization_id = serializers.IntegerField(
            min_value=1, max_value=MAX_ID, help_text="The organization (of this exchange) you would act for")
        side = serializers.ChoiceField(choices=Mandate.Side.choices, default=Mandate.Side.SELLER,
                                       help_text="seller: negotiate its listings; buyer: make offers for it")
        listing_ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
                                            required=False, default=list, max_length=200,
                                            help_text="The listings covered; empty with all_listings")
        all_listings = serializers.BooleanField(default=False, help_text="Cover all of the principal's listings")
        commission_bps = serializers.IntegerField(min_value=0, max_value=mandate_services.MAX_COMMISSION_BPS,
                                                  help_text="Your commission in basis points of the price (≤ 5000)")
        may_sign = serializers.BooleanField(default=False, help_text="Ask to sign the papers for the principal")
        starts_on = serializers.DateField(required=False, help_text="Default: today")
        ends_on = serializers.DateField(required=False, help_text="Default: a year after the start; at most "
                                                                  "three years")

    @extend_schema(operation_id="mandates_list", tags=MANDATES, parameters=[FilterSerializer],
                   responses=paginated(MandateSerializer),
                   summary="Mandates your organization holds (as broker) or gave (as principal)")
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        queryset = mandate_services.mandates_of(self.organization)
        if f.get("role") == "broker":
            queryset = queryset.filter(broker_org=self.organization)
        elif f.get("role") == "principal":
            queryset = queryset.filter(principal_org=self.organization)
        if f.get("state"):
            queryset = queryset.filter(state=f["state"])
        return self.paginate(queryset, MandateSerializer, ordering=("-created_at", "-id"),
                             context={"request": request, "organization": self.organization})

    @extend_schema(operation_id="mandates_create", tags=MANDATES, request=InputSerializer,
                   responses={201: MandateSerializer},
                   summary="As a broker: propose a mandate; a member of the principal accepts it on the site "
                           "or with its own key",
                   examples=[OpenApiExample("Negotiate two listings at 5 %", request_only=True, value={
                       "principal_organization_id": 17, "side": "seller", "listing_ids": [42, 43],
                       "commission_bps": 500, "ends_on": "2027-06-30"})])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        principal = Organization.objects.filter(~Q(pk=self.organization.pk), pk=d["principal_organization_id"]).first()
        if principal is None:
            raise ValidationFailed("No such organization on this exchange.",
                                   field_errors={"principal_organization_id": ["Unknown organization."]})
        mandate = mandate_services.mandate_propose(
            actor=self.actor, broker_org=self.organization, principal_org=principal, side=d["side"],
            listing_ids=d["listing_ids"], all_listings=d["all_listings"], commission_bps=d["commission_bps"],
            may_sign=d["may_sign"], starts_on=d.get("starts_on"), ends_on=d.get("ends_on"))
        return Response(_data(self, mandate), status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/v1/mandates/{mandate.pk}"})


class MandateDetailApi(PartnerAPIView):
    @extend_schema(operation_id="mandates_retrieve", tags=MANDATES, responses=MandateSerializer,
                   summary="A mandate your organization holds or gave")
    def get(self, request, pk):
        return Response(MandateSerializer(mandate_for_key(self, pk), context={"organization": self.organization}).data)


class MandateReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                   help_text="Why (kept in the audit trail)")


class _MandateActionApi(PartnerAPIView):
    write_scope = Scope.ORDERS
    with_reason = False

    def act(self, mandate, data):  # pragma: no cover - overridden
        raise NotImplementedError

    def post(self, request, pk):
        mandate = mandate_for_key(self, pk)
        data = {}
        if self.with_reason:
            serializer = MandateReasonSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        self.act(mandate, data)
        return Response(_data(self, mandate))


class MandateAcceptApi(_MandateActionApi):
    @extend_schema(operation_id="mandates_accept", tags=MANDATES, request=None, responses=MandateSerializer,
                   summary="As the principal: accept a proposed mandate (it is in force within its term)")
    def post(self, request, pk):
        return super().post(request, pk)

    def act(self, mandate, data):
        mandate_services.mandate_accept(mandate=mandate, actor=self.actor)


class MandateDeclineApi(_MandateActionApi):
    @extend_schema(operation_id="mandates_decline", tags=MANDATES, request=None, responses=MandateSerializer,
                   summary="As the principal: decline a proposed mandate")
    def post(self, request, pk):
        return super().post(request, pk)

    def act(self, mandate, data):
        mandate_services.mandate_decline(mandate=mandate, actor=self.actor)


class MandateRevokeApi(_MandateActionApi):
    with_reason = True

    @extend_schema(operation_id="mandates_revoke", tags=MANDATES, request=MandateReasonSerializer,
                   responses=MandateSerializer,
                   summary="As broker or principal: end a proposed or accepted mandate (offers under it stop)")
    def post(self, request, pk):
        return super().post(request, pk)

    def act(self, mandate, data):
        mandate_services.mandate_revoke(mandate=mandate, actor=self.actor, reason=data.get("reason", ""))
