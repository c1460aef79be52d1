import datetime as dt

import pytest

from rights.expiry import remaining_term, statutory_term

D = dt.date


@pytest.mark.parametrize(("kind", "jurisdiction", "filing", "grant", "expiry"), [
    ("invention", "CN", D(2012, 10, 9), D(2015, 1, 1), D(2032, 10, 9)),
    ("utility_model", "CN", D(2019, 3, 1), D(2019, 9, 1), D(2029, 3, 1)),
    ("design", "CN", D(2021, 5, 31), D(2021, 9, 1), D(2031, 5, 31)),  # filed the day before the 2020 law
    ("design", "CN", D(2021, 6, 1), D(2021, 9, 1), D(2036, 6, 1)),  # filed on the day: 15 years
    ("invention", "US", D(1998, 1, 9), D(2001, 9, 4), D(2018, 1, 9)),  # US 6,285,999
    ("invention", "US", D(1990, 1, 1), D(1999, 1, 1), D(2016, 1, 1)),  # pre-URAA: 17 years from grant is longer
    ("design", "US", D(2014, 1, 1), D(2015, 6, 1), D(2029, 6, 1)),
    ("design", "US", D(2016, 1, 1), D(2017, 6, 1), D(2032, 6, 1)),
    ("invention", "EP", D(2006, 5, 8), D(2010, 1, 1), D(2026, 5, 8)),
    ("trademark", "CN", D(2015, 1, 1), D(2016, 2, 14), D(2026, 2, 14)),
    ("trademark", "US", D(2015, 1, 1), D(2016, 2, 14), D(2026, 2, 14)),
    ("trademark", "EP", D(2015, 1, 1), D(2016, 2, 14), D(2025, 1, 1)),  # EU trade marks run from filing
    ("utility_model", "CN", D(2004, 2, 29), None, D(2014, 2, 28)),
])
def test_statutory_terms(kind, jurisdiction, filing, grant, expiry):
    assert statutory_term(kind=kind, jurisdiction=jurisdiction, filing_date=filing, grant_date=grant).expiry == expiry


def test_trademarks_are_renewable_patents_are_not():
    assert statutory_term(kind="trademark", jurisdiction="CN", grant_date=D(2020, 1, 1)).renewable
    assert not statutory_term(kind="invention", jurisdiction="CN", filing_date=D(2020, 1, 1)).renewable


def test_missing_dates_give_no_expiry():
    assert statutory_term(kind="invention", jurisdiction="CN").expiry is None
    assert statutory_term(kind="trademark", jurisdiction="CN", filing_date=D(2020, 1, 1)).expiry is None


def test_remaining_term_in_years_and_months():
    left = remaining_term(D(2032, 10, 9), today=D(2026, 11, 22))
    assert (left.years, left.months) == (5, 10)
    assert str(left) == "5 years 10 months"
    assert str(remaining_term(D(2026, 12, 1), today=D(2026, 11, 22))) == "9 days"
    assert remaining_term(D(2026, 11, 1), today=D(2026, 11, 22)).expired
