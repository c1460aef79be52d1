"""Valuation indicators for a right or a package of rights: each indicator says in plain words what it
means and which inputs it used. Never a single made-up number: the value range comes from a documented
method over real closed deals, or there is none.

Method (`METHOD_VERSION`):
1. Comparables: trades **completed in escrow on ipex** (any exchange; only aggregate figures are shown,
   never a deal, a party or an exchange), assignments of a right of the same kind, in the same
   jurisdiction (office) and the same class (IPC subclass such as "H04L", or Nice class such as "09"),
   priced in the same currency. A package's price is split evenly over its rights.
2. Each comparable gives a price per year of remaining term: price per right / years the right had
   left on the day the deal completed (at least half a year).
3. With at least `MIN_COMPARABLES` comparables, the right's range is its remaining years times the
   25th percentile (low), the median (central) and the 75th percentile (high) of those yearly prices.
   A package's range is the sum over its rights; every right needs its own comparables.
   Figures are rounded to three significant digits: the method is not more precise than that.
4. Confidence: high from 20 comparables, medium from 10, low from 5; one step lower when the spread
   (75th / 25th percentile) exceeds 3. No range for a right not in force or at the end of its term.
"""

from __future__ import annotations

import datetime
import statistics
from dataclasses import asdict, dataclass, field

from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.events import ask
from core.money import format_money
from core.tenancy import get_current_tenant
from escrow.models import Order, OrderState
from listings.models import Listing, Right, Watch
from rights.encumbrances import active_encumbrances
from rights.expiry import expiry_date, remaining_term
from rights.models import LegalStatus, RightKind
from rights.selectors import status_history

from .inputs import family_text

METHOD_VERSION = "comparables-by-remaining-term/1"
MIN_COMPARABLES = 5
MIN_YEARS = 0.5


@dataclass
class Indicator:
    code: str
    label: str
    value: str
    explanation: str
    inputs: dict = field(default_factory=dict)
    status: str = "info"  # ok | warn | bad | info


@dataclass
class Comparables:
    count: int
    currency: str
    class_key: str
    shown: bool
    median_minor: int | None = None
    p25_minor: int | None = None
    p75_minor: int | None = None
    per_year_p25: float | None = None
    per_year_median: float | None = None
    per_year_p75: float | None = None
    histogram: list = field(default_factory=list)  # [(label, count, percent)]
    other_currencies: dict = field(default_factory=dict)  # {currency: deals left out (not converted)}


@dataclass
class Valuation:
    records: list
    currency: str
    indicators: list[Indicator]
    value_range: dict | None
    comparables: dict  # record pk -> Comparables
    method: str = METHOD_VERSION

    def as_dict(self) -> dict:
        return {
            "method": self.method,
            "currency": self.currency,
            "rights": [f"{r.jurisdiction} {r.number}" for r in self.records],
            "indicators": [asdict(i) for i in self.indicators],
            "value_range": self.value_range,
            "minimum_comparables": MIN_COMPARABLES,
        }


def encumbrance_label(kind: str) -> str:
    labels = {"pledge": _("pledge"), "exclusive_licence": _("exclusive licence"), "sole_licence": _("sole licence"),
              "non_exclusive_licence": _("non-exclusive licence")}
    kind = str(kind or "").lower()
    return str(labels.get(kind, kind.replace("_", " ")))


def labelled(entries) -> list[dict]:
    """Encumbrance entries with a `label` in the reader's language (for templates)."""
    return [{**e, "label": encumbrance_label(e.get("type"))} for e in entries or []]


def class_key(record) -> str:
    """The class comparables must share: the Nice class of a trademark, the IPC subclass of a patent."""
    for c in record.classes or []:
        c = c.replace(" ", "").upper()
        if not c:
            continue
        if record.kind == RightKind.TRADEMARK and c.isdigit():
            return f"{int(c):02d}"
        return c.split("/")[0][:4]
    return ""


def _years(days: int) -> float:
    return days / 365.25


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    pos = (len(values) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def _deals_query(*, kind, jurisdiction, key, currency, exclude_records):
    orders = (Order.objects.unscoped()
              .filter(state=OrderState.COMPLETED, deal_type=Listing.DealType.ASSIGNMENT,
                      listing__kind=kind, listing__jurisdiction=jurisdiction,
                      listing__expiry_date__isnull=False, completed_at__isnull=False)
              .exclude(listing__rights__register_record__in=exclude_records))
    if key:
        orders = orders.filter(listing__class_keys__contains=[key])
    # every currency in the one query: deals in another currency are not converted (no FX) but counted, so the
    # reader is told how many were left out
    return orders.values_list("price_minor", "completed_at", "listing__expiry_date", "listing__rights_count",
                              "currency", "pk").distinct()


def _split_currency(rows, currency: str) -> tuple[list, dict[str, int]]:
    same, other = [], {}
    for price, completed, expiry, count, cur, _pk in rows:
        if cur == currency:
            same.append((price, completed, expiry, count))
        else:
            other[cur] = other.get(cur, 0) + 1
    return same, dict(sorted(other.items()))


def _deals(rows) -> list[tuple[int, float]]:
    deals = []
    for price, completed, expiry, count in rows:
        left = max(_years((expiry - completed.date()).days), MIN_YEARS)
        deals.append((int(price) // max(count or 1, 1), left))
    return deals


def comparable_deals(record, *, currency: str) -> list[tuple[int, float]]:
    """(price per right, years left at completion) of each comparable completed deal, all exchanges."""
    same, _other = _split_currency(_deals_query(kind=record.kind, jurisdiction=record.jurisdiction,
                                                key=class_key(record), currency=currency, exclude_records=[record]),
                                   currency)
    return _deals(same)


def _stats(deals, *, currency: str, key: str) -> Comparables:
    stats = Comparables(count=len(deals), currency=currency, class_key=key, shown=len(deals) >= MIN_COMPARABLES)
    if not stats.shown:
        return stats
    prices = [p for p, _y in deals]
    per_year = [p / y for p, y in deals]
    stats.median_minor = int(statistics.median(prices))
    stats.p25_minor = int(_percentile(prices, 0.25))
    stats.p75_minor = int(_percentile(prices, 0.75))
    stats.per_year_p25 = _percentile(per_year, 0.25)
    stats.per_year_median = statistics.median(per_year)
    stats.per_year_p75 = _percentile(per_year, 0.75)
    low, high = min(prices), max(prices)
    buckets = 5
    width = max((high - low) / buckets, 1)
    counts = [0] * buckets
    for p in prices:
        counts[min(int((p - low) / width), buckets - 1)] += 1
    top = max(counts)
    stats.histogram = [(format_money(int(low + i * width), currency), n, round(100 * n / top))
                       for i, n in enumerate(counts)]
    return stats


def comparables_for(record, *, currency: str) -> Comparables:
    return _stats(comparable_deals(record, currency=currency), currency=currency, key=class_key(record))


def comparables_for_all(records, *, currency: str) -> dict:
    """{record pk: Comparables} with one query per distinct (kind, jurisdiction, class) of the package,
    so a package of 20 rights of one class costs one query. Deals of the package itself are excluded."""
    groups: dict[tuple, list] = {}
    for r in records:
        groups.setdefault((r.kind, r.jurisdiction, class_key(r)), []).append(r)
    out = {}
    for (kind, jurisdiction, key), members in groups.items():
        same, other = _split_currency(_deals_query(kind=kind, jurisdiction=jurisdiction, key=key, currency=currency,
                                                   exclude_records=records), currency)
        stats = _stats(_deals(same), currency=currency, key=key)
        stats.other_currencies = other
        for r in members:
            out[r.pk] = stats
    return out


def round3(amount: float) -> int:
    """Three significant digits (in minor units)."""
    amount = int(round(amount))
    if amount == 0:
        return 0
    drop = max(len(str(abs(amount))) - 3, 0)
    return int(round(amount, -drop))


def _confidence(stats: Comparables) -> str:
    level = 2 if stats.count >= 20 else 1 if stats.count >= 10 else 0
    if stats.per_year_p25 and stats.per_year_p75 / stats.per_year_p25 > 3:
        level -= 1
    return ("low", "low", "medium", "high")[level + 1]


def _remaining(record, today):
    end = expiry_date(kind=record.kind, jurisdiction=record.jurisdiction, filing_date=record.filing_date,
                      grant_date=record.grant_date, recorded_expiry=record.expiry_date)
    return end, remaining_term(end, today)


def _family_and_claims(record) -> dict:
    raw = getattr(record, "raw", None) or {}
    out = {}
    for name in ("family_size", "family_countries", "claims_count"):
        value = getattr(record, name, None)
        if value in (None, "", []):
            value = raw.get(name) if isinstance(raw, dict) else None
        if value not in (None, "", []):
            out[name] = value
    return out


def _market_interest(records) -> dict:
    """Views and watchers of this exchange's listings of these rights (two queries, whatever the size)."""
    listing_ids = Right.objects.filter(register_record__in=records).values("listing_id")
    rows = Listing.objects.filter(pk__in=listing_ids).aggregate(listings=Count("id"), views=Sum("view_count"))
    watchers = Watch.objects.filter(listing_id__in=listing_ids).values("user").distinct().count()
    return {"listings": rows["listings"] or 0, "views": rows["views"] or 0, "watchers": watchers}


def _restored_lapses(changes: list[dict], record) -> list[datetime.date]:
    """Dates of the lapses (to lapsed) that were later followed by a return to in force."""
    out, lapsed_on = [], None
    for c in changes:
        if c["after"] == LegalStatus.LAPSED:
            lapsed_on = c["date"]
        elif c["after"] == LegalStatus.VALID and lapsed_on is not None:
            out.append(lapsed_on)
            lapsed_on = None
    return out


def _in_force_since(changes: list[dict], record) -> datetime.date | None:
    """The day the right last came into force: its last return to in force, else its grant."""
    back = [c["date"] for c in changes if c["after"] == LegalStatus.VALID]
    return back[-1] if back else record.grant_date


def _history_indicator(records, history, lapses, label_of) -> Indicator:
    parts, changes_in = [], {}
    for r in records:
        changes = history.get(r.pk, [])
        bits = []
        since = _in_force_since(changes, r) if r.legal_status == LegalStatus.VALID else None
        if since:
            bits.append(_("in force since %(date)s") % {"date": since.isoformat()})
        elif r.legal_status != LegalStatus.VALID:
            bits.append(str(r.get_legal_status_display()))
        if lapses[r.pk]:
            bits.append(ngettext("%(n)d lapse restored in %(years)s", "%(n)d lapses restored in %(years)s",
                                 len(lapses[r.pk]))
                        % {"n": len(lapses[r.pk]), "years": ", ".join(str(d.year) for d in lapses[r.pk])})
        if not changes:
            bits.append(_("no status change seen"))
        parts.append((f"{label_of(r)}: " if len(records) > 1 else "") + " · ".join(bits))
        changes_in[label_of(r)] = [{"date": c["date"].isoformat(), "before": c["before"], "after": c["after"]}
                                   for c in changes]
    any_lapse = any(lapses.values())
    return Indicator(
        "status_history", _("Legal status history"), "; ".join(parts),
        _("Changes of the legal status in the register, as monitoring on ipex saw them (from when a holder "
          "first added the right to a portfolio). A lapse for unpaid fees that was restored means the right "
          "was at risk once."),
        {"changes": changes_in, "restored_lapses": {label_of(r): [d.isoformat() for d in lapses[r.pk]]
                                                    for r in records}},
        "warn" if any_lapse else "ok" if all(r.legal_status == LegalStatus.VALID for r in records) else "bad")


def valuate(records, *, currency: str, appraisal=None, today: datetime.date | None = None) -> Valuation:
    """The indicators and value range of a right (one record) or a package (several)."""
    today = today or timezone.localdate()
    records = list(records)
    ind: list[Indicator] = []
    many = len(records) > 1

    def label_of(r):
        return f"{r.jurisdiction} {r.number}"

    # --- legal strength ---------------------------------------------------------------------------------
    terms = []
    for r in records:
        end, left = _remaining(r, today)
        terms.append((r, end, left))
    shortest = min((t for t in terms if t[2] is not None), key=lambda t: t[2].days, default=None)
    if shortest is None:
        ind.append(Indicator("remaining_term", _("Remaining term"), _("unknown"),
                             _("The register gives no dates from which the end of the term can be worked out."),
                             {"rights": [label_of(r) for r in records]}, "warn"))
    else:
        r, end, left = shortest
        years = round(_years(left.days), 1)
        ind.append(Indicator(
            "remaining_term", _("Remaining term"), str(left),
            (_("The shortest remaining term in the package: %(right)s ends on %(end)s.") if many
             else _("The right ends on %(end)s; the longer it has left, the more it is worth to a buyer or "
                    "lender.")) % {"right": label_of(r), "end": end},
            {"expiry": end.isoformat(), "years_left": years, "right": label_of(r)},
            "bad" if left.expired else "warn" if years < 3 else "ok"))

    history = status_history(records)
    lapses = {r.pk: _restored_lapses(history.get(r.pk, []), r) for r in records}
    restored = [(r, d) for r in records for d in lapses[r.pk]]
    bad_status = [r for r in records if r.legal_status != LegalStatus.VALID]
    unpaid = [r for r in records if r.renewal_paid_through and r.renewal_paid_through < today]
    status_text = ", ".join(f"{label_of(r)}: {r.get_legal_status_display()}" for r in bad_status)
    ind.append(Indicator(
        "legal_status", _("Legal status"),
        _("in force") if not bad_status else status_text,
        (_("The register records every right as in force.") if not bad_status
         else _("Not every right is in force; a right that is not in force has no market value range."))
        + (" " + _("Fees are recorded as paid only until %(date)s for %(rights)s.") % {
            "date": min(r.renewal_paid_through for r in unpaid), "rights": ", ".join(label_of(r) for r in unpaid)}
           if unpaid else "")
        + (" " + ngettext("The register's history shows %(n)d lapse that was restored (%(when)s): fees were "
                          "missed once.", "The register's history shows %(n)d lapses that were restored "
                          "(%(when)s): fees were missed before.", len(restored))
           % {"n": len(restored), "when": ", ".join(f"{label_of(r)} {d.year}" for r, d in restored)}
           if restored else ""),
        {"statuses": {label_of(r): r.legal_status for r in records},
         "restored_lapses": {label_of(r): [d.isoformat() for d in lapses[r.pk]] for r in records},
         "fees_paid_through": {label_of(r): r.renewal_paid_through.isoformat() if r.renewal_paid_through else None
                               for r in records}},
        "bad" if bad_status else "warn" if unpaid or restored else "ok"))
    ind.append(_history_indicator(records, history, lapses, label_of))

    extra = {label_of(r): _family_and_claims(r) for r in records}
    known = {k: v for k, v in extra.items() if v}
    if known:
        parts = [f"{right}: {family_text(data)}" for right, data in known.items()]
        ind.append(Indicator("family_claims", _("Family and claims"), "; ".join(parts),
                             _("A right protected in more countries, and with more claims, usually covers more of "
                               "a market."), {"by_right": known}, "info"))
    else:
        ind.append(Indicator("family_claims", _("Family and claims"), _("not in the register record"),
                             _("The register record does not give the patent family or the number of claims, so "
                               "they are not counted."), {}, "info"))

    encs = [(r, e) for r in records for e in active_encumbrances(r, today=today)]
    ind.append(Indicator(
        "encumbrances", _("Encumbrances"),
        _("none recorded") if not encs else "; ".join(
            f"{label_of(r)}: {encumbrance_label(e.get('type'))} · {e.get('holder', '?')}"
            + (" (" + _("until %(date)s") % {"date": e["until"]} + ")" if e.get("until") else "") for r, e in encs),
        _("No pledge or licence is recorded against the rights.") if not encs else
        _("A recorded pledge must be released before the right can be sold or licensed exclusively; a recorded "
          "licence stays with the right."),
        {"encumbrances": {label_of(r): active_encumbrances(r, today=today) for r in records}},
        "ok" if not encs else "warn"))

    # --- market -------------------------------------------------------------------------------------------
    comps = comparables_for_all(records, currency=currency)
    for r in records:
        c = comps[r.pk]
        common = {"kind": r.kind, "jurisdiction": r.jurisdiction, "class": c.class_key or None,
                  "currency": currency, "count": c.count, "minimum": MIN_COMPARABLES}
        if c.shown:
            value = _("%(n)d deals · median %(median)s (middle half %(p25)s – %(p75)s)") % {
                "n": c.count, "median": format_money(c.median_minor, currency),
                "p25": format_money(c.p25_minor, currency), "p75": format_money(c.p75_minor, currency)}
            explanation = _("Prices of deals closed in escrow on ipex, on every exchange, for rights of the same "
                            "kind (%(kind)s), office (%(jurisdiction)s) and class (%(cls)s). Shown as totals only: "
                            "no deal, party or exchange is named.")
            inputs = {**common, "median_minor": c.median_minor, "p25_minor": c.p25_minor, "p75_minor": c.p75_minor}
        else:
            value = _("%(n)d comparable deals: too few to show") % {"n": c.count}
            explanation = _("Prices are shown only when at least %(min)d deals for rights of the same kind "
                            "(%(kind)s), office (%(jurisdiction)s) and class (%(cls)s) have closed in escrow on ipex, "
                            "so that no single deal can be recognised.")
            inputs = common
        ind.append(Indicator(
            "comparables" if not many else f"comparables:{label_of(r)}",
            _("Comparable deals") + (f" · {label_of(r)}" if many else ""), value,
            explanation % {"kind": r.get_kind_display(), "jurisdiction": r.get_jurisdiction_display(),
                           "cls": c.class_key or "-", "min": MIN_COMPARABLES}
            + " " + _("Only deals paid in %(currency)s count; deals in other currencies are left out, not "
                      "converted (no exchange rates are applied).") % {"currency": currency}
            + (" " + ngettext("%(n)d comparable deal in another currency was left out (%(which)s).",
                              "%(n)d comparable deals in other currencies were left out (%(which)s).",
                              sum(c.other_currencies.values()))
               % {"n": sum(c.other_currencies.values()),
                  "which": ", ".join(f"{cur} {n}" for cur, n in c.other_currencies.items())}
               if c.other_currencies else ""),
            {**inputs, "other_currencies": c.other_currencies} if c.other_currencies else inputs,
            "ok" if c.shown else "info"))

    interest = _market_interest(records)
    ind.append(Indicator(
        "interest", _("Interest on this exchange"),
        _("%(views)d views · %(watchers)d watching") % interest,
        _("How often the listings of these rights on this exchange were opened, and how many people keep them "
          "on their watchlist."), interest, "info"))

    wants = ask("right.matching_wants", records=records, tenant_id=getattr(get_current_tenant(), "pk", None))
    ind.append(Indicator(
        "wanted", _("Wanted by buyers"),
        _("%(here)d open wants on this exchange · %(elsewhere)d on other exchanges") % wants,
        _("Buyers' published wants, still open, that name a class of these rights (same subclass or deeper). "
          "Wants on other exchanges are only counted: no buyer or exchange is named. The more buyers look for "
          "such a right, the easier it is to sell."),
        wants, "ok" if wants["here"] or wants["elsewhere"] else "info"))

    # --- value range --------------------------------------------------------------------------------------
    value_range = None
    blockers = []
    lows = centrals = highs = 0.0
    levels = []
    for r, _end, left in terms:
        c = comps[r.pk]
        if r.legal_status != LegalStatus.VALID:
            blockers.append(_("%(right)s is not in force.") % {"right": label_of(r)})
        elif left is None or left.expired:
            blockers.append(_("%(right)s has no remaining term.") % {"right": label_of(r)})
        elif not c.shown:
            blockers.append(_("%(right)s has %(n)d comparable deals; %(min)d are needed.")
                            % {"right": label_of(r), "n": c.count, "min": MIN_COMPARABLES})
        else:
            years = max(_years(left.days), MIN_YEARS)
            lows += c.per_year_p25 * years
            centrals += c.per_year_median * years
            highs += c.per_year_p75 * years
            levels.append(_confidence(c))
    if not blockers and records:
        lows, centrals, highs = round3(lows), round3(centrals), round3(highs)
        confidence = min(levels, key=["low", "medium", "high"].index)
        value_range = {"low_minor": int(lows), "central_minor": int(centrals), "high_minor": int(highs),
                       "currency": currency, "confidence": confidence, "method": METHOD_VERSION}
        ind.append(Indicator(
            "value_range", _("Value range"),
            f"{format_money(int(lows), currency)} – {format_money(int(highs), currency)}",
            _("Comparable deals' prices per year of remaining term (25th percentile, median, 75th percentile) times "
              "the years this right has left; central estimate %(central)s. Confidence: %(confidence)s.")
            % {"central": format_money(int(centrals), currency), "confidence": {
                "low": _("low"), "medium": _("medium"), "high": _("high")}[confidence]},
            {"method": METHOD_VERSION, "low_minor": int(lows), "central_minor": int(centrals),
             "high_minor": int(highs), "confidence": confidence,
             "comparables": {label_of(r): comps[r.pk].count for r in records}}, "ok"))
    else:
        ind.append(Indicator("value_range", _("Value range"), _("not enough evidence"),
                             _("No range is given rather than a guess: %(why)s") % {"why": " ".join(blockers)}
                             if blockers else _("No rights."),
                             {"method": METHOD_VERSION, "reasons": blockers}, "info"))

    if appraisal is not None and appraisal.value_minor is not None:
        ind.append(Indicator(
            "appraisal", _("Formal appraisal"), format_money(appraisal.value_minor, appraisal.currency),
            _("Value in a signed appraisal report by %(appraiser)s dated %(date)s.")
            % {"appraiser": appraisal.appraiser.organization.legal_name, "date": appraisal.value_date},
            {"appraisal": appraisal.reference, "value_minor": appraisal.value_minor, "currency": appraisal.currency,
             "value_date": appraisal.value_date.isoformat() if appraisal.value_date else None}, "info"))
    return Valuation(records=records, currency=currency, indicators=ind, value_range=value_range, comparables=comps)


def valuate_listing(listing, *, today=None) -> Valuation:
    records = [r.register_record for r in listing.rights.all() if r.register_record_id]
    return valuate(records, currency=listing.currency, today=today)


__all__ = ["valuate", "valuate_listing", "comparables_for", "class_key", "MIN_COMPARABLES", "METHOD_VERSION",
           "Indicator", "Valuation"]
