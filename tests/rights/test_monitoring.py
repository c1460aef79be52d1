"""The monitoring cycle on recorded register answers: a lapse, a recorded assignment and a pledge,
a fee overdue — one alert each, also when the cycle runs twice; only due holdings are read."""

import datetime

import pytest
import responses
from django.utils import timezone

from rights.models import Alert, Holding, RegisterRecord
from rights.monitoring import monitor_due
from rights.services import holding_ensure
from tests.factories.accounts import OrganizationFactory
from tests.factories.listings import register_record

from .conftest import recorded

pytestmark = pytest.mark.django_db
ODP = "https://api.uspto.gov/api/v1/patent/applications"


def _alerts(kind=None):
    qs = Alert.objects.all()
    return list(qs.filter(kind=kind)) if kind else list(qs)


@responses.activate
def test_lapse_and_recorded_assignment_from_the_uspto_answer_alert_once(tenant, settings, register_keys,
                                                                        captured_events,
                                                                        django_capture_on_commit_callbacks):
    settings.REGISTER_ADAPTERS = {"US": "rights.registry.uspto_odp.OdpRegister"}
    org = OrganizationFactory(legal_name="STMICROELECTRONICS SA")
    # What the exchange knew yesterday: in force, owned by the holder, no pledge.
    record = RegisterRecord.objects.create(
        jurisdiction="US", kind="invention", number="9362380", application_number="14/104993",
        title="HETEROJUNCTION BIPOLAR TRANSISTOR", owner_name="STMICROELECTRONICS SA", legal_status="valid",
        filing_date=datetime.date(2013, 12, 12), grant_date=datetime.date(2016, 6, 7), source="uspto_odp",
        fetched_at=timezone.now())
    holding = holding_ensure(organization=org, record=record)
    assert monitor_due().checked == 1  # baseline, from the cache
    assert _alerts() == []
    Holding.objects.filter(pk=holding.pk).update(next_check_at=timezone.now())
    RegisterRecord.objects.filter(pk=record.pk).update(fetched_at=timezone.now() - datetime.timedelta(days=2))
    # Today the USPTO answers: expired for non-payment, assigned to another company, a security interest.
    body = recorded("uspto_odp_14104993.json").replace(b'"Patented Case"', b'"Patent Expired Due to NonPayment of '
                                                                            b'Maintenance Fees Under 37 CFR 1.362"')
    responses.get(f"{ODP}/14104993", body=body, content_type="application/json")
    with django_capture_on_commit_callbacks(execute=True):
        stats = monitor_due()
    assert stats.checked == 1
    kinds = sorted(a.kind for a in _alerts())
    assert kinds == ["assignment", "lapse", "pledge"]
    assert "STMICROELECTRONICS INTERNATIONAL N.V." in _alerts("assignment")[0].message
    # The task runs again (retry, second worker, forced due): nothing new.
    Holding.objects.filter(pk=holding.pk).update(next_check_at=timezone.now(), snapshot={})
    RegisterRecord.objects.filter(pk=record.pk).update(fetched_at=timezone.now() - datetime.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        monitor_due()
    Holding.objects.filter(pk=holding.pk).update(next_check_at=timezone.now(),
                                                 snapshot={"status": "valid", "owner": "STMICROELECTRONICS SA",
                                                           "encumbrances": []})
    with django_capture_on_commit_callbacks(execute=True):
        monitor_due()
    assert sorted(a.kind for a in _alerts()) == ["assignment", "lapse", "pledge"]
    assert len([e for e in captured_events if e["event"] == "right.alert"]) == 3


def test_fee_overdue_alerts_once_with_the_grace_date(tenant):
    org = OrganizationFactory()
    today = timezone.localdate()
    filing = today.replace(year=today.year - 6) - datetime.timedelta(days=40)  # the year-7 fee fell due 40 days ago
    record = register_record(owner_name=org.legal_name, filing_date=filing, grant_date=filing.replace(year=filing.year + 2),
                             renewal_paid_through=filing.replace(year=filing.year + 6))
    holding_ensure(organization=org, record=record)
    monitor_due()
    Holding.objects.update(next_check_at=timezone.now())
    monitor_due()
    [alert] = _alerts("fee_overdue")
    assert "annual fee, year 7" in alert.message
    assert alert.due_by > today  # still payable late, with a surcharge, until then


def test_only_due_holdings_are_read(tenant, django_assert_max_num_queries):
    org = OrganizationFactory()
    for _ in range(5):
        holding_ensure(organization=org, record=register_record(owner_name=org.legal_name))
    Holding.objects.update(next_check_at=timezone.now() + datetime.timedelta(hours=3))
    stats = monitor_due()
    assert (stats.checked, stats.batches) == (0, 0)
    Holding.objects.filter(pk=Holding.objects.order_by("id").first().pk).update(next_check_at=timezone.now())
    assert monitor_due().checked == 1


def test_a_batch_costs_the_same_queries_whatever_its_size(tenant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cycle_queries(n):
        org = OrganizationFactory()
        for _ in range(n):
            holding_ensure(organization=org, record=register_record(owner_name=org.legal_name))
        Holding.objects.exclude(organization=org).update(next_check_at=timezone.now() + datetime.timedelta(days=1))
        Holding.objects.filter(organization=org).update(next_check_at=timezone.now())
        with CaptureQueriesContext(connection) as queries:
            stats = monitor_due(batch_size=50)
        assert stats.checked == n
        return len(queries)

    assert cycle_queries(2) == cycle_queries(30)  # register read, holdings and fees: per batch, not per right
