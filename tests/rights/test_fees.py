"""Fee deadlines against worked examples, one office at a time (rights/fees.py cites the rules)."""

import datetime as dt

from rights.fees import (
    cnipa_annual_fees,
    epo_renewal_fees,
    fees_for,
    trademark_renewals,
    uspto_maintenance_fees,
)
from rights.models import RegisterRecord


def test_cnipa_annual_fee_year_8_and_its_late_surcharge_scale():
    # CN invention filed 2019-03-15, granted 2021-06-01, fees paid through 2026-03-15.
    fees = cnipa_annual_fees(kind="invention", filing_date=dt.date(2019, 3, 15), grant_date=dt.date(2021, 6, 1),
                             paid_through=dt.date(2026, 3, 15), today=dt.date(2026, 2, 1))
    first = fees[0]
    assert first.label == "annual fee, year 8"
    assert first.due == dt.date(2026, 3, 15)
    assert (first.amount_minor, first.currency) == (200_000, "CNY")  # CNY 2,000 for years 7-9
    assert first.grace_until == dt.date(2026, 9, 15)
    assert first.surcharge_on(dt.date(2026, 4, 10)) == 0  # within the first month: no surcharge
    assert first.surcharge_on(dt.date(2026, 5, 20)) == 20_000  # third month started: 10%
    assert first.surcharge_on(dt.date(2026, 9, 15)) == 50_000  # sixth month: 25%
    assert first.surcharge_on(dt.date(2026, 9, 16)) is None  # lapsed
    assert [f.label for f in fees] == [f"annual fee, year {y}" for y in (8, 9, 10, 11, 12)]  # 5-year horizon
    assert fees[2].amount_minor == 400_000  # year 10: CNY 4,000


def test_cnipa_utility_model_fees_stop_at_the_end_of_its_10_year_term():
    fees = cnipa_annual_fees(kind="utility_model", filing_date=dt.date(2018, 7, 1), grant_date=dt.date(2019, 1, 4),
                             today=dt.date(2025, 1, 1), horizon_years=10)
    assert [f.label for f in fees][-1] == "annual fee, year 10"
    assert fees[0].due == dt.date(2024, 7, 1)
    assert fees[0].status_on(dt.date(2025, 1, 1)) == "overdue"  # still payable in the late period


def test_uspto_maintenance_fees_of_us_9362380():
    # Granted 2016-06-07: 3.5 and 7.5-year fees are behind; the 11.5-year fee is due 2027-12-07.
    fees = uspto_maintenance_fees(grant_date=dt.date(2016, 6, 7), today=dt.date(2026, 11, 30))
    [fee] = fees
    assert fee.label == "maintenance fee at 11.5 years"
    assert (fee.window_opens, fee.due, fee.grace_until) == (dt.date(2027, 6, 7), dt.date(2027, 12, 7),
                                                           dt.date(2028, 6, 7))
    assert (fee.amount_minor, fee.surcharge_minor, fee.currency) == (828_000, 54_000, "USD")
    small = uspto_maintenance_fees(grant_date=dt.date(2016, 6, 7), today=dt.date(2026, 11, 30), entity="small")
    assert small[0].amount_minor == 331_200
    assert fee.surcharge_on(dt.date(2028, 1, 2)) == 54_000


def test_trademark_renewals_cn_us_eu():
    cn = trademark_renewals(jurisdiction="CN", expiry=dt.date(2026, 4, 30), today=dt.date(2026, 1, 10),
                            horizon_years=11)
    assert (cn[0].window_opens, cn[0].due, cn[0].grace_until) == (dt.date(2025, 4, 30), dt.date(2026, 4, 30),
                                                                 dt.date(2026, 10, 30))
    assert (cn[0].amount_minor, cn[0].surcharge_minor) == (50_000, 25_000)
    assert cn[1].due == dt.date(2036, 4, 30)
    us = trademark_renewals(jurisdiction="US", expiry=dt.date(2033, 4, 11), classes=2, today=dt.date(2032, 6, 1))
    assert (us[0].amount_minor, us[0].surcharge_minor, us[0].currency) == (130_000, 40_000, "USD")
    eu = trademark_renewals(jurisdiction="EP", expiry=dt.date(2027, 2, 1), classes=3, today=dt.date(2026, 9, 1))
    assert (eu[0].amount_minor, eu[0].surcharge_minor, eu[0].window_opens) == (105_000, 26_250, dt.date(2026, 8, 1))


def test_epo_renewal_fees_for_a_pending_application():
    fees = epo_renewal_fees(filing_date=dt.date(2022, 5, 10), today=dt.date(2024, 3, 1))
    assert fees[0].label == "renewal fee, year 3"
    assert (fees[0].due, fees[0].grace_until) == (dt.date(2024, 5, 31), dt.date(2024, 11, 30))
    assert (fees[0].amount_minor, fees[0].surcharge_minor) == (69_000, 34_500)
    assert fees[1].amount_minor == 84_500
    assert epo_renewal_fees(filing_date=dt.date(2022, 5, 10), today=dt.date(2024, 3, 1), granted=True) == []


def test_fees_for_picks_the_rule_of_the_record():
    today = dt.date(2026, 1, 1)
    cn = RegisterRecord(jurisdiction="CN", kind="invention", filing_date=dt.date(2020, 2, 1),
                        grant_date=dt.date(2022, 1, 1), renewal_paid_through=dt.date(2026, 2, 1))
    assert fees_for(cn, today=today)[0].label == "annual fee, year 7"
    copyright_record = RegisterRecord(jurisdiction="CN", kind="software_copyright")
    assert fees_for(copyright_record, today=today) == []
