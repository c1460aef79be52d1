"""Search the register by owner/applicant name and pick what to import: the embedded register (a name
inside the owner's name with pg_trgm, else its beginning; any case, indexed) and the USPTO ODP search
(recorded answer, never the network)."""

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


@pytest.fixture
def trigram(db):
    """A name inside another needs pg_trgm: the system PostgreSQL (CI) has it, the embedded pgserver of a
    bare `make test` does not, and then the search matches the beginning of names (tested below)."""
    from rights.registry.embedded import trigram_available

    if not trigram_available():
        pytest.skip("PostgreSQL without the pg_trgm extension: owner search by prefix only (set DATABASE_URL to a "
                    "full server)")


def test_search_the_embedded_register_by_owner_and_import_the_picked(client, tenant, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
    monkeypatch.setattr("rights.registry.embedded.trigram_available", lambda: False)  # as on pgserver: prefix
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


def test_a_name_inside_the_owners_name_is_found(client, tenant, trigram):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    inside = register_record(owner_name="Beijing Tsinghua University Research Institute")
    first = register_record(owner_name="TSINGHUA UNIVERSITY")
    cn = register_record(owner_name="北方清源科技有限公司")
    register_record(owner_name="Peking University")
    with CaptureQueriesContext(connection) as queries:
        found = get_register().search_owner(name="tsinghua")
    assert [r.pk for r in found] == [first.pk, inside.pk]  # the names that begin with it first
    assert "LIKE UPPER" in queries.captured_queries[-1]["sql"]
    assert [r.pk for r in get_register().search_owner(name="清源")] == [cn.pk]
    assert get_register().search_owner(name="Tsinghua", jurisdiction="US") == []
    with connection.cursor() as cursor:  # the index that serves it exists (a GIN trigram index)
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'register_owner_trgm'")
        assert "gin_trgm_ops" in cursor.fetchone()[0]
    seller, _org = seller_with_org()
    client.force_login(seller)
    page = client.get("/portfolio/import/", {"owner": "Tsinghua"}).content.decode()
    assert inside.number in page
    assert first.number in page


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


OPS = "https://ops.epo.org/3.2"
OPS_SEARCH = f"{OPS}/rest-services/published-data/search/biblio"


def _ops_token():
    responses.post(f"{OPS}/auth/accesstoken", json={"access_token": "tok", "expires_in": "1199",
                                                    "token_type": "BearerToken"})


@responses.activate
def test_epo_ops_search_by_applicant_stores_each_ep_application_once(client, tenant, settings, register_keys):
    settings.REGISTER_ADAPTERS = {"EP": "rights.registry.epo_ops.OpsRegister"}
    settings.REGISTER_BACKOFF_SECONDS = 0
    _ops_token()
    responses.post(OPS_SEARCH, body=recorded("epo_search_applicant.xml"), content_type="application/xml",
                   headers={"X-Throttling-Control": "idle (search=green:30)"})
    records = get_register().search_owner(name='Vandamme "Dominiek"', jurisdiction="EP")
    assert sorted(r.number[:8] for r in records) == ["01204567", "99203729"]  # A1+B1 once, the WO member left out
    by_number = {r.number[:8]: r for r in records}
    assert by_number["99203729"].publication_number == "EP1000000B1"
    assert by_number["99203729"].legal_status == "valid"  # granted (B1)
    assert by_number["01204567"].legal_status == "pending"  # published application only
    assert all(r.source == "epo_ops" and r.owner_name == "Vandamme, Dominiek" for r in records)
    search = responses.calls[1].request
    assert parse_qs(search.body if isinstance(search.body, str) else search.body.decode())["q"] == [
        'pa="Vandamme Dominiek" and pn=EP']
    assert search.headers["X-OPS-Range"] == "1-50"  # as many as asked (the page asks 100; OPS allows 100)
    assert search.headers["Authorization"] == "Bearer tok"
    # The page: the same search, the hits offered to pick (and they are in the register's cache now).
    seller, _org = seller_with_org()
    client.force_login(seller)
    page = client.get("/portfolio/import/", {"owner": "Vandamme", "jurisdiction": "EP"}).content.decode()
    assert by_number["99203729"].number in page
    assert by_number["01204567"].number in page


@responses.activate
def test_epo_ops_search_without_hits_unreadable_and_unconfigured(tenant, settings, register_keys, monkeypatch):
    from core.errors import DomainError
    from rights.registry.epo_ops import OpsRegister

    settings.REGISTER_ADAPTERS = {"EP": "rights.registry.epo_ops.OpsRegister"}
    settings.REGISTER_BACKOFF_SECONDS = 0
    _ops_token()
    responses.post(OPS_SEARCH, status=404, body=recorded("epo_not_found.xml"), content_type="application/xml")
    assert get_register().search_owner(name="Nobody GmbH", jurisdiction="EP") == []
    responses.replace(responses.POST, OPS_SEARCH, body="<html>maintenance</html>", content_type="text/html")
    with pytest.raises(DomainError):
        get_register().search_owner(name="Nobody GmbH", jurisdiction="EP")
    monkeypatch.delenv("EPO_OPS_KEY")
    with pytest.raises(DomainError, match="not configured"):
        OpsRegister().search_owner(name="Nobody GmbH")


def test_without_a_live_adapter_the_embedded_register_answers_the_same_search(tenant, settings):
    settings.REGISTER_ADAPTERS = {}
    ep = register_record(owner_name="Vandamme, Dominiek", jurisdiction="EP", number="99203729.1")
    register_record(owner_name="Vandamme, Dominiek")  # a CN right of the same owner
    assert [r.pk for r in get_register().search_owner(name="Vandamme", jurisdiction="EP")] == [ep.pk]
