"""Valuation indicators on fixed data: comparables below, at and above the 5-deal threshold, the value
range from the documented method, and what is left out (other class, kind, currency, licences)."""

import datetime

import pytest
from django.utils import timezone

from core.tenancy import tenant_context
from financing.valuation import MIN_COMPARABLES, valuate
from tests.factories import completed_deal, register_record

pytestmark = pytest.mark.django_db

PER_YEAR = [100_000_00, 200_000_00, 300_000_00, 400_000_00, 500_000_00, 600_000_00]


def target(**kw):
    today = timezone.localdate()
    defaults = {"filing_date": today - datetime.timedelta(days=365 * 10),
                "expiry_date": today + datetime.timedelta(days=round(5 * 365.25))}
    defaults.update(kw)
    return register_record(owner_name="Holder Co.", **defaults)


def deals(per_year_prices, years_left=8):
    for per_year in per_year_prices:
        completed_deal(price_minor=int(per_year * years_left), years_left=years_left)


def indicator(valuation, code):
    return next(i for i in valuation.indicators if i.code == code)


def test_below_the_threshold_no_prices_and_no_range(tenant):
    deals(PER_YEAR[:MIN_COMPARABLES - 1])
    valuation = valuate([target()], currency="CNY")

    comps = indicator(valuation, "comparables")
    assert comps.inputs["count"] == 4
    assert "too few to show" in comps.value
    assert "median_minor" not in comps.inputs  # no price leaks below the threshold
    assert valuation.value_range is None
    assert "4 comparable deals; 5 are needed" in indicator(valuation, "value_range").explanation


def test_at_the_threshold_range_is_percentiles_per_year_times_years_left(tenant):
    deals(PER_YEAR[:5])
    valuation = valuate([target()], currency="CNY")

    comps = indicator(valuation, "comparables")
    assert comps.inputs["count"] == 5
    assert comps.inputs["median_minor"] == 300_000_00 * 8
    vr = valuation.value_range
    # yearly prices 100k..500k: p25 = 200k, median 300k, p75 = 400k; the right has 5 years left
    assert vr["low_minor"] == pytest.approx(200_000_00 * 5, rel=5e-3)
    assert vr["central_minor"] == pytest.approx(300_000_00 * 5, rel=5e-3)
    assert vr["high_minor"] == pytest.approx(400_000_00 * 5, rel=5e-3)
    assert vr["confidence"] == "low"  # 5 comparables
    assert vr["low_minor"] < vr["central_minor"] < vr["high_minor"]


def test_above_the_threshold_counts_other_exchanges_and_ignores_what_is_not_comparable(tenant, other_tenant):
    deals(PER_YEAR[:4])
    with tenant_context(other_tenant):  # another exchange, same currency: counted, never named
        completed_deal(price_minor=600_000_00 * 8, years_left=8, currency="CNY")
        completed_deal(price_minor=700_000_00 * 8, years_left=8, currency="CNY")
    completed_deal(price_minor=9_000_000_00, years_left=8, classes=("G06F 17/00",))  # other class
    completed_deal(price_minor=9_000_000_00, years_left=8, kind="utility_model")  # other kind
    completed_deal(price_minor=9_000_000_00, years_left=8, currency="HKD")  # other currency

    valuation = valuate([target()], currency="CNY")

    comps = indicator(valuation, "comparables")
    assert comps.inputs["count"] == 6
    assert comps.inputs["class"] == "H04L"
    # the HKD deal is left out, and the reader is told deals are not converted between currencies
    assert "Only deals paid in CNY count" in comps.explanation
    assert "not converted" in comps.explanation
    assert "1 comparable deal in another currency was left out (HKD 1)." in comps.explanation
    assert comps.inputs["other_currencies"] == {"HKD": 1}
    assert "IPX-" not in str(valuation.as_dict())  # anonymised: no deal reference
    assert valuation.value_range is not None
    assert valuation.value_range["high_minor"] < 9_000_000_00


def test_a_package_price_is_split_over_its_rights(tenant):
    for per_year in PER_YEAR[:5]:
        completed_deal(price_minor=int(per_year * 8) * 2, years_left=8, rights_count=2)
    valuation = valuate([target()], currency="CNY")
    assert indicator(valuation, "comparables").inputs["median_minor"] == 300_000_00 * 8


def test_a_right_not_in_force_gets_no_range(tenant):
    deals(PER_YEAR)
    valuation = valuate([target(legal_status="lapsed")], currency="CNY")
    assert valuation.value_range is None
    assert indicator(valuation, "legal_status").status == "bad"
    assert "not in force" in indicator(valuation, "value_range").explanation


def test_legal_strength_indicators_explain_their_inputs(tenant):
    record = target(renewal_paid_through=timezone.localdate() - datetime.timedelta(days=3),
                    encumbrances=[{"type": "pledge", "holder": "Bank of Ningbo", "until": "2099-01-01"}])
    valuation = valuate([record], currency="CNY")

    term = indicator(valuation, "remaining_term")
    assert term.inputs["years_left"] == pytest.approx(5, abs=0.01)
    assert term.value.startswith("4 years 11 months") or term.value.startswith("5 years")
    assert indicator(valuation, "legal_status").status == "warn"
    assert "Fees are recorded as paid only until" in indicator(valuation, "legal_status").explanation
    enc = indicator(valuation, "encumbrances")
    assert "Bank of Ningbo" in enc.value
    assert enc.status == "warn"
    assert indicator(valuation, "family_claims").value == "not in the register record"


def test_the_listing_page_shows_the_indicators(client, tenant):
    from tests.factories import published_listing

    deals(PER_YEAR[:5])
    record = target()
    listing = published_listing(records=[record])
    page = client.get(f"/listings/{listing.pk}/", headers={"Accept-Language": "en"}).content.decode()
    assert "Valuation indicators" in page
    assert "Comparable deals" in page
    assert "Value range" in page
    assert f"/financing/rights/{record.pk}/" in page
    listing.refresh_from_db()
    assert listing.view_count == 1
