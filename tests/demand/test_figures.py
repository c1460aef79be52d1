"""The exchange's figures count what orders actually settled at: a dispute settled by a split counts the
price less the buyer's refund, not the full price."""

import pytest

from demand import figures as F
from escrow import services as s
from escrow.models import OrderState
from tests.factories.escrow import escrow_staff, order_in_state

pytestmark = pytest.mark.django_db


def test_split_settled_orders_count_the_amount_settled(tenant):
    # given two funded orders of 10,000.00: one goes on normally, one is settled by a split refunding 4,000.00
    kept, _s1, _b1 = order_in_state(OrderState.FUNDED, price_minor=1_000_000)
    split, _s2, _b2 = order_in_state(OrderState.DISPUTED, price_minor=1_000_000)
    s.order_dispute_resolve(order=split, actor=escrow_staff(), outcome="split", note="Half the papers were delivered.",
                            refund_minor=400_000)
    split.refresh_from_db()
    assert split.state == OrderState.SETTLED
    data = F.collect()
    # then the volume is 10,000.00 + 6,000.00, not 20,000.00, in every table
    assert data["totals"]["volume"] == 1_600_000
    assert sum(row["volume"] for row in data["by_kind"]) == 1_600_000
    assert sum(row["volume"] for row in data["by_office"]) == 1_600_000
    # and the median of the month is taken over the settled amounts (600,000 and 1,000,000 → the lower one)
    assert [v for _m, v in data["by_month_median"] if v] == [600_000]
