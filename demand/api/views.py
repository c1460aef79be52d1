"""Wants and auction bids in the partner API. Views only parse, call demand services / selectors and
serialise; domain errors become problem details through the shared handler."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from core.api.base import PartnerAPIView
from core.api.pagination import paginated
from demand import auctions as A
from demand import counteroffers as CO
from demand import selectors
from demand import services as D
from demand.matching import explain
from demand.models import Auction, CounterOffer, DealWanted, Want
from partners.models import Scope
from rights.models import Jurisdiction, RightKind

TAGS = ["demand"]


class MatchSerializer(serializers.Serializer):
    source = serializers.CharField()
    listing_id = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()
    score = serializers.FloatField()
    why = serializers.SerializerMethodField()

    def get_why(self, obj) -> str:
        return explain(obj.reasons)


class WantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    keywords = serializers.CharField()
    classes = serializers.ListField(child=serializers.CharField())
    kinds = serializers.ListField(child=serializers.CharField())
    territories = serializers.ListField(child=serializers.CharField())
    deal_type = serializers.CharField()
    budget_min_minor = serializers.IntegerField(allow_null=True)
    budget_max_minor = serializers.IntegerField(allow_null=True)
    currency = serializers.CharField()
    deadline = serializers.DateField()
    state = serializers.CharField()
    buyer = serializers.SerializerMethodField()

    def get_buyer(self, obj) -> str:
        return str(obj.shown_buyer)


class WantDetailSerializer(WantSerializer):
    matches = serializers.SerializerMethodField(help_text="Only for the organization that posted the want")

    def get_matches(self, obj) -> list[dict]:
        if self.context.get("organization") is None or obj.buyer_org_id != self.context["organization"].pk:
            return []
        return MatchSerializer(obj.matches.all()[:50], many=True).data


class WantListCreateApi(PartnerAPIView):
    write_scope = Scope.ORDERS

    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, max_length=200)
        classes = serializers.CharField(required=False, max_length=100)

    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200)
        keywords = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
        classes = serializers.CharField(max_length=400, required=False, allow_blank=True, default="",
                                        help_text="IPC/CPC symbols or Nice classes, comma separated")
        kinds = serializers.ListField(child=serializers.ChoiceField(choices=RightKind.choices), required=False,
                                      default=list)
        territories = serializers.ListField(child=serializers.ChoiceField(choices=Jurisdiction.choices),
                                            required=False, default=list)
        deal_type = serializers.ChoiceField(choices=DealWanted.choices, default=DealWanted.ANY)
        budget_min_minor = serializers.IntegerField(min_value=0, max_value=10**15, required=False, allow_null=True)
        budget_max_minor = serializers.IntegerField(min_value=0, max_value=10**15, required=False, allow_null=True)
        deadline = serializers.DateField()
        anonymous = serializers.BooleanField(default=False)

    @extend_schema(operation_id="wants_list", tags=TAGS, parameters=[FilterSerializer],
                   responses=paginated(WantSerializer), summary="Open wants of the exchange, newest first")
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.open_wants(q=filters.validated_data.get("q", ""),
                                  class_filter=filters.validated_data.get("classes", ""))
        return self.paginate(qs, WantSerializer, ordering=("-created_at", "-id"))

    @extend_schema(operation_id="wants_create", tags=TAGS, request=InputSerializer,
                   responses={201: WantDetailSerializer}, summary="Post a want (matched at once)",
                   examples=[OpenApiExample("Battery electrodes", request_only=True, value={
                       "title": "Battery electrode coating", "keywords": "lithium electrode",
                       "classes": "H01M 4/13", "deal_type": "any", "budget_max_minor": 8000000,
                       "deadline": "2027-03-31"})])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        want = D.want_create(actor=self.actor, organization=self.organization, data=D.WantInput(**data.validated_data))
        return Response(WantDetailSerializer(want, context={"organization": self.organization}).data,
                        status=status.HTTP_201_CREATED, headers={"Location": f"/api/v1/wants/{want.pk}"})


class WantDetailApi(PartnerAPIView):
    @extend_schema(operation_id="wants_retrieve", tags=TAGS, responses=WantDetailSerializer,
                   summary="A want; its ranked, explained matches when your organization posted it")
    def get(self, request, pk):
        want = Want.objects.filter(pk=pk).select_related("buyer_org").first()
        if want is None or (want.state != Want.State.OPEN and want.buyer_org_id != self.organization.pk):
            raise Http404
        return Response(WantDetailSerializer(want, context={"organization": self.organization}).data)


class AuctionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    listing_id = serializers.IntegerField()
    state = serializers.CharField()
    currency = serializers.CharField()
    start_price_minor = serializers.IntegerField()
    increment_minor = serializers.IntegerField()
    deposit_minor = serializers.IntegerField()
    current_price_minor = serializers.IntegerField()
    minimum_bid_minor = serializers.IntegerField()
    bid_count = serializers.IntegerField()
    reserve_met = serializers.BooleanField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    counter_offer = serializers.SerializerMethodField()
    deposit_forfeit_share_bps = serializers.SerializerMethodField(
        help_text="The exchange's share of a defaulting winner's forfeited deposit (the seller gets the rest); "
                  "null: the order's commission rate")

    def get_deposit_forfeit_share_bps(self, obj) -> int | None:
        return obj.tenant.deposit_forfeit_share_bps

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_counter_offer(self, obj) -> dict | None:
        """The seller's price below the reserve: shown to the seller and the highest bidder only."""
        org_id = self.context.get("organization_id")
        offer = obj.counter_offers.first() if obj.state != Auction.State.OPEN else None
        if offer is None or org_id not in (obj.seller_org_id, offer.bidder_org_id):
            return None
        return dict(CounterOfferSerializer(offer).data)


class CounterOfferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    auction_id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=CounterOffer.State.choices)
    price_minor = serializers.IntegerField()
    bid_minor = serializers.IntegerField(source="bid.amount_minor")
    deadline = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)


def auction_for_key(view, pk) -> Auction:
    """Open auctions are public in the exchange; an ended one only to its seller and its bidders."""
    auction = Auction.objects.filter(pk=pk).first()
    if auction is None:
        raise Http404
    org_id = view.organization.pk
    if auction.state != Auction.State.OPEN and auction.seller_org_id != org_id and \
            not auction.bids.filter(bidder_org_id=org_id).exists():
        raise Http404
    return auction


class AuctionDetailApi(PartnerAPIView):
    @extend_schema(operation_id="auctions_retrieve", tags=TAGS, responses=AuctionSerializer,
                   summary="An auction: price, minimum next bid, end (moves on with late bids)")
    def get(self, request, pk):
        return Response(AuctionSerializer(auction_for_key(self, pk),
                                          context={"organization_id": self.organization.pk}).data)


class AuctionBidApi(PartnerAPIView):
    write_scope = Scope.ORDERS

    class InputSerializer(serializers.Serializer):
        amount_minor = serializers.IntegerField(min_value=1, max_value=10**15)

    @extend_schema(operation_id="auctions_bid", tags=TAGS, request=InputSerializer, responses={201: AuctionSerializer},
                   summary="Bid (your organization's deposit must be held)")
    def post(self, request, pk):
        auction = auction_for_key(self, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        A.bid_place(auction=auction, actor=self.actor, amount_minor=data.validated_data["amount_minor"])
        auction.refresh_from_db()
        return Response(AuctionSerializer(auction, context={"organization_id": self.organization.pk}).data,
                        status=status.HTTP_201_CREATED)


class AuctionCounterOfferApi(PartnerAPIView):
    """Below the reserve, the seller proposes a price (at least the highest bid) to the highest bidder."""

    write_scope = Scope.ORDERS

    class InputSerializer(serializers.Serializer):
        price_minor = serializers.IntegerField(min_value=1, max_value=10**15)
        hours = serializers.IntegerField(min_value=CO.MIN_HOURS, max_value=CO.MAX_HOURS, default=48,
                                         help_text="How long the highest bidder has to answer")

    @extend_schema(operation_id="auctions_counter_offer", tags=TAGS, request=InputSerializer,
                   responses={201: CounterOfferSerializer},
                   summary="Seller: propose a price to the highest bidder after the auction ended below the reserve")
    def post(self, request, pk):
        auction = auction_for_key(self, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        offer = CO.counter_offer_make(auction=auction, actor=self.actor, price_minor=data.validated_data["price_minor"],
                                      hours=data.validated_data["hours"])
        return Response(CounterOfferSerializer(offer).data, status=status.HTTP_201_CREATED)


class AuctionCounterOfferAnswerApi(PartnerAPIView):
    """The highest bidder accepts the seller's price (→ the escrowed order, the deposit counting) or declines."""

    write_scope = Scope.ORDERS

    class InputSerializer(serializers.Serializer):
        accept = serializers.BooleanField()

    @extend_schema(operation_id="auctions_counter_offer_answer", tags=TAGS, request=InputSerializer,
                   responses={200: CounterOfferSerializer},
                   summary="Highest bidder: accept or decline the seller's price")
    def post(self, request, pk):
        auction = auction_for_key(self, pk)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        offer = CO.counter_offer_answer(auction=auction, actor=self.actor, accept=data.validated_data["accept"])
        offer.refresh_from_db()
        return Response(CounterOfferSerializer(offer).data)
