"""The figures behind a valuation indicator (`Indicator.inputs`, machine keys — the API returns them as
they are) shown to a person: each input with a label in the reader's language and its value formatted
(money with its currency, dates, counts, the register's codes as words). A package's per-right inputs
read "CN 201910000001.X: …" per right."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from core.money import format_money
from rights.models import Jurisdiction, LegalStatus, RightKind

CTX = "valuation input"


def _labels() -> dict[str, str]:
    return {
        "rights": pgettext(CTX, "Rights"),
        "right": pgettext(CTX, "Right with the shortest term"),
        "expiry": pgettext(CTX, "Term ends on"),
        "years_left": pgettext(CTX, "Years left"),
        "statuses": pgettext(CTX, "Legal status in the register"),
        "restored_lapses": pgettext(CTX, "Lapses restored"),
        "fees_paid_through": pgettext(CTX, "Fees paid through"),
        "changes": pgettext(CTX, "Status changes seen"),
        "by_right": pgettext(CTX, "Family and claims"),
        "encumbrances": pgettext(CTX, "Recorded encumbrances"),
        "kind": pgettext(CTX, "Kind of right"),
        "jurisdiction": pgettext(CTX, "Office"),
        "class": pgettext(CTX, "Class compared"),
        "currency": pgettext(CTX, "Currency"),
        "count": pgettext(CTX, "Comparable deals found"),
        "minimum": pgettext(CTX, "Deals needed before prices are shown"),
        "median_minor": pgettext(CTX, "Median price"),
        "p25_minor": pgettext(CTX, "25th percentile"),
        "p75_minor": pgettext(CTX, "75th percentile"),
        "listings": pgettext(CTX, "Listings on this exchange"),
        "views": pgettext(CTX, "Views"),
        "watchers": pgettext(CTX, "Watching"),
        "here": pgettext(CTX, "Open wants on this exchange"),
        "elsewhere": pgettext(CTX, "Open wants on other exchanges"),
        "method": pgettext(CTX, "Method"),
        "low_minor": pgettext(CTX, "Low"),
        "central_minor": pgettext(CTX, "Central"),
        "high_minor": pgettext(CTX, "High"),
        "confidence": pgettext(CTX, "Confidence"),
        "comparables": pgettext(CTX, "Comparable deals per right"),
        "reasons": pgettext(CTX, "Why there is no range"),
        "other_currencies": pgettext(CTX, "Deals left out (other currencies, not converted)"),
        "appraisal": pgettext(CTX, "Appraisal"),
        "value_minor": pgettext(CTX, "Appraised value"),
        "value_date": pgettext(CTX, "Valuation date"),
    }


def _none() -> str:
    return pgettext(CTX, "none")


def _choice(choices, code) -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return str(code)


def _per_right(value: dict, fmt) -> str:
    """{right label: x} → "x" for one right, "CN 1: x; CN 2: y" for a package."""
    if not value:
        return _none()
    if len(value) == 1:
        return fmt(next(iter(value.values())))
    return "; ".join(f"{right}: {fmt(v)}" for right, v in value.items())


def _dates(dates) -> str:
    return ", ".join(str(d) for d in dates) if dates else _none()


def _change(c: dict) -> str:
    return f"{c.get('date')}: {_choice(LegalStatus, c.get('before'))} → {_choice(LegalStatus, c.get('after'))}"


def family_text(data: dict) -> str:
    """"family of 4 · in EP, US · 12 claims" from a right's family and claims figures ("" without any)."""
    bits = []
    if "family_size" in data:
        bits.append(_("family of %(n)s") % {"n": data["family_size"]})
    if data.get("family_countries"):
        bits.append(_("in %(countries)s") % {"countries": ", ".join(data["family_countries"])})
    if "claims_count" in data:
        bits.append(_("%(n)s claims") % {"n": data["claims_count"]})
    return " · ".join(bits)


def _family(data: dict) -> str:
    return family_text(data) or _none()


def _encumbrances(entries) -> str:
    from .valuation import encumbrance_label

    if not entries:
        return _none()
    parts = []
    for e in entries:
        text = f"{encumbrance_label(e.get('type'))} · {e.get('holder', '?')}"
        if e.get("until"):
            text += " (" + _("until %(date)s") % {"date": e["until"]} + ")"
        parts.append(text)
    return "; ".join(parts)


def _count(n) -> str:
    return f"{int(n):,}"


def _confidence(level) -> str:
    return {"low": _("low"), "medium": _("medium"), "high": _("high")}.get(level, str(level))


def input_rows(indicator, currency: str) -> list[tuple[str, str]]:
    """[(label, formatted value)] of `indicator.inputs`, in the reader's language. Money is in the
    inputs' own currency when they name one, else `currency` (the valuation's)."""
    inputs = dict(getattr(indicator, "inputs", None) or {})
    money_currency = inputs.get("currency") or currency
    labels = _labels()
    formats = {
        "rights": lambda v: ", ".join(v) if v else _none(),
        "right": str,
        "expiry": str,
        "years_left": lambda v: ngettext("%(n)s year", "%(n)s years", 1 if float(v) == 1 else 2) % {"n": v},
        "statuses": lambda v: _per_right(v, lambda code: _choice(LegalStatus, code)),
        "restored_lapses": lambda v: _per_right(v, _dates),
        "fees_paid_through": lambda v: _per_right(v, lambda d: str(d) if d else pgettext(CTX, "not recorded")),
        "changes": lambda v: _per_right(v, lambda cs: "; ".join(_change(c) for c in cs) if cs else _none()),
        "by_right": lambda v: _per_right(v, _family),
        "encumbrances": lambda v: _per_right(v, _encumbrances),
        "kind": lambda v: _choice(RightKind, v),
        "jurisdiction": lambda v: _choice(Jurisdiction, v),
        "class": lambda v: str(v) if v else "-",
        "currency": str,
        "method": str,
        "confidence": _confidence,
        "comparables": lambda v: _per_right(v, _count),
        "reasons": lambda v: " ".join(v) if v else _none(),
        "other_currencies": lambda v: ", ".join(f"{cur} {_count(n)}" for cur, n in v.items()) if v else _none(),
        "appraisal": str,
        "value_date": lambda v: str(v) if v else "-",
    }
    rows = []
    for key, value in inputs.items():
        if key == "currency" and "count" not in inputs:
            continue  # only the comparables name their currency; elsewhere it is in the amounts
        label = labels.get(key, key.replace("_", " ").capitalize())
        if key.endswith("_minor") and value is not None:
            text = format_money(int(value), money_currency)
        elif key in formats:
            text = formats[key](value)
        elif isinstance(value, bool):
            text = pgettext(CTX, "yes") if value else pgettext(CTX, "no")
        elif isinstance(value, int):
            text = _count(value)
        else:
            text = str(value) if value not in (None, "", [], {}) else _none()
        rows.append((label, text))
    return rows
