from rest_framework.pagination import CursorPagination


class PartnerCursorPagination(CursorPagination):
    """Opaque `cursor`; views order by a unique key last (e.g. `-id`) so pages never skip or repeat."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
