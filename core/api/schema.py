"""OpenAPI for the partner API: the key scheme, the `Idempotency-Key` header on every POST and the
problem-details responses every operation can give, so generated clients (and schemathesis) know
every status code the API may answer."""

from typing import Any, Literal

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from .problems import PROBLEM_CONTENT_TYPE


class ProblemSerializer(serializers.Serializer[Any]):
    """Problem details (RFC 9457)."""

    type = serializers.CharField(help_text="URI naming the kind of problem, e.g. urn:ipex:problem:invalid")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(help_text="Path of the request")
    code = serializers.CharField(help_text="Stable machine-readable code")
    errors = serializers.DictField(  # type: ignore[assignment]  # a field named like Serializer.errors
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text='Messages per field; nested fields are dotted ("rights.0.number"), "_" is the whole request.',
    )
    retry_after = serializers.IntegerField(required=False, help_text="Seconds to wait (429 only)")


class BulkRowErrorSerializer(serializers.Serializer[Any]):
    row = serializers.IntegerField(help_text="1-based row number (the CSV header is row 0)")
    field = serializers.CharField()
    message = serializers.CharField()


class BulkProblemSerializer(ProblemSerializer):
    row_errors = BulkRowErrorSerializer(many=True, required=False)


ERROR_DESCRIPTIONS = {
    "400": "Invalid input (field messages in `errors`)",
    "401": "Missing, invalid, revoked or expired API key, or key of another exchange",
    "403": "The key lacks the scope, or the organization may not do this",
    "404": "Not found (or not visible to this key's organization)",
    "406": "Unsupported Accept header",
    "409": "Not possible in the current state, a race lost, or an Idempotency-Key in progress",
    "413": "Request body too large",
    "415": "Unsupported Content-Type",
    "422": "Idempotency-Key reused with a different request",
    "429": "Too many requests for this key (see Retry-After)",
    "502": "An outside system (payment provider, office, register) failed",
}


class PartnerAutoSchema(AutoSchema):
    def _is_partner_view(self) -> bool:
        from .base import PartnerAPIView

        return isinstance(self.view, PartnerAPIView)

    def get_override_parameters(self) -> list[Any]:
        params = list(super().get_override_parameters())
        response = self.get_response_serializers() if self._is_partner_view() else None
        if self.method == "GET" and getattr(response, "__name__", "").startswith("Paginated"):
            params += [
                OpenApiParameter("cursor", str, description="Opaque cursor from `next` / `previous`"),
                OpenApiParameter("page_size", int, description="1 to 200 (default 50)"),
            ]
        if self.method == "POST" and self._is_partner_view():
            params.append(OpenApiParameter(
                "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
                description="Any unique string (e.g. a UUID), at most 255 characters. The same key with the "
                            "same body returns the first response (with `Idempotent-Replayed: true`); with "
                            "another body, 422. Kept for 24 hours per API key.",
            ))
        return params

    def get_serializer_name(self, serializer: Any, direction: str) -> str:
        """HackSoft-style nested serializers (`OrderPlaceApi.InputSerializer`) are named after their
        view (`OrderPlaceInput`), so the many `InputSerializer`s never clash as components."""
        cls: type[Any] = serializer.__class__
        parts = cls.__qualname__.split(".")
        if len(parts) > 1:
            outer = parts[-2].removesuffix("Api")
            return outer + parts[-1].removesuffix("Serializer")
        return cls.__name__.removesuffix("Serializer") or cls.__name__

    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "406", "429"]
        if "{" in self.path:
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            codes += ["404", "409", "413", "415", "502"]
        if self.method == "POST":
            codes.append("422")
        codes += list(getattr(self.view, "error_codes", ()))
        return sorted(set(codes))

    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if not self._is_partner_view():
            return responses
        problem = getattr(self.view, "problem_serializer", ProblemSerializer)
        for code in self._error_codes():
            if code in responses:
                continue
            response = self._get_response_for_code(  # type: ignore[no-untyped-call]  # unannotated in drf-spectacular
                problem, code, media_types=(PROBLEM_CONTENT_TYPE,), direction=direction)
            response["description"] = ERROR_DESCRIPTIONS[code]
            responses[code] = response
        return responses


class PartnerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.authentication.PartnerKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Authorization: Api-Key <prefix>.<secret>` — the key a tenant administrator issued "
                           "to your organization. The key decides the exchange: call the API on that "
                           "exchange's host name.",
        }
