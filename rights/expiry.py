"""When a right ends, by kind and jurisdiction, and how much of its term is left.

Rules (statutory maximum terms; fees must also be paid, see `renewal_paid_through`):
- CN invention 20 years from filing; utility model 10 years from filing; design 10 years from filing
  for applications filed before 2021-06-01 (Patent Law 2008), 15 years from filing on or after it
  (Patent Law 2020, in force 2021-06-01).
- US utility patent 20 years from filing (filed on/after 1995-06-08; before, the longer of 17 years
  from grant and 20 from filing); US design 14 years from grant (filed before 2015-05-13), 15 after.
- EP patent 20 years from filing; EU registered design 5-year terms renewable up to 25 years.
- Trademarks 10 years, renewable for further 10-year terms without limit: CN and US from the
  registration date, EU trade marks from the filing date.
- CN copyrights held by a legal person (software: Regulations on the Protection of Computer Software
  art. 14; works: Copyright Law 2020 art. 23): until 31 December of the 50th year after first
  publication; a work not published within 50 years of its completion is no longer protected, so
  without a publication date the term runs to 31 December of the 50th year after completion.
  (Natural persons: the author's life plus 50 years, which a register cannot compute; the verifier
  enters it.)
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

CN_DESIGN_15_YEARS_FROM = datetime.date(2021, 6, 1)
US_URAA_DATE = datetime.date(1995, 6, 8)
US_DESIGN_15_YEARS_FROM = datetime.date(2015, 5, 13)


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Term:
    expiry: datetime.date | None
    renewable: bool = False
    basis: str = ""  # in words, for the verifier and the listing page


def copyright_term(*, publication_date=None, completion_date=None) -> Term:
    """Term of a CN copyright held by a legal person (see the module docstring)."""
    if publication_date is not None:
        return Term(datetime.date(publication_date.year + 50, 12, 31), False,
                    _("until 31 December of the 50th year after first publication"))
    if completion_date is not None:
        return Term(datetime.date(completion_date.year + 50, 12, 31), False,
                    _("until 31 December of the 50th year after completion (not published)"))
    return Term(None)


def statutory_term(*, kind: str, jurisdiction: str, filing_date=None, grant_date=None, publication_date=None,
                   completion_date=None) -> Term:
    """The end of the (current first) term of a right, or Term(None) when the dates needed are missing."""
    if kind in ("software_copyright", "works_copyright"):
        return copyright_term(publication_date=publication_date, completion_date=completion_date)
    if kind == "trademark":
        start = filing_date if jurisdiction == "EP" else grant_date
        if start is None:
            return Term(None, True, "")
        basis = (_("10 years from the filing date, renewable") if jurisdiction == "EP"
                 else _("10 years from the registration date, renewable"))
        return Term(add_years(start, 10), True, basis)
    if filing_date is None:
        return Term(None)
    if jurisdiction == "CN":
        if kind == "invention":
            return Term(add_years(filing_date, 20), False, _("20 years from the filing date"))
        if kind == "utility_model":
            return Term(add_years(filing_date, 10), False, _("10 years from the filing date"))
        if kind == "design":
            if filing_date >= CN_DESIGN_15_YEARS_FROM:
                return Term(add_years(filing_date, 15), False, _("15 years from the filing date (filed from 2021-06-01)"))
            return Term(add_years(filing_date, 10), False, _("10 years from the filing date (filed before 2021-06-01)"))
    if jurisdiction == "US":
        if kind == "invention":
            if filing_date >= US_URAA_DATE or grant_date is None:
                return Term(add_years(filing_date, 20), False, _("20 years from the filing date"))
            return Term(max(add_years(filing_date, 20), add_years(grant_date, 17)), False,
                        _("the longer of 17 years from grant and 20 years from filing (filed before 1995-06-08)"))
        if kind == "design":
            if grant_date is None:
                return Term(None)
            if filing_date >= US_DESIGN_15_YEARS_FROM:
                return Term(add_years(grant_date, 15), False, _("15 years from grant (filed from 2015-05-13)"))
            return Term(add_years(grant_date, 14), False, _("14 years from grant (filed before 2015-05-13)"))
    if jurisdiction in ("EP", "WO"):
        if kind == "invention":
            return Term(add_years(filing_date, 20), False, _("20 years from the filing date"))
        if kind == "design":
            return Term(add_years(filing_date, 25), True, _("5-year terms renewable up to 25 years from filing"))
    return Term(None)


def expiry_date(*, kind, jurisdiction, filing_date=None, grant_date=None, recorded_expiry=None, publication_date=None,
                completion_date=None):
    """The date the right ends: the register's recorded expiry (a renewed trademark) when it has one."""
    if recorded_expiry:
        return recorded_expiry
    return statutory_term(kind=kind, jurisdiction=jurisdiction, filing_date=filing_date, grant_date=grant_date,
                          publication_date=publication_date, completion_date=completion_date).expiry


@dataclass(frozen=True)
class Remaining:
    days: int
    years: int
    months: int

    @property
    def expired(self):
        return self.days <= 0

    def __str__(self):
        if self.expired:
            return _("expired")
        if self.years == 0 and self.months == 0:
            return ngettext("%(n)d day", "%(n)d days", self.days) % {"n": self.days}
        parts = []
        if self.years:
            parts.append(ngettext("%(n)d year", "%(n)d years", self.years) % {"n": self.years})
        if self.months:
            parts.append(ngettext("%(n)d month", "%(n)d months", self.months) % {"n": self.months})
        return " ".join(parts)


def remaining_term(expiry: datetime.date | None, today: datetime.date | None = None) -> Remaining | None:
    if expiry is None:
        return None
    today = today or timezone.localdate()
    days = (expiry - today).days
    if days <= 0:
        return Remaining(days, 0, 0)
    months = (expiry.year - today.year) * 12 + expiry.month - today.month
    if expiry.day < today.day:
        months -= 1
    return Remaining(days, months // 12, months % 12)
