"""Search the register by owner/applicant name and pick what to import: the embedded register (prefix,
any case, indexed) and the USPTO ODP search (recorded answer, never the network)."""

from urllib.parse import parse_qs, urlparse

import pytest
import responses
from django.utils import timezone

from rights.models import Holding, PortfolioImport, RegisterRecord
from rights.portfolio import run_import
from rights.registry import get_register
from rights.services import holding_ensure
from tests.factories.listings import register_record, seller_with_org

from .conftest import recorded

pytestmark = pytest.mark.django_db
ODP_SEARCH = "https://api.uspto.gov/api/v1/patent/applications/search"


def test_search_the_embedded_register_by_owner_and_import_the_picked(client, tenant,
                                                                     django_capture_on_commit_callbacks):
    seller, org = seller_with_org()
    mine = [register_record(owner_name="清源大学技术转移中心"), register_record(owner_name="清源大学技术转移中心",
                                                                             kind="trademark")]
    held = register_record(owner_name="清源大学附属医院")
    holding_ensure(organization=org, record=held)
    register_record(owner_name="北方清源科技有限公司")  # the name inside, not at the beginning: not found
    client.force_login(seller)
    page = client.get("/portfolio/import/", {"owner": "清源大学"}).content.decode()
    assert "3 rights found" in page
    for r in mine + [held]:
        assert r.number in page
    assert "北方清源" not in page
    assert "In your portfolio" in page  # the held one cannot be picked again
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/portfolio/import/", {"record": [mine[0].pk, mine[1].pk]})
    job = PortfolioImport.objects.get()
    assert response["Location"] == f"/portfolio/import/{job.pk}/"
    assert run_import(job.pk).imported == 2
    assert set(Holding.objects.filter(organization=org).values_list("record_id", flat=True)) == {
        held.pk, mine[0].pk, mine[1].pk}


def test_owner_search_bad_input_says_so(client, tenant):
    seller, _org = seller_with_org()
    client.force_login(seller)
    assert "at least two characters" in client.get("/portfolio/import/", {"owner": "x"}).content.decode()
    assert "no right under this name" in client.get("/portfolio/import/", {"owner": "Nobody Ltd"}).content.decode()
    page = client.post("/portfolio/import/", {"record": ["999999999", "abc"]}).content.decode()
    assert "Pick at least one right" in page
    assert not PortfolioImport.objects.exists()


@responses.activate
def test_uspto_odp_search_by_applicant_stores_the_hits(tenant, settings, register_keys):
    settings.REGISTER_ADAPTERS = {"US": "rights.registry.uspto_odp.OdpRegister"}
    responses.get(ODP_SEARCH, body=recorded("uspto_odp_search_owner.json"), content_type="application/json")
    records = get_register().search_owner(name='STMicroelectronics "S.A."', jurisdiction="US")
    assert [r.number for r in records] == ["9362380", "10107654"]
    assert all(r.source == "uspto_odp" and r.fetched_at <= timezone.now() for r in records)
    query = parse_qs(urlparse(responses.calls[0].request.url).query)
    assert query["q"] == ['applicationMetaData.applicantBag.applicantNameText:"STMicroelectronics S.A."']
    assert responses.calls[0].request.headers["X-API-KEY"] == "test-odp-key"
    assert RegisterRecord.objects.filter(jurisdiction="US", number="10107654").exists()  # picking imports it


@responses.activate
def test_uspto_odp_search_without_hits_and_unreadable(tenant, settings, register_keys):
    from core.errors import DomainError

    settings.REGISTER_ADAPTERS = {"US": "rights.registry.uspto_odp.OdpRegister"}
    responses.get(ODP_SEARCH, body=recorded("uspto_odp_search_empty.json"), content_type="application/json")
    assert get_register().search_owner(name="Nobody Inc", jurisdiction="US") == []
    responses.replace(responses.GET, ODP_SEARCH, body="<html>maintenance</html>", content_type="text/html")
    with pytest.raises(DomainError):
        get_register().search_owner(name="Nobody Inc", jurisdiction="US")
