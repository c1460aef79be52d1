"""Two inputs of the valuation indicators (issue 15, session 3b): open wants matching the right (this
exchange counted, other exchanges only as a total) and the legal status history from rights monitoring
(a lapse and its restoration counted into the legal strength)."""

import datetime

import pytest
from django.utils import timezone
from django.utils.translation import override

from core.tenancy import tenant_context
from financing.valuation import valuate
from rights.models import Alert, LegalStatus
from rights.monitoring import _create_once, events_for, snapshot_of
from rights.services import holding_ensure
from tests.factories.accounts import OrganizationFactory
from tests.factories.demand import post_want
from tests.factories.listings import register_record

pytestmark = pytest.mark.django_db


def indicator(valuation, code):
    return next(i for i in valuation.indicators if i.code == code)


def battery_right():
    return register_record(owner_name="Holder Co.", classes=["H01M 10/0525"], title="Lithium cell electrode")


def test_a_right_no_open_want_matches(tenant):
    post_want(classes="G06F 17/00", title="Database indexing", keywords="database index")  # other class
    wanted = indicator(valuate([battery_right()], currency="CNY"), "wanted")
    assert wanted.inputs == {"here": 0, "elsewhere": 0}
    assert wanted.value == "0 open wants on this exchange · 0 on other exchanges"
    assert wanted.status == "info"


def test_two_matching_wants_here_and_one_elsewhere_counted_only(tenant, other_tenant):
    post_want(classes="H01M 4/13")  # same subclass H01M
    post_want(classes="H01M 10/0525", title="Cells")
    expired, _buyer = post_want(classes="H01M 4/13", title="Old need")
    type(expired).objects.filter(pk=expired.pk).update(deadline=timezone.localdate() - datetime.timedelta(days=1))
    post_want(classes="G06F 17/00", title="Database indexing", keywords="database index")  # other class
    with tenant_context(other_tenant):
        secret, _b = post_want(classes="H01M 4/13", title="Secret buyer need")

    valuation = valuate([battery_right()], currency="CNY")
    wanted = indicator(valuation, "wanted")
    assert wanted.inputs == {"here": 2, "elsewhere": 1}
    assert wanted.value == "2 open wants on this exchange · 1 on other exchanges"
    assert wanted.status == "ok"
    text = str(valuation.as_dict())
    assert "Secret buyer need" not in text
    assert secret.buyer_org.legal_name not in text
    assert "beta" not in text
    with override("zh-hans"):
        zh = indicator(valuate([battery_right()], currency="CNY"), "wanted")
    assert "2" in zh.value
    assert "open wants" not in zh.value
    assert "exchange" not in zh.explanation


def _status_change(holding, record, status, on):
    previous = snapshot_of(record)
    record.legal_status = status
    record.save(update_fields=["legal_status"])
    created = [_create_once(holding, record, e) for e in events_for(holding, record, previous, on)
               if e["kind"] in (Alert.Kind.STATUS, Alert.Kind.LAPSE)]
    Alert.objects.filter(pk__in=[a.pk for a in created if a]).update(
        created_at=datetime.datetime.combine(on, datetime.time(12), tzinfo=datetime.UTC))


def test_lapse_and_restoration_in_the_status_history_and_legal_strength(tenant, other_tenant):
    record = register_record(owner_name="Holder Co.", grant_date=datetime.date(2019, 5, 1),
                             renewal_paid_through=timezone.localdate() + datetime.timedelta(days=200))
    holding = holding_ensure(organization=OrganizationFactory(legal_name="Holder Co."), record=record)
    _status_change(holding, record, LegalStatus.LAPSED, datetime.date(2023, 3, 2))
    _status_change(holding, record, LegalStatus.VALID, datetime.date(2023, 6, 20))
    with tenant_context(other_tenant):  # another exchange's monitoring saw the same restoration: counted once
        other = holding_ensure(organization=OrganizationFactory(legal_name="Holder Co."), record=record)
        seen_there = Alert.objects.create(organization=other.organization, holding=other, record=record,
                                          kind=Alert.Kind.STATUS, key="lapsed>valid", message="x")
        Alert.objects.filter(pk=seen_there.pk).update(
            created_at=datetime.datetime(2023, 6, 20, 13, tzinfo=datetime.UTC))

    valuation = valuate([record], currency="CNY")
    history = indicator(valuation, "status_history")
    assert history.value == "in force since 2023-06-20 · 1 lapse restored in 2023"
    assert history.status == "warn"
    assert [c["after"] for c in history.inputs["changes"][f"CN {record.number}"]] == ["lapsed", "valid"]
    legal = indicator(valuation, "legal_status")
    assert legal.value == "in force"
    assert "1 lapse that was restored (CN " in legal.explanation
    assert "2023)" in legal.explanation
    assert legal.status == "warn"
    with override("zh-hans"):
        zh = indicator(valuate([record], currency="CNY"), "status_history")
    assert "2023-06-20" in zh.value
    assert "lapse" not in zh.value
    assert "in force" not in zh.value


def test_a_right_without_history_is_in_force_since_its_grant(tenant):
    record = register_record(owner_name="Holder Co.", grant_date=datetime.date(2020, 1, 7),
                             renewal_paid_through=timezone.localdate() + datetime.timedelta(days=200))
    valuation = valuate([record], currency="CNY")
    assert indicator(valuation, "status_history").value == "in force since 2020-01-07 · no status change seen"
    assert indicator(valuation, "status_history").status == "ok"
    assert indicator(valuation, "legal_status").status == "ok"


def test_listing_page_and_api_show_both_inputs_in_the_readers_language(client, tenant, other_tenant, settings):
    from tests.factories import api_headers, make_api_key, published_listing

    settings.API_THROTTLE_RATE = "100000/min"
    record = battery_right()
    listing = published_listing(records=[record])
    post_want(classes="H01M 4/13")
    post_want(classes="H01M 10/0525", title="Cells")
    with tenant_context(other_tenant):
        post_want(classes="H01M 4/13", title="Secret buyer need")

    page = client.get(f"/listings/{listing.pk}/", headers={"Accept-Language": "en"}).content.decode()
    assert "Wanted by buyers" in page
    assert "2 open wants on this exchange · 1 on other exchanges" in page
    assert "Legal status history" in page
    assert "Secret buyer need" not in page
    zh = client.get(f"/listings/{listing.pk}/", headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "买方需求" in zh
    assert "本交易所 2 条开放需求 · 其他交易所 1 条" in zh
    assert "法律状态历史" in zh
    assert "Wanted by buyers" not in zh
    assert "open wants" not in zh
    right_page = client.get(f"/financing/rights/{record.pk}/", headers={"Accept-Language": "en"}).content.decode()
    assert "2 open wants on this exchange · 1 on other exchanges" in right_page

    headers = api_headers(make_api_key(organization=OrganizationFactory())[1])
    v = client.get(f"/api/v1/listings/{listing.pk}/valuation", headers=headers).json()
    wanted = next(i for i in v["indicators"] if i["code"] == "wanted")
    assert wanted["inputs"] == {"here": 2, "elsewhere": 1}
    assert any(i["code"] == "status_history" for i in v["indicators"])
