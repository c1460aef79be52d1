"""Path converters of the API: ids that fit PostgreSQL's bigint (a longer number is a 404, not a 500)."""


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return str(value)


class ReferenceConverter:
    """Order references such as IPX-2026-000123 (letters, digits, dashes)."""

    regex = "[A-Za-z0-9-]{1,20}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
