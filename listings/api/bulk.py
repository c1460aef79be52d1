"""Bulk import of listings in the partner API (CSV or JSON rows; dry run; every row reported)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import parsers, serializers, status
from rest_framework.response import Response

from core.api import messages as M
from core.api.base import PartnerAPIView
from core.api.parsers import MAX_DEPTH, SafeJSONParser, _depth_exceeds
from core.api.problems import flatten_errors
from core.errors import ValidationFailed
from core.text import LONG_TEXT, validate_single_line
from listings.models import Jurisdiction, Listing, RightKind
from partners.models import Scope

from .seller import MAX_PRICE, SELLER

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
    title = serializers.CharField(max_length=300, required=False, allow_blank=True,
                                  validators=[validate_single_line])
    price_minor = serializers.IntegerField(min_value=1, max_value=MAX_PRICE, required=False,
                                           help_text="Price in minor units; or give `price`")
    price = serializers.CharField(max_length=30, required=False,
                                  help_text='Price in major units, e.g. "120000.00"; or give `price_minor`')
    deal_type = serializers.ChoiceField(choices=Listing.DealType.choices, required=False)
    description = serializers.CharField(max_length=LONG_TEXT, required=False, allow_blank=True)
    licence_term_months = serializers.IntegerField(min_value=1, max_value=1200, required=False)
    licence_territory = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                              validators=[validate_single_line])
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
    parser_classes = [SafeJSONParser, CSVTextParser, parsers.MultiPartParser]

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
        from listings.bulk import MAX_BYTES, MAX_ROWS, listing_bulk_import, parse_csv

        rows, submit, dry_run = self._rows(request, parse_csv, MAX_BYTES)
        if len(rows) > MAX_ROWS:  # before any row is checked or looked up
            raise ValidationFailed(M.TOO_MANY_ROWS % {"n": MAX_ROWS}, field_errors={"rows": [M.TOO_MANY_ROWS_SHORT]})
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

        from listings.bulk import MAX_ROWS

        def flag(value):
            return str(value).lower() in ("1", "true", "yes", "on")

        data = request.data
        if "csv" in data and isinstance(data.get("csv"), str):  # text/csv body
            if len(data["csv"]) > max_bytes:
                raise ValidationFailed(M.FILE_TOO_LARGE, field_errors={"file": [M.TOO_LARGE]})
            return parse_csv(data["csv"], limit=MAX_ROWS + 1), flag(request.query_params.get("submit")), \
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
                    if _depth_exceeds(text, MAX_DEPTH):
                        raise ValueError("nested too deeply")
                    parsed = json.loads(text)
                except (ValueError, RecursionError):
                    raise ValidationFailed(M.JSON_INVALID, field_errors={"file": [M.INVALID_JSON]}) \
                        from None
                rows = parsed.get("rows") if isinstance(parsed, dict) else parsed
                if not isinstance(rows, list):
                    raise ValidationFailed(M.JSON_ROWS_EXPECTED, field_errors={"file": [M.NO_ROWS]})
                return rows, submit, dry_run
            return parse_csv(text, limit=MAX_ROWS + 1), submit, dry_run
        if hasattr(data, "getlist") and not isinstance(data, dict):
            raise ValidationFailed(M.UPLOAD_FILE_FIELD, field_errors={"file": [M.REQUIRED]})
        body = self.JSONInputSerializer(data=data)
        body.is_valid(raise_exception=True)
        return body.validated_data["rows"], body.validated_data["submit"], body.validated_data["dry_run"]
