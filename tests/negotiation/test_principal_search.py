"""The principal chooser on the mandates page: a name search (tenant-scoped, at most 20, verified first,
never the broker itself) that works without JavaScript (GET ?q= then pick a radio and propose) and as a
type-ahead fragment; a principal that is not picked, or from another exchange, is refused, nothing written."""

import re

import pytest

from accounts.mandates import principal_candidates
from accounts.models import Mandate, Organization
from core.tenancy import tenant_context
from tests.factories import OrganizationFactory, make_member

pytestmark = pytest.mark.django_db


def _radios(html):
    return re.findall(r'name="principal" value="(\d+)"', html)


@pytest.fixture
def broker(tenant):
    return make_member(org=OrganizationFactory(legal_name="Star Research Brokers"))


def test_search_is_scoped_limited_and_puts_verified_first(tenant, other_tenant, broker):
    own = broker.memberships.get().organization
    unverified = OrganizationFactory(legal_name="Aaa Star Labs", verification_status=Organization.Verification.PENDING)
    verified = OrganizationFactory(legal_name="Zzz Star University")
    english = OrganizationFactory(legal_name="星光研究院", legal_name_en="Starlight Institute")
    for i in range(25):
        OrganizationFactory(legal_name=f"Star Co {i:02d}", verification_status=Organization.Verification.PENDING)
    with tenant_context(other_tenant):
        OrganizationFactory(legal_name="Star Elsewhere")
    found = principal_candidates(query="star", exclude_org=own)
    assert len(found) == 20
    assert own not in found
    assert set(found[:2]) == {english, verified}  # the verified ones (by name), then the rest
    assert unverified in found
    assert "Star Elsewhere" not in [o.legal_name for o in found]
    assert principal_candidates(query="  ", exclude_org=own) == []
    assert principal_candidates(query="starlight", exclude_org=own) == [english]


def test_without_javascript_search_then_pick_then_propose(client, tenant, broker):
    target = OrganizationFactory(legal_name="Tsinghua Tech Transfer")
    OrganizationFactory(legal_name="Peking Labs")
    client.force_login(broker)
    page = client.get("/deals/mandates/").content.decode()
    assert _radios(page) == []  # the exchange is never listed whole
    page = client.get("/deals/mandates/", {"q": "tsinghua"}).content.decode()
    assert _radios(page) == [str(target.pk)]
    assert 'value="tsinghua"' in page  # kept in the proposal form
    r = client.post("/deals/mandates/", {"q": "tsinghua", "principal": target.pk, "side": "seller", "listings": "",
                                         "commission_percent": "3", "months": 6})
    assert r.status_code == 302
    assert Mandate.objects.get().principal_org == target


def test_the_fragment_and_a_failed_proposal_keep_the_choice(client, tenant, broker):
    target = OrganizationFactory(legal_name="Fudan IP Office")
    client.force_login(broker)
    fragment = client.get("/deals/mandates/principals/", {"q": "fudan"}).content.decode()
    assert fragment.lstrip().startswith('<div id="principal-results"')
    assert _radios(fragment) == [str(target.pk)]
    assert "No organization on this exchange" in client.get("/deals/mandates/principals/", {"q": "zz"}).content.decode()
    # a bad commission: the page comes back with the principal still picked
    page = client.post("/deals/mandates/", {"principal": target.pk, "side": "seller", "listings": "",
                                            "commission_percent": "80", "months": 6}).content.decode()
    assert re.search(rf'value="{target.pk}" checked', page)
    assert not Mandate.objects.exists()


def test_no_pick_itself_or_another_exchange_is_refused(client, tenant, other_tenant, broker):
    own = broker.memberships.get().organization
    with tenant_context(other_tenant):
        foreign = OrganizationFactory(legal_name="Elsewhere Inc.")
    client.force_login(broker)
    for principal in ("", own.pk, foreign.pk):
        page = client.post("/deals/mandates/", {"principal": principal, "side": "seller", "listings": "",
                                                "commission_percent": "3", "months": 6}).content.decode()
        assert "Search for the principal and pick it." in page
    assert not Mandate.objects.exists()
