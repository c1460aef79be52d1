import pytest

from core.money import Money, format_money, to_minor


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [("12,500.00", "CNY", 1250000), ("12500", "CNY", 1250000), ("¥3.5", "CNY", 350), ("1000", "JPY", 1000)],
)
def test_amounts_typed_by_people_become_minor_units(typed, currency, minor):
    assert to_minor(typed, currency) == minor


@pytest.mark.parametrize("typed", ["abc", "-5", "1.234"])
def test_bad_amounts_are_refused_with_a_message(typed):
    with pytest.raises(ValueError, match=r"\w"):
        to_minor(typed, "CNY")


def test_basis_points_round_half_up_and_currencies_never_mix():
    assert Money(1005, "CNY").bps(5000) == Money(503, "CNY")
    with pytest.raises(ValueError):
        Money(1, "CNY") + Money(1, "USD")
    assert format_money(1250000, "CNY") == "¥12,500.00"
    assert format_money(1000, "JPY") == "¥1,000"
