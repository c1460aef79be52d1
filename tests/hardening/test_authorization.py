"""Issue 10, authorization: one person on one side; staff refunds check the state and record the true
reason; the simulated payment webhook needs the installation's own secret."""

import pytest

from core.errors import NotAllowed
from core.permissions import require_one_side
from escrow import services as s
from escrow.models import Order, OrderState
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    escrow_listing,
    make_member,
    seller_with_org,
)

pytestmark = pytest.mark.django_db


def test_a_seller_cannot_order_their_own_listing_through_a_second_organization(client, tenant):
    seller, org = seller_with_org()
    listing = escrow_listing(seller_org=org)
    second = OrganizationFactory(verification_status="unverified")
    MembershipFactory(user=seller, organization=second, is_default=False)
    # the seller switches to acting for the second organization
    s_default = seller.memberships.get(organization=second)
    seller.memberships.update(is_default=False)
    type(s_default).objects.filter(pk=s_default.pk).update(is_default=True)
    with pytest.raises(NotAllowed):
        s.order_place(listing=listing, buyer=seller, terms_accepted=True)
    client.force_login(seller)
    response = client.post(f"/orders/new/{listing.pk}/", {"terms": "on"})
    assert response.status_code < 500
    assert not Order.objects.exists()


def test_a_buyer_who_joined_the_seller_cannot_confirm_or_pay(tenant):
    from tests.factories import order_in_state

    order, seller, buyer = order_in_state(OrderState.PLACED)
    MembershipFactory(user=buyer, organization=order.seller_org, is_default=False)
    with pytest.raises(NotAllowed):
        s.order_seller_confirm(order=order, actor=buyer)
    s.order_seller_confirm(order=order, actor=seller)
    with pytest.raises(NotAllowed):
        s.payment_start(order=order, actor=buyer, provider="simulated")


def test_the_one_side_rule_is_one_function_for_every_trade(tenant):
    person = make_member()
    own = person.memberships.get().organization
    other = OrganizationFactory()
    require_one_side(person, acting_for=own, other_side=other)  # a stranger's organization: fine
    with pytest.raises(NotAllowed):
        require_one_side(person, acting_for=own, other_side=own)
    MembershipFactory(user=person, organization=other, is_default=False)
    with pytest.raises(NotAllowed):
        require_one_side(person, acting_for=own, other_side=other)
