"""Fee deadlines of a right, computed (never typed): what is due, when, how much, and until when it can
still be paid late with a surcharge. One module, one function per office; every rule names its source.

Amounts are in minor units of the office's currency, as published on the dates given below; they change
by regulation, so `FEE_TABLES_AS_OF` says how current they are and the tests pin worked examples.

Sources:
- CNIPA patent annual fees: 国家知识产权局《专利收费标准》(国家发展改革委、财政部 发改价格〔2017〕270号,
  专利年费标准表) and 专利法实施细则 (2023) 第一百一十三条 (annual fee due in advance for each year
  from the year of grant; 6-month late period) and the 滞纳金 scale: paid in the first month after the
  due date no surcharge; each further started month 5% of the annual fee, up to 25% in the sixth month.
  Annual fee years are counted from the filing date; the fee for a year is due on the filing-date
  anniversary that starts it.
- USPTO maintenance fees: 35 U.S.C. 41(b); 37 CFR 1.20(e)-(h) and 1.362: due 3.5, 7.5 and 11.5 years
  after grant, payable without surcharge in the 6 months before (from 3, 7, 11 years), with the
  surcharge (37 CFR 1.20(h)) in the 6 months after. Fees of the final rule of 2024-11-19 (in force
  2025-01-19), undiscounted entity: $2,150 / $4,040 / $8,280, surcharge $540.
- Trademark renewals: CN 商标法 (2019) 第四十条 — renew within 12 months before expiry, 6-month grace
  (宽展期); 商标注册收费标准 (2017): renewal CNY 500 per class, late (宽展) surcharge CNY 250.
  US 15 U.S.C. 1058/1059 and 37 CFR 2.6: Sections 8 and 9 combined filing in the year before each
  10-year anniversary of registration, 6-month grace; $325 + $325 per class, grace surcharge
  $100 + $100 per class (fees of 2025-01-18). EU EUTMR art. 53: within 6 months before expiry,
  6-month grace with 25% surcharge; renewal EUR 850 (1 class, online), EUR 50 the second, EUR 150
  each further class.
- EPO renewal fees for pending European applications: EPC art. 86 and Rule 51: due for the 3rd and each
  following year on the last day of the month of the filing-date anniversary; payable up to 6 months
  late with an additional fee of 50%; RFees art. 2(1) item 4 (from 2024-04-01): year 3 EUR 690,
  4 EUR 845, 5 EUR 1,000, 6 EUR 1,155, 7 EUR 1,310, 8 EUR 1,465, 9 EUR 1,620, 10+ EUR 1,775. Once
  the mention of the grant is published, renewal fees are paid to the national offices (not here).
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from .expiry import add_years

FEE_TABLES_AS_OF = datetime.date(2025, 1, 19)

CN_INVENTION_ANNUAL_CNY = {**{y: 900 for y in (1, 2, 3)}, **{y: 1200 for y in (4, 5, 6)},
                           **{y: 2000 for y in (7, 8, 9)}, **{y: 4000 for y in (10, 11, 12)},
                           **{y: 6000 for y in (13, 14, 15)}, **{y: 8000 for y in range(16, 21)}}
CN_UTILITY_DESIGN_ANNUAL_CNY = {**{y: 600 for y in (1, 2, 3)}, **{y: 900 for y in (4, 5)},
                                **{y: 1200 for y in (6, 7, 8)}, **{y: 2000 for y in (9, 10)},
                                **{y: 3000 for y in range(11, 16)}}
CN_LATE_STEPS = (0, 5, 10, 15, 20, 25)  # % of the annual fee, by started month after the due date

US_MAINTENANCE_USD = {3.5: 2150, 7.5: 4040, 11.5: 8280}
US_MAINTENANCE_SURCHARGE_USD = 540
US_ENTITY_FACTOR = {"undiscounted": 1.0, "small": 0.4, "micro": 0.2}

CN_TM_RENEWAL_CNY, CN_TM_LATE_CNY = 500, 250
US_TM_RENEWAL_PER_CLASS_USD, US_TM_GRACE_PER_CLASS_USD = 650, 200
EU_TM_RENEWAL_EUR = (850, 50, 150)  # first class, second, each further
EU_TM_GRACE_FACTOR = 0.25

EP_RENEWAL_EUR = {3: 690, 4: 845, 5: 1000, 6: 1155, 7: 1310, 8: 1465, 9: 1620}
EP_RENEWAL_10_PLUS_EUR = 1775


@dataclass(frozen=True)
class FeeDue:
    """One fee: pay by `due` for `amount_minor`; until `grace_until` with `surcharge_minor` more."""

    office: str
    label: str  # e.g. "annual fee, year 6"
    due: datetime.date
    amount_minor: int
    currency: str
    grace_until: datetime.date
    surcharge_minor: int  # the most the surcharge can be (at the end of the grace period)
    window_opens: datetime.date | None = None  # earliest day it can be paid (renewals)
    source: str = ""
    code: str = ""  # which fee (fee_label translates code + n); `label` stays the rule's English key
    n: str = ""  # its year or stage

    @property
    def display_label(self) -> str:
        return fee_label(self.code, self.n, self.label)

    @property
    def label_message(self):
        """The name as a message rendered when read (see `fee_label_message`)."""
        return fee_label_message(self.code, self.n, self.label)

    @property
    def amount(self) -> str:
        return f"{self.amount_minor / 100:,.2f}"

    def surcharge_on(self, day: datetime.date) -> int | None:
        """The surcharge if paid on `day`; None when it can no longer be paid."""
        if day <= self.due:
            return 0
        if day > self.grace_until:
            return None
        if self.office == "CNIPA" and self.label.startswith("annual"):
            months = _months_started(self.due, day)
            base = self.amount_minor
            return base * CN_LATE_STEPS[min(months, 6) - 1] // 100
        return self.surcharge_minor

    def status_on(self, day: datetime.date) -> str:
        if day <= self.due:
            return "due"
        if day <= self.grace_until:
            return "overdue"
        return "lapsed"


def _fee_labels() -> dict[str, str]:
    from django.utils.translation import gettext_noop

    return {
        "cn_annual": gettext_noop("annual fee, year %(n)s"),
        "us_maintenance": gettext_noop("maintenance fee at %(n)s years"),
        "cn_tm_renewal": gettext_noop("trademark renewal"),
        "us_tm_renewal": gettext_noop("trademark renewal (Sections 8 and 9)"),
        "eu_tm_renewal": gettext_noop("EU trade mark renewal"),
        "ep_renewal": gettext_noop("renewal fee of the European application, year %(n)s"),
    }


def fee_label_message(code: str, n: str = "", fallback: str = ""):
    """The fee's name as a message rendered when read (alerts keep it so)."""
    from core.notifications import Message

    label = _fee_labels().get(code)
    return Message(label, {"n": n}) if label else fallback


def fee_label(code: str, n: str = "", fallback: str = "") -> str:
    """The fee's name in the reader's language."""
    from django.utils.translation import gettext

    label = _fee_labels().get(code)
    return gettext(label) % {"n": n} if label else fallback


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _months_started(due: datetime.date, day: datetime.date) -> int:
    """How many months after `due` the day falls in (1 = within the first month)."""
    months = 1
    while add_months(due, months) < day:
        months += 1
    return months


def _end_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


# --- per office ----------------------------------------------------------------------------------


def cnipa_annual_fees(*, kind: str, filing_date: datetime.date, grant_date: datetime.date | None,
                      paid_through: datetime.date | None = None, today: datetime.date, horizon_years: int = 5):
    """CN patent annual fees due from `today` (or the first unpaid) over `horizon_years`."""
    table = CN_INVENTION_ANNUAL_CNY if kind == "invention" else CN_UTILITY_DESIGN_ANNUAL_CNY
    term = 20 if kind == "invention" else (15 if kind == "design" and filing_date >= datetime.date(2021, 6, 1)
                                           else 10)
    out = []
    oldest = add_months(today, -6)  # a fee more than 6 months overdue can no longer be paid
    latest = add_years(today, horizon_years)
    floor = max(d for d in (oldest, grant_date, paid_through) if d is not None)
    first = max(1, floor.year - filing_date.year)  # skip the years that are certainly behind
    for year in range(first, term + 1):
        due = add_years(filing_date, year - 1)  # the fee for patent year N is due when year N starts
        if (grant_date and due < grant_date) or (paid_through and due < paid_through) or due < oldest:
            continue  # before grant (paid with the grant formalities), already paid, or beyond the late period
        if due > latest:
            break
        amount = table.get(year, table[max(table)]) * 100
        out.append(FeeDue("CNIPA", f"annual fee, year {year}", due, amount, "CNY", add_months(due, 6),
                          amount * CN_LATE_STEPS[-1] // 100, source="专利收费标准; 专利法实施细则 第113条",
                          code="cn_annual", n=str(year)))
    return out


def uspto_maintenance_fees(*, grant_date: datetime.date, today: datetime.date, entity: str = "undiscounted",
                           paid: tuple = ()):
    """US utility patent maintenance fees (designs and plants have none)."""
    factor = US_ENTITY_FACTOR[entity]
    out = []
    for stage, usd in US_MAINTENANCE_USD.items():
        if stage in paid:
            continue
        due = add_months(grant_date, int(stage * 12))
        grace = add_months(due, 6)
        if grace < today:
            continue
        out.append(FeeDue("USPTO", f"maintenance fee at {stage} years", due, round(usd * factor * 100), "USD",
                          grace, round(US_MAINTENANCE_SURCHARGE_USD * factor * 100),
                          window_opens=add_months(due, -6), source="37 CFR 1.20(e)-(h), 1.362",
                          code="us_maintenance", n=f"{stage:g}"))
    return out


def trademark_renewals(*, jurisdiction: str, expiry: datetime.date, classes: int = 1, today: datetime.date,
                       horizon_years: int = 10):
    """Renewals every 10 years from `expiry` (the end of the current term)."""
    out = []
    due = expiry
    while due <= add_years(today, horizon_years):
        if add_months(due, 6) >= today:
            if jurisdiction == "CN":
                fee = FeeDue("CNIPA", "trademark renewal", due, CN_TM_RENEWAL_CNY * 100 * classes, "CNY",
                             add_months(due, 6), CN_TM_LATE_CNY * 100 * classes, window_opens=add_months(due, -12),
                             source="商标法 第40条; 商标注册收费标准", code="cn_tm_renewal")
            elif jurisdiction == "US":
                fee = FeeDue("USPTO", "trademark renewal (Sections 8 and 9)", due,
                             US_TM_RENEWAL_PER_CLASS_USD * 100 * classes, "USD", add_months(due, 6),
                             US_TM_GRACE_PER_CLASS_USD * 100 * classes, window_opens=add_months(due, -12),
                             source="15 U.S.C. 1058, 1059; 37 CFR 2.6", code="us_tm_renewal")
            else:
                first, second, further = EU_TM_RENEWAL_EUR
                eur = first + (second if classes >= 2 else 0) + further * max(0, classes - 2)
                fee = FeeDue("EUIPO", "EU trade mark renewal", due, eur * 100, "EUR", add_months(due, 6),
                             round(eur * EU_TM_GRACE_FACTOR * 100), window_opens=add_months(due, -6),
                             source="EUTMR art. 53; Annex I", code="eu_tm_renewal")
            out.append(fee)
        due = add_years(due, 10)
    return out


def epo_renewal_fees(*, filing_date: datetime.date, today: datetime.date, horizon_years: int = 5,
                     granted: bool = False):
    """Renewal fees of a pending European application (year 3 onwards)."""
    if granted:
        return []
    out = []
    for year in range(3, 21):
        due = _end_of_month(add_years(filing_date, year - 1))
        grace = _end_of_month(add_months(due, 6))
        if grace < today:
            continue
        if due > add_years(today, horizon_years):
            break
        eur = EP_RENEWAL_EUR.get(year, EP_RENEWAL_10_PLUS_EUR)
        out.append(FeeDue("EPO", f"renewal fee, year {year}", due, eur * 100, "EUR", grace, eur * 50,
                          source="EPC art. 86, Rule 51; RFees art. 2(1) item 4",
                          code="ep_renewal", n=str(year)))
    return out


def fees_for(record, *, today: datetime.date, horizon_years: int = 5) -> list[FeeDue]:
    """Every fee of a register record due within the horizon (or still payable late)."""
    if record.kind in ("software_copyright", "works_copyright"):
        return []  # copyrights need no maintenance fees
    if record.kind == "trademark":
        if not record.expiry_date:
            return []
        return trademark_renewals(jurisdiction=record.jurisdiction, expiry=record.expiry_date,
                                  classes=max(1, len(record.classes)), today=today, horizon_years=horizon_years)
    if record.jurisdiction == "CN" and record.filing_date:
        return cnipa_annual_fees(kind=record.kind, filing_date=record.filing_date, grant_date=record.grant_date,
                                 paid_through=record.renewal_paid_through, today=today, horizon_years=horizon_years)
    if record.jurisdiction == "US" and record.grant_date and record.kind == "invention":
        return uspto_maintenance_fees(grant_date=record.grant_date, today=today)
    if record.jurisdiction == "EP" and record.filing_date and record.kind == "invention":
        return epo_renewal_fees(filing_date=record.filing_date, today=today, horizon_years=horizon_years,
                                granted=record.legal_status == "valid" and bool(record.grant_date))
    return []
