"""The market in the partner API: register look-up, listing search and a published listing.
Views parse, call a selector or service, serialise."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.translation import get_language
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.api import messages as M
from core.api.base import PartnerAPIView
from core.api.pagination import paginated
from core.errors import NotFound, ValidationFailed
from core.tenancy import require_tenant
from listings.models import Jurisdiction, Listing, RightKind
from listings.search import SORTS, TERM_FILTERS, SearchParams, api_search
from listings.selectors import listing_for_viewer
from rights.registry import get_register

from .seller import MAX_PRICE
from .serializers import (
    ListingDetailSerializer,
    ListingSummarySerializer,
    OwnListingSerializer,
    RegisterRecordSerializer,
)

REGISTER = ["register"]
MARKET = ["listings"]


# --- register ---------------------------------------------------------------------------------

class RegisterLookupApi(PartnerAPIView):
    """Find a right in the register by its number, typed in any accepted form."""

    error_codes = ("404",)

    class FilterSerializer(serializers.Serializer):
        number = serializers.CharField(max_length=100, help_text="e.g. ZL 2012 1 0379921.4, US 10,123,456 B2, 第12345678号")
        jurisdiction = serializers.ChoiceField(choices=Jurisdiction.choices, required=False)
        kind = serializers.ChoiceField(choices=RightKind.choices, required=False)

    class OutputSerializer(serializers.Serializer):
        query = serializers.CharField()
        record = RegisterRecordSerializer()

    @extend_schema(operation_id="register_lookup", tags=REGISTER, parameters=[FilterSerializer],
                   responses=OutputSerializer, summary="Look up a right by number")
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        lookup = get_register().lookup(data["number"], jurisdiction=data.get("jurisdiction"), kind=data.get("kind"))
        if lookup.record is None:
            error_class = NotFound if lookup.parsed else ValidationFailed  # unreadable number: bad input
            raise error_class(lookup.error or M.NOT_FOUND, field_errors={"number": [str(lookup.error)]})
        return Response(self.OutputSerializer({"query": data["number"], "record": lookup.record}).data)


# --- market -------------------------------------------------------------------------------------

SEARCH_CACHE_SECONDS = 30  # as the website's search page (listings.views.browse.search: s-maxage)


class ListingSearchApi(PartnerAPIView):
    """Published listings of the exchange, with the website's filters and sorts, cursor-paginated."""

    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                  help_text="Words (title, owner, abstract, tags) or a right's number")
        kind = serializers.ChoiceField(choices=RightKind.choices, required=False)
        jurisdiction = serializers.ChoiceField(choices=Jurisdiction.choices, required=False)
        deal_type = serializers.ChoiceField(choices=Listing.DealType.choices, required=False)
        price_min = serializers.IntegerField(required=False, min_value=0, max_value=MAX_PRICE,
                                             help_text="Minor units (e.g. fen)")
        price_max = serializers.IntegerField(required=False, min_value=0, max_value=MAX_PRICE,
                                             help_text="Minor units (e.g. fen)")
        term = serializers.ChoiceField(choices=sorted(TERM_FILTERS), required=False,
                                       help_text="At least this many years of protection left")
        sort = serializers.ChoiceField(choices=SORTS, required=False,
                                       help_text="Default: relevance with q, else newest (relevance over "
                                                 "more than 2,000 matches: newest)")

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["class"] = serializers.CharField(
                required=False, allow_blank=True, max_length=20,
                help_text="IPC/Locarno class prefix or Nice class, e.g. H04L or 09")

    @extend_schema(operation_id="listings_search", tags=MARKET, parameters=[
        FilterSerializer,
        OpenApiParameter("class", str, description="IPC/Locarno class prefix or Nice class, e.g. H04L or 09"),
    ], responses=paginated(ListingSummarySerializer), summary="Search published listings")
    def get(self, request):
        # The page is the same for every partner of the exchange (published listings only, nothing of the
        # caller in it): kept, as the JSON sent, as long as the website's search page (s-maxage 30),
        # PUBLIC_PAGE_CACHE_SECONDS at most, per URL and language. The key and its scopes are checked and
        # the call counted by the throttle before this; a URL is kept only once its filters were valid.
        key = self._cache_key(request)
        if key and (content := cache.get(key)) is not None:
            return HttpResponse(content, content_type=request.accepted_renderer.media_type)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = dict(filters.validated_data)
        klass = data.pop("class", "")
        params = SearchParams(klass=klass or "", **{k: v for k, v in data.items() if v not in (None, "")})
        queryset, ordering = api_search(params)  # every ordering served by an index (listings.search)
        response = self.paginate(queryset, ListingSummarySerializer, ordering=ordering)
        if key:
            content = request.accepted_renderer.render(response.data, request.accepted_media_type,
                                                       self.get_renderer_context())
            cache.set(key, content, self._cache_seconds())
            return HttpResponse(content, content_type=request.accepted_renderer.media_type)
        return response

    @staticmethod
    def _cache_seconds() -> int:
        return min(SEARCH_CACHE_SECONDS, getattr(settings, "PUBLIC_PAGE_CACHE_SECONDS", 0))

    def _cache_key(self, request) -> str:
        if self._cache_seconds() <= 0 or request.accepted_renderer.format != "json":
            return ""
        url = f"{get_language()}|{request.build_absolute_uri()}"  # host too: the next-page links name it
        return f"api:listing-search:{require_tenant().pk}:{hashlib.sha256(url.encode()).hexdigest()[:40]}"


class ListingDetailApi(PartnerAPIView):
    @extend_schema(operation_id="listings_retrieve", tags=MARKET, responses=ListingDetailSerializer,
                   summary="A published listing (or one of your own)")
    def get(self, request, pk):
        listing = listing_for_viewer(pk=pk, user=self.actor)
        if listing.seller_org_id == self.organization.pk:
            return Response(OwnListingSerializer(listing).data)
        return Response(ListingDetailSerializer(listing).data)
