"""Messages of the API views (kept in the partners catalogue, so every app's `api/` shares them)."""

from django.utils.translation import gettext_lazy as _

NOT_FOUND = _("Not found.")
CSV_NOT_UTF8 = _("The CSV must be UTF-8.")
TAGS = _("A list of tags of at most 50 characters.")
PRICE_REQUIRED = _("Give price_minor or price.")
REQUIRED = _("Required.")
TOO_MANY_RIGHTS = _("At most 50 rights in a package.")
ROW_NOT_OBJECT = _("Each row must be an object.")
EXTRA_CELLS = _("More cells than columns.")
UNKNOWN_COLUMN = _("Unknown column.")
FILE_TOO_LARGE = _("The file is larger than 5 MB.")
TOO_LARGE = _("Too large.")
FILE_NOT_UTF8 = _("The file must be UTF-8.")
NOT_UTF8 = _("Not UTF-8.")
JSON_INVALID = _("The JSON file is not valid.")
INVALID_JSON = _("Invalid JSON.")
JSON_ROWS_EXPECTED = _("A JSON list of rows is expected.")
NO_ROWS = _("No rows.")
UPLOAD_FILE_FIELD = _("Upload the file in the `file` field.")
METHOD_NOT_OFFERED = _("This payment method is not offered.")
NOT_OFFERED = _("Not offered.")
