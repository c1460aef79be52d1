"""Deal terms of an offer: for licences the scope (exclusive, territory, field of use, term,
sublicensing) and the running royalty (rate, base, reporting period, minimum per period). Parsed from
what a person or a partner sends, with a clear message per field; stored as a plain dict."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from core.errors import ValidationFailed

ROYALTY_BASES = ("net_sales", "units", "gross_sales")
ROYALTY_PERIODS = ("quarter", "half_year", "year")
WORLD = {"WORLD", "WORLDWIDE", "GLOBAL", "全球", "全世界"}
MAX_TERM_MONTHS = 600
MAX_TEXT = 200


def _int(value, field, errors, *, minimum=0, maximum=None, default=None):
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[field] = [_("Enter a whole number.")]
        return default
    if isinstance(value, float) and value != number or number < minimum or (maximum is not None and number > maximum):
        errors[field] = [_("Enter a number between %(a)s and %(b)s.") % {"a": minimum, "b": maximum or "∞"}]
        return default
    return number


def clean_terms(listing, raw: dict | None) -> dict:
    """The terms of a deal on `listing`: {} for an assignment; for a licence its scope and royalty,
    defaulting to the listing's own (term, territory, field, sublicensing)."""
    raw = dict(raw or {})
    if listing.deal_type == "assignment":
        return {}
    errors: dict[str, list] = {}
    territory = str(raw.get("territory") or listing.licence_territory or "").strip()[:MAX_TEXT]
    field = str(raw.get("field") or listing.licence_field or "").strip()[:MAX_TEXT]
    if not territory:
        errors["territory"] = [_("Name the territory of the licence.")]
    term = _int(raw.get("term_months"), "term_months", errors, minimum=1, maximum=MAX_TERM_MONTHS,
                default=listing.licence_term_months)
    if not term:
        errors.setdefault("term_months", [_("A licence needs a term in months.")])
    royalty_bps = _int(raw.get("royalty_bps"), "royalty_bps", errors, minimum=0, maximum=5000, default=0)
    base = str(raw.get("royalty_base") or ("net_sales" if royalty_bps else "")).strip()
    period = str(raw.get("royalty_period") or ("year" if royalty_bps else "")).strip()
    if royalty_bps and base not in ROYALTY_BASES:
        errors["royalty_base"] = [_("Choose the royalty base: net sales, gross sales or units.")]
    if royalty_bps and period not in ROYALTY_PERIODS:
        errors["royalty_period"] = [_("Choose the reporting period: quarter, half year or year.")]
    minimum = _int(raw.get("royalty_minimum_minor"), "royalty_minimum_minor", errors, minimum=0,
                   maximum=10**15, default=0)
    sub = raw.get("sublicensing", listing.licence_sublicensing)
    sublicensing = sub in (True, "true", "on", "1", 1, "yes")
    if sublicensing and not listing.licence_sublicensing:
        errors["sublicensing"] = [_("The seller does not allow sublicensing for this listing.")]
    if errors:
        raise ValidationFailed(_("Please correct the licence terms."), field_errors=errors)
    return {"exclusive": listing.deal_type == "exclusive_licence", "territory": territory, "field": field,
            "term_months": term, "sublicensing": sublicensing, "royalty_bps": royalty_bps,
            "royalty_base": base if royalty_bps else "", "royalty_period": period if royalty_bps else "",
            "royalty_minimum_minor": minimum}


def _territories(text: str) -> set[str]:
    parts = {p.strip().upper() for p in re.split(r"[,;/、，；]+", text or "") if p.strip()}
    return {"WORLD"} if parts & WORLD or not parts else parts


def overlaps(a: dict, b: dict) -> bool:
    """Two licences' scopes overlap: their territories meet (worldwide meets all) and their fields of use
    are the same or one of them is every field."""
    ta, tb = _territories(a.get("territory", "")), _territories(b.get("territory", ""))
    territories_meet = "WORLD" in ta or "WORLD" in tb or bool(ta & tb)
    fa, fb = (a.get("field") or "").strip().lower(), (b.get("field") or "").strip().lower()
    fields_meet = not fa or not fb or fa == fb
    return territories_meet and fields_meet
