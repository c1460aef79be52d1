import pytest

from transfers.models import Office
from transfers.offices import backoff, get_gateway, offices_for, route, route_rights
from transfers.offices.manual import ManualOfficeGateway
from transfers.offices.simulated import SimulatedOfficeGateway


@pytest.mark.parametrize(("jurisdiction", "kind", "office"), [
    ("CN", "invention", Office.CNIPA_PATENT),
    ("CN", "utility_model", Office.CNIPA_PATENT),
    ("CN", "design", Office.CNIPA_PATENT),
    ("CN", "trademark", Office.CNIPA_TRADEMARK),
    ("US", "invention", Office.USPTO_PATENT),
    ("US", "trademark", Office.USPTO_TRADEMARK),
    ("EP", "trademark", Office.EUIPO),
    ("EP", "design", Office.EUIPO),
    ("WO", "trademark", Office.WIPO_MADRID),
    ("EP", "invention", None),
    ("WO", "invention", None),
])
def test_route_picks_the_office_from_jurisdiction_and_kind(jurisdiction, kind, office):
    assert route(jurisdiction, kind) == office


def test_rights_at_different_offices_are_filed_once_per_office(tenant):
    # given a bundle of a Chinese patent and a US trademark
    from listings.models import Right

    rights = [Right(jurisdiction="CN", kind="invention"), Right(jurisdiction="US", kind="trademark")]
    # when routed: no problem, one filing per office
    office, problems = route_rights(rights)
    assert office == Office.CNIPA_PATENT
    assert problems == []
    assert {o: len(r) for o, r in offices_for(rights).items()} == {Office.CNIPA_PATENT: 1, Office.USPTO_TRADEMARK: 1}


def test_unroutable_right_gets_a_clear_message(tenant):
    from listings.models import Right

    office, problems = route_rights([Right(jurisdiction="EP", kind="invention")])
    assert office is None
    assert "EPO" in problems[0]


def test_backoff_grows_and_is_capped(settings):
    settings.SIMULATION_TIME_SCALE = 1.0
    waits = [backoff(Office.CNIPA_PATENT, n).total_seconds() for n in range(8)]
    assert waits[:3] == [3600, 7200, 14400]
    assert waits == sorted(waits)
    assert max(waits) == 86400  # never more than a day
    # USPTO answers in days: never wait more than a quarter of that
    assert backoff(Office.USPTO_PATENT, 9).total_seconds() == 3 * 86400 / 4


def test_backoff_is_scaled_like_every_simulated_delay(settings):
    settings.SIMULATION_TIME_SCALE = 0
    assert backoff(Office.CNIPA_PATENT, 3).total_seconds() == 0


def test_adapters_by_name():
    assert isinstance(get_gateway("simulated"), SimulatedOfficeGateway)
    assert isinstance(get_gateway("manual"), ManualOfficeGateway)
    with pytest.raises(ValueError, match="unknown office adapter"):
        get_gateway("fax")


def test_no_rights_no_route(tenant):
    office, problems = route_rights([])
    assert office is None
    assert "no registered right" in problems[0]
