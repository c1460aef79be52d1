"""Live register adapters against recorded answers (responses): found, not found, malformed,
rate-limited, office down, and the cache in front of them. Never the network."""

import datetime

import pytest
import requests
import responses
from django.utils import timezone

from core.errors import GatewayError
from rights.models import LegalStatus, RegisterRecord
from rights.registry.epo_ops import OpsRegister
from rights.registry.http import RegisterUnavailable
from rights.registry.routed import RoutedRegister
from rights.registry.uspto_odp import OdpRegister
from rights.registry.uspto_tsdr import TsdrRegister

from .conftest import recorded

pytestmark = pytest.mark.django_db

ODP = "https://api.uspto.gov/api/v1/patent/applications"
TSDR = "https://tsdrapi.uspto.gov/ts/cd/casestatus"
OPS = "https://ops.epo.org/3.2"


def no_sleep(_seconds):
    pass


# --- USPTO ODP --------------------------------------------------------------------------------


@responses.activate
def test_odp_found_by_application_number_maps_owner_assignments_and_security_interest(register_keys):
    responses.get(f"{ODP}/14104993", body=recorded("uspto_odp_14104993.json"), content_type="application/json")
    result = OdpRegister(sleep=no_sleep).lookup("14/104,993")
    assert result.found, result.error
    record = result.record
    assert record.number == "9362380"
    assert record.application_number == "14/104993"
    assert record.title == "HETEROJUNCTION BIPOLAR TRANSISTOR"
    # The latest recorded assignment names the owner of record, not the first applicant.
    assert record.owner_name == "STMICROELECTRONICS INTERNATIONAL N.V."
    assert record.legal_status == LegalStatus.VALID
    assert record.filing_date == datetime.date(2013, 12, 12)
    assert record.expiry_date == datetime.date(2033, 12, 12)  # 20 years from filing
    assert record.source == "uspto_odp"
    assert record.fetched_at is not None
    assert [e["type"] for e in record.encumbrances] == ["pledge"]
    assert record.encumbrances[0]["reference"] == "reel/frame 61002/15"
    assert [a["reel_frame"] for a in record.raw["assignments"]] == ["31868/102", "60620/769", "61002/15"]
    assert responses.calls[0].request.headers["X-API-KEY"] == "test-odp-key"
    # A patent number finds the same (cached) record without another round trip.
    assert OdpRegister(sleep=no_sleep).lookup("US 9,362,380 B2").record.pk == record.pk
    assert len(responses.calls) == 1


@responses.activate
def test_odp_found_by_patent_number_uses_search(register_keys):
    responses.get(f"{ODP}/search", body=recorded("uspto_odp_14104993.json"), content_type="application/json")
    record = OdpRegister(sleep=no_sleep).lookup("US 9,362,380 B2").record
    assert record.application_number == "14/104993"
    assert "patentNumber:9362380" in responses.calls[0].request.url.replace("%3A", ":")


@responses.activate
def test_odp_not_found_is_a_clear_answer_and_remembered(register_keys):
    responses.get(f"{ODP}/search", body=recorded("uspto_odp_search_empty.json"), content_type="application/json")
    register = OdpRegister(sleep=no_sleep)
    result = register.lookup("US 10,999,999 B2")
    assert not result.found
    assert "has no right with the number" in result.error
    assert register.lookup("US 10,999,999 B2").error
    assert len(responses.calls) == 1  # the miss is cached
    assert not RegisterRecord.objects.exists()


@responses.activate
def test_odp_404_is_not_found(register_keys):
    responses.get(f"{ODP}/16123456", status=404, json={"code": 404, "message": "Not Found"})
    assert not OdpRegister(sleep=no_sleep).lookup("16/123,456").found


@responses.activate
def test_odp_malformed_answer_says_register_unreadable_and_writes_nothing(register_keys):
    responses.get(f"{ODP}/14104993", json={"count": 1, "patentFileWrapperDataBag": [{"applicationNumberText": "x"}]})
    with pytest.raises(RegisterUnavailable) as exc:
        OdpRegister(sleep=no_sleep).lookup("14/104,993")
    assert "could not read" in exc.value.message
    assert "by hand" in exc.value.message
    assert not RegisterRecord.objects.exists()


@responses.activate
def test_odp_rate_limited_then_answers_after_backoff(register_keys):
    waits = []
    responses.get(f"{ODP}/14104993", status=429, headers={"Retry-After": "2"})
    responses.get(f"{ODP}/14104993", body=recorded("uspto_odp_14104993.json"), content_type="application/json")
    result = OdpRegister(sleep=waits.append).lookup("14/104,993")
    assert result.found
    assert waits
    assert waits[0] >= 2


@responses.activate
def test_odp_rate_limited_for_good_gives_up_with_try_later(register_keys, settings):
    settings.REGISTER_RETRIES = 2
    responses.get(f"{ODP}/14104993", status=429)
    register = OdpRegister(sleep=no_sleep)
    with pytest.raises(RegisterUnavailable) as exc:
        register.lookup("14/104,993")
    assert register.calls == 3
    assert "Try again in a few minutes" in exc.value.message
    assert "by hand" in exc.value.message


@responses.activate
def test_odp_office_down(register_keys, settings):
    settings.REGISTER_RETRIES = 1
    responses.get(f"{ODP}/14104993", body=requests.ConnectionError("connection refused"))
    with pytest.raises(GatewayError) as exc:
        OdpRegister(sleep=no_sleep).lookup("14/104,993")
    assert "not answering" in exc.value.message


@responses.activate
def test_odp_without_key_says_not_configured(monkeypatch):
    monkeypatch.delenv("USPTO_ODP_API_KEY", raising=False)
    with pytest.raises(RegisterUnavailable) as exc:
        OdpRegister(sleep=no_sleep).lookup("14/104,993")
    assert "not configured" in exc.value.message
    assert not responses.calls


@responses.activate
def test_odp_cache_expires_and_get_refreshes(register_keys, settings):
    responses.get(f"{ODP}/14104993", body=recorded("uspto_odp_14104993.json"), content_type="application/json")
    register = OdpRegister(sleep=no_sleep)
    record = register.lookup("14/104,993").record
    assert register.get(jurisdiction="US", number=record.number).pk == record.pk
    assert len(responses.calls) == 1  # fresh: from the cache
    RegisterRecord.objects.filter(pk=record.pk).update(fetched_at=timezone.now() - datetime.timedelta(days=2),
                                                       owner_name="stale")
    assert register.get(jurisdiction="US", number=record.number).owner_name == "STMICROELECTRONICS INTERNATIONAL N.V."
    assert len(responses.calls) == 2


# --- USPTO TSDR -------------------------------------------------------------------------------


@responses.activate
def test_tsdr_found_cancelled_mark(register_keys):
    responses.get(f"{TSDR}/rn2564831/info.json", body=recorded("uspto_tsdr_sn75181334.json"),
                  content_type="application/json")
    record = TsdrRegister(sleep=no_sleep).lookup("2564831").record
    assert record.kind == "trademark"
    assert record.number == "2564831"
    assert record.application_number == "75181334"
    assert record.title == "MONTY PYTHON'S FLYING CIRCUS"
    assert record.legal_status == LegalStatus.LAPSED
    assert record.classes == ["09", "41"]
    assert record.owner_country == "GB"
    assert responses.calls[0].request.headers["USPTO-API-KEY"] == "test-tsdr-key"


@responses.activate
def test_tsdr_current_owner_is_the_latest_owner_group(register_keys):
    responses.get(f"{TSDR}/sn97123456/info.json", body=recorded("uspto_tsdr_sn97123456.json"),
                  content_type="application/json")
    record = TsdrRegister(sleep=no_sleep).lookup("97123456").record
    assert record.owner_name == "Shenzhen Lumen Battery Co., Ltd."
    assert record.legal_status == LegalStatus.VALID
    assert record.expiry_date == datetime.date(2033, 4, 11)


@responses.activate
def test_tsdr_not_found_malformed_and_down(register_keys, settings):
    settings.REGISTER_RETRIES = 1
    responses.get(f"{TSDR}/sn97000001/info.json", status=404)
    responses.get(f"{TSDR}/sn97000002/info.json", body="<html>maintenance</html>", content_type="text/html")
    responses.get(f"{TSDR}/sn97000003/info.json", status=503)
    register = TsdrRegister(sleep=no_sleep)
    assert not register.lookup("97000001").found
    with pytest.raises(RegisterUnavailable, match="could not read"):
        register.lookup("97000002")
    with pytest.raises(RegisterUnavailable, match="not answering"):
        register.lookup("97000003")
    assert not RegisterRecord.objects.exists()


# --- EPO OPS ----------------------------------------------------------------------------------


def _ops_token():
    responses.post(f"{OPS}/auth/accesstoken", json={"access_token": "tok", "expires_in": "1199",
                                                    "token_type": "BearerToken"})


@responses.activate
def test_ops_found_biblio_and_legal_status(register_keys):
    _ops_token()
    responses.post(f"{OPS}/rest-services/published-data/publication/epodoc/biblio",
                   body=recorded("epo_biblio_EP1000000.xml"), content_type="application/xml",
                   headers={"X-Throttling-Control": "idle (images=green:200, inpadoc=green:60, other=green:1000, "
                                                    "retrieval=green:200, search=green:30)"})
    responses.post(f"{OPS}/rest-services/legal/publication/epodoc", body=recorded("epo_legal_EP1000000.xml"),
                   content_type="application/xml")
    record = OpsRegister(sleep=no_sleep).lookup("EP1000000B1").record
    assert record.jurisdiction == "EP"
    assert record.kind == "invention"
    assert record.number.startswith("99203729.")  # the application number with its check digit
    assert record.publication_number == "EP1000000B1"
    assert record.title_en == "Apparatus for manufacturing green bricks for the brick manufacturing industry"
    assert record.owner_name == "Vandamme, Dominiek"
    assert record.owner_country == "BE"
    assert record.filing_date == datetime.date(1999, 11, 8)
    assert record.legal_status == LegalStatus.VALID
    assert "green bricks from clay" in record.abstract_en
    assert [e["code"] for e in record.raw["legal_events"]] == ["AK", "AK", "26N", "PG25"]
    assert responses.calls[1].request.body in (b"(EP1000000)", "(EP1000000)")  # the client quotes epodoc input
    assert responses.calls[1].request.headers["Authorization"] == "Bearer tok"


@responses.activate
def test_ops_not_found(register_keys):
    _ops_token()
    responses.post(f"{OPS}/rest-services/published-data/publication/epodoc/biblio", status=404,
                   body=recorded("epo_not_found.xml"), content_type="application/xml")
    result = OpsRegister(sleep=no_sleep).lookup("EP1999999")
    assert not result.found
    assert "EPO register has no right" in result.error


@responses.activate
def test_ops_malformed(register_keys):
    _ops_token()
    responses.post(f"{OPS}/rest-services/published-data/publication/epodoc/biblio", body=b"<ops:world-patent-data "
                   b"xmlns:ops=\"http://ops.epo.org\"><nothing/></ops:world-patent-data>", content_type="application/xml")
    with pytest.raises(RegisterUnavailable, match="could not read"):
        OpsRegister(sleep=no_sleep).lookup("EP1000000")


@responses.activate
def test_ops_quota_exceeded_is_unavailable_without_retrying(register_keys):
    _ops_token()
    responses.post(f"{OPS}/rest-services/published-data/publication/epodoc/biblio", status=403,
                   headers={"X-Rejection-Reason": "IndividualQuotaPerHour"}, body=b"<fault/>")
    register = OpsRegister(sleep=no_sleep)
    with pytest.raises(RegisterUnavailable, match="not answering"):
        register.lookup("EP1000000")
    assert register.calls == 1


@responses.activate
def test_ops_overloaded_then_down(register_keys, settings):
    settings.REGISTER_RETRIES = 1
    _ops_token()
    responses.post(f"{OPS}/rest-services/published-data/publication/epodoc/biblio", status=200, body=b"<x/>",
                   headers={"X-Throttling-Control": "overloaded (retrieval=black:0)"})
    with pytest.raises(RegisterUnavailable):
        OpsRegister(sleep=no_sleep).lookup("EP1000000")
    # While OPS says it is overloaded, further look-ups do not even call it.
    before = len(responses.calls)
    with pytest.raises(RegisterUnavailable):
        OpsRegister(sleep=no_sleep).lookup("EP1000001")
    assert len(responses.calls) == before


# --- routing -----------------------------------------------------------------------------------


@responses.activate
def test_routed_register_sends_numbers_to_the_configured_adapter(register_keys, settings):
    settings.REGISTER_ADAPTERS = {"US": "rights.registry.uspto_odp.OdpRegister",
                                  "US:trademark": "rights.registry.uspto_tsdr.TsdrRegister"}
    responses.get(f"{ODP}/14104993", body=recorded("uspto_odp_14104993.json"), content_type="application/json")
    responses.get(f"{TSDR}/sn97123456/info.json", body=recorded("uspto_tsdr_sn97123456.json"),
                  content_type="application/json")
    routed = RoutedRegister()
    assert routed.lookup("14/104,993").record.source == "uspto_odp"
    assert routed.lookup("97123456", jurisdiction="US", kind="trademark").record.source == "uspto_tsdr"


def test_routed_register_without_adapters_is_the_embedded_register(settings):
    settings.REGISTER_ADAPTERS = {}
    from tests.factories.listings import register_record

    record = register_record()
    assert RoutedRegister().lookup(record.number).record.pk == record.pk
