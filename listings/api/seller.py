"""The organization's own listings in the partner API: create, read, update, submit, withdraw."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from core.api.base import PartnerAPIView
from core.api.pagination import paginated
from core.errors import ValidationFailed
from core.text import LONG_TEXT, validate_single_line
from listings.models import Jurisdiction, Listing, RegisterRecord, RightKind
from listings.selectors import seller_listings
from listings.services import (
    ListingInput,
    listing_create_from_register,
    listing_submit,
    listing_update,
    listing_withdraw,
)
from partners.models import Scope
from rights.registry import get_register

from .serializers import (
    OwnListingSerializer,
)

SELLER = ["seller listings"]
MAX_PRICE = 10**15


# --- the organization's listings ------------------------------------------------------------------

class RightRefSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=100)
    jurisdiction = serializers.ChoiceField(choices=Jurisdiction.choices, required=False)
    kind = serializers.ChoiceField(choices=RightKind.choices, required=False)


class ListingWriteSerializer(serializers.Serializer):
    rights = RightRefSerializer(many=True, min_length=1, max_length=50,
                                help_text="The right(s) sold: one, or a package")
    title = serializers.CharField(max_length=300, required=False, allow_blank=True, validators=[validate_single_line],
                                  help_text="Default: the first right's title in the register")
    description = serializers.CharField(max_length=LONG_TEXT, required=False, allow_blank=True, default="")
    price_minor = serializers.IntegerField(min_value=1, max_value=MAX_PRICE, help_text="In the exchange's currency")
    deal_type = serializers.ChoiceField(choices=Listing.DealType.choices, default=Listing.DealType.ASSIGNMENT)
    licence_term_months = serializers.IntegerField(min_value=1, max_value=1200, required=False, allow_null=True)
    licence_territory = serializers.CharField(max_length=200, validators=[validate_single_line], required=False, allow_blank=True, default="")
    industry_tags = serializers.ListField(child=serializers.CharField(max_length=50, validators=[validate_single_line]), max_length=10, required=False,
                                         default=list)


class ListingUpdateSerializer(serializers.Serializer):
    """Only the fields given change (not `partial=True`: that would make a right's number optional)."""

    rights = RightRefSerializer(many=True, min_length=1, max_length=50, required=False)
    title = serializers.CharField(max_length=300, required=False, validators=[validate_single_line])
    description = serializers.CharField(max_length=LONG_TEXT, required=False, allow_blank=True)
    price_minor = serializers.IntegerField(min_value=1, max_value=MAX_PRICE, required=False)
    deal_type = serializers.ChoiceField(choices=Listing.DealType.choices, required=False)
    licence_term_months = serializers.IntegerField(min_value=1, max_value=1200, required=False, allow_null=True)
    licence_territory = serializers.CharField(max_length=200, validators=[validate_single_line], required=False, allow_blank=True)
    industry_tags = serializers.ListField(child=serializers.CharField(max_length=50, validators=[validate_single_line]), max_length=10, required=False)


def resolve_rights(rights: list[dict], *, field: str = "rights") -> list[RegisterRecord]:
    """Register records for the numbers given; every unknown number reported by position."""
    register = get_register()
    records, errors = [], {}
    for index, ref in enumerate(rights):
        lookup = register.lookup(ref["number"], jurisdiction=ref.get("jurisdiction"), kind=ref.get("kind"))
        if lookup.record is None:
            errors[f"{field}.{index}.number"] = [str(lookup.error)]
        else:
            records.append(lookup.record)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], field_errors=errors)
    return records


def _input(data: dict, *, records, listing: Listing | None = None) -> ListingInput:
    def pick(name, default):
        return data[name] if name in data else (getattr(listing, name) if listing is not None else default)

    title = pick("title", "") or (records[0].title if records else (listing.title if listing else ""))
    return ListingInput(
        title=title, price_minor=pick("price_minor", 0), deal_type=pick("deal_type", "assignment"),
        description=pick("description", ""), licence_term_months=pick("licence_term_months", None),
        licence_territory=pick("licence_territory", ""), industry_tags=tuple(pick("industry_tags", ())),
    )


def own_listing(view, pk) -> Listing:
    listing = Listing.objects.filter(pk=pk, seller_org=view.organization).first()
    if listing is None:
        raise Http404
    return listing


LISTING_EXAMPLE = OpenApiExample(
    "One invention patent for assignment",
    value={"rights": [{"number": "ZL 2012 1 0379921.4"}], "price_minor": 12000000, "deal_type": "assignment",
           "description": "Granted 2015, maintained, no licences.", "industry_tags": ["batteries"]},
    request_only=True,
)


class SellerListingListCreateApi(PartnerAPIView):
    write_scope = Scope.LISTINGS

    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=Listing.State.choices, required=False)

    @extend_schema(operation_id="seller_listings_list", tags=SELLER, parameters=[FilterSerializer],
                   responses=paginated(OwnListingSerializer), summary="Your organization's listings, any state")
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = seller_listings(self.organization).select_related("seller_org")
        if filters.validated_data.get("state"):
            queryset = queryset.filter(state=filters.validated_data["state"])
        return self.paginate(queryset, OwnListingSerializer, ordering=("-updated_at", "-id"))

    @extend_schema(operation_id="seller_listings_create", tags=SELLER, request=ListingWriteSerializer,
                   responses={201: OwnListingSerializer}, examples=[LISTING_EXAMPLE],
                   summary="Create a draft listing from register numbers")
    def post(self, request):
        data = ListingWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        records = resolve_rights(data.validated_data["rights"])
        listing = listing_create_from_register(actor=self.actor, organization=self.organization, records=records,
                                               data=_input(data.validated_data, records=records))
        listing = own_listing(self, listing.pk)
        return Response(OwnListingSerializer(listing).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"/api/v1/seller/listings/{listing.pk}"})


class SellerListingDetailApi(PartnerAPIView):
    write_scope = Scope.LISTINGS

    @extend_schema(operation_id="seller_listings_retrieve", tags=SELLER, responses=OwnListingSerializer)
    def get(self, request, pk):
        return Response(OwnListingSerializer(own_listing(self, pk)).data)

    @extend_schema(operation_id="seller_listings_update", tags=SELLER, request=ListingUpdateSerializer,
                   responses=OwnListingSerializer, summary="Change a draft or rejected listing")
    def patch(self, request, pk):
        listing = own_listing(self, pk)
        data = ListingUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        records = resolve_rights(data.validated_data["rights"]) if "rights" in data.validated_data else None
        listing = listing_update(listing=listing, actor=self.actor, records=records,
                                 data=_input(data.validated_data, records=records or [], listing=listing))
        return Response(OwnListingSerializer(own_listing(self, listing.pk)).data)


class SellerListingSubmitApi(PartnerAPIView):
    write_scope = Scope.LISTINGS

    @extend_schema(operation_id="seller_listings_submit", tags=SELLER, request=None, responses=OwnListingSerializer,
                   summary="Submit for verification by the exchange")
    def post(self, request, pk):
        listing = listing_submit(listing=own_listing(self, pk), actor=self.actor)
        return Response(OwnListingSerializer(own_listing(self, listing.pk)).data)


class SellerListingWithdrawApi(PartnerAPIView):
    write_scope = Scope.LISTINGS

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")

    @extend_schema(operation_id="seller_listings_withdraw", tags=SELLER, request=InputSerializer,
                   responses=OwnListingSerializer, summary="Take a listing off the market")
    def post(self, request, pk):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        listing = listing_withdraw(listing=own_listing(self, pk), actor=self.actor, reason=data.validated_data["reason"])
        return Response(OwnListingSerializer(own_listing(self, listing.pk)).data)
