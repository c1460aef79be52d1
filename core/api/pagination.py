from typing import Any

from rest_framework import exceptions
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request


class PartnerCursorPagination(CursorPagination):
    """Opaque `cursor`; views order by a unique key last (e.g. `-id`) so pages never skip or repeat."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as exc:  # a malformed cursor is bad input (400), not a missing page
            raise exceptions.ValidationError({self.cursor_query_param: [exc.detail]}) from None


_paginated: dict[type[Any], type[Any]] = {}


def paginated(serializer_class: type[Any]) -> type[Any]:
    """The schema of a cursor page of `serializer_class` (for `extend_schema(responses=...)`)."""
    from rest_framework import serializers

    if serializer_class not in _paginated:
        base = serializer_class.__name__.removesuffix("Serializer")
        _paginated[serializer_class] = type(f"Paginated{base}List", (serializers.Serializer,), {
            "__module__": __name__,
            "__doc__": f"A page of {base}; follow `next` (an opaque cursor URL) until it is null.",
            "next": serializers.URLField(allow_null=True, help_text="The next page, or null on the last one"),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        })
    return _paginated[serializer_class]
