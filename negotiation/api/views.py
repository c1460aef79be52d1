"""Offers in the partner API: make an offer as buyer, list and read the organization's negotiations
(as buyer, seller, or broker for a client under a mandate the client accepted), and counter, accept,
reject or withdraw. Accepting places the escrowed order (see /orders/{reference}).
Views only parse, call negotiation services / selectors and serialise."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.models import Organization
from core.api.base import PartnerAPIView
from core.api.pagination import paginated
from core.errors import ValidationFailed
from listings.selectors import listing_for_viewer
from negotiation import selectors, services
from negotiation.models import Offer, Side
from partners.models import Scope

OFFERS = ["offers"]
MAX_MINOR = 10**15


class TermsSerializer(serializers.Serializer):
    territory = serializers.CharField(max_length=200, required=False, allow_blank=True)
    field = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="Field of use")
    term_months = serializers.IntegerField(min_value=1, max_value=600, required=False)
    sublicensing = serializers.BooleanField(required=False)
    royalty_bps = serializers.IntegerField(min_value=0, max_value=5000, required=False,
                                           help_text="Running royalty in basis points of the base")
    royalty_base = serializers.ChoiceField(choices=["net_sales", "gross_sales", "units"], required=False)
    royalty_period = serializers.ChoiceField(choices=["quarter", "half_year", "year"], required=False)
    royalty_minimum_minor = serializers.IntegerField(min_value=0, max_value=MAX_MINOR, required=False)


def _hides_buyer(context, offer) -> bool:
    """An offer answering an anonymous want: only the buyer's side learns who the buyer is (until it says
    so or the deal is agreed). Without an actor in the context, hidden."""
    if not offer.buyer_anonymous:
        return False
    actor = context.get("actor")
    return actor is None or services.side_of(actor, offer)[0] != Side.BUYER


class RoundSerializer(serializers.Serializer):
    kind = serializers.CharField()
    side = serializers.CharField()
    organization = serializers.SerializerMethodField()
    price_minor = serializers.IntegerField(allow_null=True)
    terms = serializers.DictField()
    note = serializers.CharField()
    at = serializers.DateTimeField(source="created_at")

    def get_organization(self, round_) -> str:
        if round_.acting_org_id is None:
            return ""
        if round_.side == Side.BUYER and round_.acting_org_id == round_.offer.buyer_org_id \
                and _hides_buyer(self.context, round_.offer):
            return str(_("Anonymous buyer"))
        return round_.acting_org.legal_name


class OfferSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=Offer.State.choices)
    listing = serializers.SerializerMethodField()
    buyer = serializers.SerializerMethodField(help_text="The buyer organization; \"Anonymous buyer\" to the "
                                                        "seller's side of an offer answering an anonymous want")
    seller = serializers.CharField(source="seller_org.legal_name")
    broker = serializers.SerializerMethodField(help_text="The seller's broker, when one negotiates")
    buyer_broker = serializers.SerializerMethodField(help_text="The buyer's broker, when one negotiates")
    order = serializers.CharField(source="order.reference", default=None, allow_null=True)
    terms = serializers.DictField()

    class Meta:
        model = Offer
        fields = ["id", "state", "waiting_for", "listing", "buyer", "seller", "broker", "buyer_broker", "price_minor",
                  "currency",
                  "terms", "expires_at", "order", "created_at", "updated_at"]

    def get_listing(self, offer) -> dict:
        return {"id": offer.listing_id, "title": offer.listing.title}

    def get_buyer(self, offer) -> str:
        return str(_("Anonymous buyer")) if _hides_buyer(self.context, offer) else offer.buyer_org.legal_name

    def get_broker(self, offer) -> str | None:
        return offer.seller_mandate.broker_org.legal_name if offer.seller_mandate_id else None

    def get_buyer_broker(self, offer) -> str | None:
        return offer.buyer_mandate.broker_org.legal_name if offer.buyer_mandate_id else None


class OfferDetailSerializer(OfferSerializer):
    rounds = RoundSerializer(many=True, source="rounds.all")

    class Meta(OfferSerializer.Meta):
        fields = [*OfferSerializer.Meta.fields, "rounds"]


def offer_for_key(view, pk) -> Offer:
    offer = selectors.offer_for_user(view.actor, pk)
    if offer is None:
        raise Http404
    return offer


class OfferListCreateApi(PartnerAPIView):
    write_scope = Scope.ORDERS

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=Offer.State.choices, required=False)

    class InputSerializer(serializers.Serializer):
        listing_id = serializers.IntegerField(min_value=1, max_value=999999999999999999)
        price_minor = serializers.IntegerField(min_value=1, max_value=MAX_MINOR)
        currency = serializers.CharField(min_length=3, max_length=3)
        terms = TermsSerializer(required=False, help_text="Licence terms (licence listings only)")
        expires_at = serializers.DateTimeField(required=False, help_text="Default: in 7 days; at most 60 days")
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
        for_organization_id = serializers.IntegerField(
            min_value=1, max_value=999999999999999999, required=False,
            help_text="As a buyer's broker: the client organization you offer for (a buyer-side mandate in force "
                      "covering the listing); the order will be the client's")

    @extend_schema(operation_id="offers_list", tags=OFFERS, parameters=[FilterSerializer],
                   responses=paginated(OfferSerializer),
                   summary="Negotiations of your organization (as buyer, seller, or broker under a mandate)")
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.offers_for_user(self.actor)
        if filters.validated_data.get("state"):
            queryset = queryset.filter(state=filters.validated_data["state"])
        return self.paginate(queryset, OfferSerializer, ordering=("-updated_at", "-id"),
                             context={"request": request, "actor": self.actor})

    @extend_schema(operation_id="offers_create", tags=OFFERS, request=InputSerializer,
                   responses={201: OfferDetailSerializer}, summary="Make an offer on a listing as buyer",
                   examples=[OpenApiExample("A licence offer", request_only=True, value={
                       "listing_id": 42, "price_minor": 80000000, "currency": "CNY",
                       "terms": {"territory": "CN", "field": "vehicles", "royalty_bps": 300,
                                 "royalty_period": "quarter"}})])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        listing = listing_for_viewer(pk=d["listing_id"], user=self.actor)
        for_org = None
        if d.get("for_organization_id"):
            for_org = Organization.objects.filter(pk=d["for_organization_id"]).first()
            if for_org is None:
                raise ValidationFailed("No such organization on this exchange.",
                                       field_errors={"for_organization_id": ["Unknown organization."]})
        offer = services.offer_make(listing=listing, actor=self.actor, price_minor=d["price_minor"],
                                    currency=d["currency"], terms=d.get("terms"), expires_at=d.get("expires_at"),
                                    note=d.get("note", ""), for_org=for_org)
        offer = offer_for_key(self, offer.pk)
        return Response(OfferDetailSerializer(offer, context={"actor": self.actor}).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/v1/offers/{offer.pk}"})


class OfferDetailApi(PartnerAPIView):
    @extend_schema(operation_id="offers_retrieve", tags=OFFERS, responses=OfferDetailSerializer,
                   summary="An offer: current price and terms, whose turn it is, every round")
    def get(self, request, pk):
        return Response(OfferDetailSerializer(offer_for_key(self, pk), context={"actor": self.actor}).data)


class _OfferActionApi(PartnerAPIView):
    write_scope = Scope.ORDERS
    InputSerializer: type[serializers.Serializer] | None = None

    def act(self, offer, data):  # pragma: no cover - overridden
        raise NotImplementedError

    def post(self, request, pk):
        offer = offer_for_key(self, pk)
        data = {}
        if self.InputSerializer is not None:
            serializer = self.InputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        self.act(offer, data)
        return Response(OfferDetailSerializer(offer_for_key(self, pk), context={"actor": self.actor}).data)


class CounterSerializer(serializers.Serializer):
    price_minor = serializers.IntegerField(min_value=1, max_value=MAX_MINOR)
    terms = TermsSerializer(required=False)
    expires_at = serializers.DateTimeField(required=False)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class OfferReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class OfferCounterApi(_OfferActionApi):
    InputSerializer = CounterSerializer

    @extend_schema(operation_id="offers_counter", tags=OFFERS, request=CounterSerializer,
                   responses=OfferDetailSerializer, summary="Counter with another price/terms (your turn only)")
    def post(self, request, pk):
        return super().post(request, pk)

    def act(self, offer, data):
        services.offer_counter(offer=offer, actor=self.actor, price_minor=data["price_minor"], terms=data.get("terms"),
                               expires_at=data.get("expires_at"), note=data.get("note", ""))


class OfferAcceptApi(_OfferActionApi):
    @extend_schema(operation_id="offers_accept", tags=OFFERS, request=None, responses=OfferDetailSerializer,
                   summary="Accept (your turn only): the escrowed order is placed at the agreed price and terms")
    def post(self, request, pk):
        return super().post(request, pk)

    def act(self, offer, data):
        services.offer_accept(offer=offer, actor=self.actor)


class OfferRejectApi(_OfferActionApi):
    InputSerializer = OfferReasonSerializer

    @extend_schema(operation_id="offers_reject", tags=OFFERS, request=OfferReasonSerializer,
                   responses=OfferDetailSerializer, summary="Reject (your turn only)")
    def post(self, request, pk):
        return super().post(request, pk)

    def act(self, offer, data):
        services.offer_reject(offer=offer, actor=self.actor, reason=data.get("reason", ""))


class OfferWithdrawApi(_OfferActionApi):
    InputSerializer = OfferReasonSerializer

    @extend_schema(operation_id="offers_withdraw", tags=OFFERS, request=OfferReasonSerializer,
                   responses=OfferDetailSerializer, summary="Withdraw your last proposal")
    def post(self, request, pk):
        return super().post(request, pk)

    def act(self, offer, data):
        services.offer_withdraw(offer=offer, actor=self.actor, reason=data.get("reason", ""))
