"""Listings in the partner API: register look-up, market search, the organization's own listings
(create, update, submit, withdraw) and bulk import. Views parse, call a selector or service, serialise."""

from __future__ import annotations

import datetime

from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import parsers, serializers, status
from rest_framework.response import Response

from core.api import messages as M
from core.api.base import PartnerAPIView
from core.api.pagination import paginated
from core.api.problems import flatten_errors
from core.errors import NotFound, ValidationFailed
from listings.models import Jurisdiction, Listing, RegisterRecord, RightKind
from listings.search import SORTS, TERM_FILTERS, SearchParams
from listings.selectors import listing_for_viewer, seller_listings
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
    ListingDetailSerializer,
    ListingSummarySerializer,
    OwnListingSerializer,
    RegisterRecordSerializer,
)

REGISTER = ["register"]
MARKET = ["listings"]
SELLER = ["seller listings"]
MAX_PRICE = 10**15


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

    ORDERINGS = {
        "newest": ("-published_key", "-id"),
        "price_asc": ("price_minor", "id"),
        "price_desc": ("-price_minor", "-id"),
        "term": ("-term_key", "-id"),
        "relevance": ("-rank", "-published_key", "-id"),
    }

    @staticmethod
    def _too_many(queryset) -> bool:
        from listings.search import EXACT_FACETS_UP_TO

        return queryset.order_by().values("pk")[:EXACT_FACETS_UP_TO + 1].count() > EXACT_FACETS_UP_TO

    @extend_schema(operation_id="listings_search", tags=MARKET, parameters=[
        FilterSerializer,
        OpenApiParameter("class", str, description="IPC/Locarno class prefix or Nice class, e.g. H04L or 09"),
    ], responses=paginated(ListingSummarySerializer), summary="Search published listings")
    def get(self, request):
        from django.contrib.postgres.search import SearchRank

        from listings.search import matching_listings

        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = dict(filters.validated_data)
        klass = data.pop("class", "")
        params = SearchParams(klass=klass or "", **{k: v for k, v in data.items() if v not in (None, "")})
        queryset, text_query, is_number = matching_listings(params)
        if is_number:  # as the website: a number's few matches by id first (GIN), then sorted
            ids = list(queryset.order_by().values_list("pk", flat=True)[:500])
            queryset = Listing.objects.filter(pk__in=ids)
        sort = params.effective_sort()
        if sort == "relevance" and (text_query is None or self._too_many(queryset)):
            sort = "newest"  # as the website: ranking very many matches would read them all
        queryset = queryset.annotate(published_key=Coalesce("published_at", "created_at"),
                                     term_key=Coalesce("expiry_date", Value(datetime.date(1, 1, 1))))
        if sort == "relevance":
            queryset = queryset.annotate(rank=SearchRank(F("search_document"), text_query))
        queryset = queryset.defer("search_document", "description", "verification").select_related("seller_org")
        return self.paginate(queryset, ListingSummarySerializer, ordering=self.ORDERINGS[sort])


class ListingDetailApi(PartnerAPIView):
    @extend_schema(operation_id="listings_retrieve", tags=MARKET, responses=ListingDetailSerializer,
                   summary="A published listing (or one of your own)")
    def get(self, request, pk):
        listing = listing_for_viewer(pk=pk, user=self.actor)
        if listing.seller_org_id == self.organization.pk:
            return Response(OwnListingSerializer(listing).data)
        return Response(ListingDetailSerializer(listing).data)


# --- the organization's listings ------------------------------------------------------------------

class RightRefSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=100)
    jurisdiction = serializers.ChoiceField(choices=Jurisdiction.choices, required=False)
    kind = serializers.ChoiceField(choices=RightKind.choices, required=False)


class ListingWriteSerializer(serializers.Serializer):
    rights = RightRefSerializer(many=True, min_length=1, max_length=50,
                                help_text="The right(s) sold: one, or a package")
    title = serializers.CharField(max_length=300, required=False, allow_blank=True,
                                  help_text="Default: the first right's title in the register")
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    price_minor = serializers.IntegerField(min_value=1, max_value=MAX_PRICE, help_text="In the exchange's currency")
    deal_type = serializers.ChoiceField(choices=Listing.DealType.choices, default=Listing.DealType.ASSIGNMENT)
    licence_term_months = serializers.IntegerField(min_value=1, max_value=1200, required=False, allow_null=True)
    licence_territory = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    industry_tags = serializers.ListField(child=serializers.CharField(max_length=50), max_length=10, required=False,
                                         default=list)


class ListingUpdateSerializer(serializers.Serializer):
    """Only the fields given change (not `partial=True`: that would make a right's number optional)."""

    rights = RightRefSerializer(many=True, min_length=1, max_length=50, required=False)
    title = serializers.CharField(max_length=300, required=False)
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    price_minor = serializers.IntegerField(min_value=1, max_value=MAX_PRICE, required=False)
    deal_type = serializers.ChoiceField(choices=Listing.DealType.choices, required=False)
    licence_term_months = serializers.IntegerField(min_value=1, max_value=1200, required=False, allow_null=True)
    licence_territory = serializers.CharField(max_length=200, required=False, allow_blank=True)
    industry_tags = serializers.ListField(child=serializers.CharField(max_length=50), max_length=10, required=False)


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


# --- bulk import ----------------------------------------------------------------------------------

class CSVTextParser(parsers.BaseParser):
    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            return {"csv": raw.decode("utf-8-sig")}
        except UnicodeDecodeError:
            raise parsers.ParseError(M.CSV_NOT_UTF8) from None


class BulkRowSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=1000, help_text='One number, or a package: numbers separated by ";"')
    jurisdiction = serializers.ChoiceField(choices=Jurisdiction.choices, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=RightKind.choices, required=False, allow_blank=True)
    title = serializers.CharField(max_length=300, required=False, allow_blank=True)
    price_minor = serializers.IntegerField(min_value=1, max_value=MAX_PRICE, required=False,
                                           help_text="Price in minor units; or give `price`")
    price = serializers.CharField(max_length=30, required=False,
                                  help_text='Price in major units, e.g. "120000.00"; or give `price_minor`')
    deal_type = serializers.ChoiceField(choices=Listing.DealType.choices, required=False)
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    licence_term_months = serializers.IntegerField(min_value=1, max_value=1200, required=False)
    licence_territory = serializers.CharField(max_length=200, required=False, allow_blank=True)
    industry_tags = serializers.JSONField(required=False, help_text='A list, or text separated by ";"')

    def validate_industry_tags(self, value):
        if isinstance(value, str):
            value = [t for t in value.replace("|", ";").split(";")]
        if not isinstance(value, list) or not all(isinstance(t, str) and len(t) <= 50 and "\x00" not in t
                                                  and t.isprintable() for t in value):
            raise serializers.ValidationError(M.TAGS)
        return [t.strip() for t in value if t.strip()][:10]

    def validate(self, attrs):
        from listings.bulk import split_numbers

        if "price_minor" not in attrs and not attrs.get("price"):
            raise serializers.ValidationError({"price_minor": [M.PRICE_REQUIRED]})
        attrs["numbers"] = split_numbers(attrs["number"])
        if not attrs["numbers"]:
            raise serializers.ValidationError({"number": [M.REQUIRED]})
        if len(attrs["numbers"]) > 50:
            raise serializers.ValidationError({"number": [M.TOO_MANY_RIGHTS]})
        return attrs


class BulkImportApi(PartnerAPIView):
    """All rows or nothing: every row's errors come back by row and field (problem `row_errors`)."""

    write_scope = Scope.LISTINGS
    parser_classes = [parsers.JSONParser, CSVTextParser, parsers.MultiPartParser]

    class JSONInputSerializer(serializers.Serializer):
        rows = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=1000,
                                     help_text="Up to 1,000 rows; fields as in the CSV columns")
        submit = serializers.BooleanField(default=False, help_text="Also submit every listing for verification")
        dry_run = serializers.BooleanField(default=False, help_text="Check everything, store nothing")

    class OutputSerializer(serializers.Serializer):
        dry_run = serializers.BooleanField()
        count = serializers.IntegerField()
        listings = inline_serializer("BulkImportedListing", {
            "row": serializers.IntegerField(), "id": serializers.IntegerField(allow_null=True),
            "title": serializers.CharField(), "state": serializers.CharField(),
        }, many=True)

    @extend_schema(
        operation_id="seller_listings_import", tags=SELLER,
        request={"application/json": JSONInputSerializer,
                 "text/csv": {"type": "string", "description": "CSV with a header row; columns as the JSON row fields"},
                 "multipart/form-data": inline_serializer("BulkImportUpload", {
                     "file": serializers.FileField(help_text="CSV (UTF-8) or JSON list of rows"),
                     "submit": serializers.BooleanField(required=False),
                     "dry_run": serializers.BooleanField(required=False)})},
        parameters=[OpenApiParameter("submit", bool, description="(CSV body) submit every listing too"),
                    OpenApiParameter("dry_run", bool, description="(CSV body) check only")],
        responses={201: OutputSerializer, 200: OutputSerializer},
        examples=[OpenApiExample("Two listings", request_only=True, media_type="application/json", value={
            "rows": [{"number": "ZL 2012 1 0379921.4", "price_minor": 12000000},
                     {"number": "第12345678号", "kind": "trademark", "price": "38000.00",
                      "deal_type": "non_exclusive_licence", "licence_term_months": 36,
                      "licence_territory": "mainland China"}],
            "submit": True}),
            OpenApiExample("CSV", request_only=True, media_type="text/csv", value=(
                "number,price,deal_type,industry_tags\nZL 2012 1 0379921.4,120000.00,assignment,batteries;energy\n"))],
        summary="Import a portfolio: up to 1,000 listings, all or nothing")
    def post(self, request):
        from listings.bulk import MAX_BYTES, listing_bulk_import, parse_csv

        rows, submit, dry_run = self._rows(request, parse_csv, MAX_BYTES)
        row_errors, cleaned, numbers = [], [], []
        for index, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                row_errors.append({"row": index, "field": "_", "message": M.ROW_NOT_OBJECT})
                continue
            failed = False
            serializer = BulkRowSerializer(data=row)
            if not serializer.is_valid():
                failed = True
                for name, messages in flatten_errors(serializer.errors).items():
                    row_errors += [{"row": index, "field": name, "message": m} for m in messages]
            if "_extra" in row:
                failed = True
                row_errors.append({"row": index, "field": "_", "message": M.EXTRA_CELLS})
            for name in sorted(set(row) - set(serializer.fields) - {"_extra"}):
                failed = True
                row_errors.append({"row": index, "field": name, "message": M.UNKNOWN_COLUMN})
            if not failed:
                cleaned.append(serializer.validated_data)
                numbers.append(index)
        result = listing_bulk_import(actor=self.actor, organization=self.organization, rows=cleaned, submit=submit,
                                     dry_run=dry_run, row_numbers=numbers, prior_errors=row_errors,
                                     total_rows=len(rows))
        body = {"dry_run": dry_run, "count": len(result.created), "listings": [
            {"row": row, "id": None if dry_run else listing.pk, "title": listing.title, "state": listing.state}
            for row, listing in result.created]}
        return Response(body, status=status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED)

    def _rows(self, request, parse_csv, max_bytes):
        import json

        def flag(value):
            return str(value).lower() in ("1", "true", "yes", "on")

        data = request.data
        if "csv" in data and isinstance(data.get("csv"), str):  # text/csv body
            if len(data["csv"]) > max_bytes:
                raise ValidationFailed(M.FILE_TOO_LARGE, field_errors={"file": [M.TOO_LARGE]})
            return parse_csv(data["csv"]), flag(request.query_params.get("submit")), \
                flag(request.query_params.get("dry_run"))
        if "file" in getattr(data, "keys", lambda: [])() and hasattr(data.get("file"), "read"):
            upload = data["file"]
            if upload.size > max_bytes:
                raise ValidationFailed(M.FILE_TOO_LARGE, field_errors={"file": [M.TOO_LARGE]})
            raw = upload.read()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationFailed(M.FILE_NOT_UTF8, field_errors={"file": [M.NOT_UTF8]}) from None
            submit = flag(data.get("submit", request.query_params.get("submit")))
            dry_run = flag(data.get("dry_run", request.query_params.get("dry_run")))
            if text.lstrip().startswith(("[", "{")):
                try:
                    parsed = json.loads(text)
                except ValueError:
                    raise ValidationFailed(M.JSON_INVALID, field_errors={"file": [M.INVALID_JSON]}) \
                        from None
                rows = parsed.get("rows") if isinstance(parsed, dict) else parsed
                if not isinstance(rows, list):
                    raise ValidationFailed(M.JSON_ROWS_EXPECTED, field_errors={"file": [M.NO_ROWS]})
                return rows, submit, dry_run
            return parse_csv(text), submit, dry_run
        if hasattr(data, "getlist") and not isinstance(data, dict):
            raise ValidationFailed(M.UPLOAD_FILE_FIELD, field_errors={"file": [M.REQUIRED]})
        body = self.JSONInputSerializer(data=data)
        body.is_valid(raise_exception=True)
        return body.validated_data["rows"], body.validated_data["submit"], body.validated_data["dry_run"]
