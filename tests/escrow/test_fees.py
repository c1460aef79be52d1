import pytest

from core.fees import seller_margin_minor
from escrow import fees
from tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("price", "bps", "minimum", "expected"), [
    (1_000_000, 200, 10_000, 20_000),
    (100_000, 200, 10_000, 10_000),  # the minimum applies
    (100_000, 0, 10_000, 0),  # no fee at all when the schedule has none
    (333, 150, 0, 5),  # 4.995 rounds half up
])
def test_buyer_fee(price, bps, minimum, expected):
    tenant = TenantFactory.build(buyer_fee_bps=bps, seller_commission_bps=0, min_fee_minor=minimum)
    assert fees.quote(tenant=tenant, price_minor=price, currency="CNY").buyer_fee_minor == expected


def test_commission_never_exceeds_the_price():
    tenant = TenantFactory.build(buyer_fee_bps=0, seller_commission_bps=500, min_fee_minor=10_000)
    q = fees.quote(tenant=tenant, price_minor=5_000, currency="CNY")
    assert q.seller_commission_minor == 5_000
    assert q.payout_minor == 0


@pytest.mark.parametrize(("fixed", "bps", "price", "expected"), [
    (0, 0, 1_000_000, 0),
    (0, 100, 1_000_000, 10_000),
    (50_000, 100, 1_000_000, 50_000),  # a fixed amount wins
])
def test_margin_amount(fixed, bps, price, expected):
    tenant = TenantFactory.build(margin_fixed_minor=fixed, margin_bps=bps, currency="CNY")
    assert seller_margin_minor(tenant=tenant, price_minor=price, currency=tenant.currency) == expected
