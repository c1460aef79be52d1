"""Rights alerts speak the reader's language of the moment they read them: the alert stores the event
(message ids + parameters), not the text in the worker's language; the portfolio page, the in-app
notification, its e-mail and the daily digest render it for the reader. Old alerts (text only) still show."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone, translation

from accounts.models import Role
from core.models import Notification
from core.tasks import send_notification_email
from rights.alerts import alert_digests_send, alert_preference_set
from rights.models import Alert, AlertPreference
from rights.monitoring import monitor_due
from rights.services import holding_ensure
from tests.factories import PASSWORD, OrganizationFactory, make_member
from tests.factories.listings import register_record

pytestmark = pytest.mark.django_db

ZH_OVERDUE = "第7年年费 已于"  # "annual fee, year 7 was due on" as the zh-Hans catalogue says it
EN_OVERDUE = "annual fee, year 7 was due on"


def _overdue_right(org):
    today = timezone.localdate()
    filing = today.replace(year=today.year - 6) - datetime.timedelta(days=40)  # year-7 fee fell due 40 days ago
    record = register_record(owner_name=org.legal_name, filing_date=filing, grant_date=filing.replace(
        year=filing.year + 2), renewal_paid_through=filing.replace(year=filing.year + 6))
    return holding_ensure(organization=org, record=record)


def _monitor_in_english():
    with translation.override("en"):  # the worker's language
        monitor_due()


def test_alert_written_by_an_english_worker_reads_in_each_members_language(client, tenant):
    org = OrganizationFactory()
    zh = make_member(roles=(Role.SELLER,), org=org, language="zh-hans")
    en = make_member(roles=(Role.SELLER,), org=org, language="en")
    holding = _overdue_right(org)
    _monitor_in_english()
    [alert] = Alert.objects.filter(kind="fee_overdue")
    assert EN_OVERDUE in alert.message  # the text as first written (admin, old readers)

    assert client.login(email=zh.email, password=PASSWORD)
    page = client.get("/portfolio/").content.decode()
    assert ZH_OVERDUE in page
    assert "请在" in page
    assert "前缴纳费用及滞纳金" in page
    assert EN_OVERDUE not in page
    assert "Pay the fee" not in page
    client.logout()

    assert client.login(email=en.email, password=PASSWORD)
    page = client.get("/portfolio/").content.decode()
    assert EN_OVERDUE in page
    assert "Pay the fee and the surcharge before" in page
    assert ZH_OVERDUE not in page

    # The in-app notification and its e-mail (an overdue fee is urgent: e-mailed at once by default).
    zh_note = Notification.objects.get(user=zh, kind="right.fee_overdue")
    en_note = Notification.objects.get(user=en, kind="right.fee_overdue")
    with translation.override("zh-hans"):
        assert ZH_OVERDUE in zh_note.display_body
        assert "费用逾期" in zh_note.display_subject
    mail.outbox.clear()
    send_notification_email(notification_id=zh_note.pk, tenant_id=tenant.pk)
    send_notification_email(notification_id=en_note.pk, tenant_id=tenant.pk)
    to_zh, to_en = (next(m for m in mail.outbox if m.to == [u.email]) for u in (zh, en))
    assert ZH_OVERDUE in to_zh.body
    assert "费用逾期" in to_zh.subject
    assert EN_OVERDUE not in to_zh.body
    assert "Fee overdue" not in to_zh.subject
    assert EN_OVERDUE in to_en.body
    assert "Fee overdue" in to_en.subject
    assert ZH_OVERDUE not in to_en.body
    assert holding.record.number in to_zh.subject


def test_a_member_who_changes_language_reads_the_alert_in_the_new_one(client, tenant):
    org = OrganizationFactory()
    member = make_member(roles=(Role.SELLER,), org=org, language="en")
    _overdue_right(org)
    _monitor_in_english()
    member.language = "zh-hans"
    member.save(update_fields=["language"])
    note = Notification.objects.get(user=member, kind="right.fee_overdue")
    mail.outbox.clear()
    send_notification_email(notification_id=note.pk, tenant_id=tenant.pk)
    [message] = mail.outbox
    assert ZH_OVERDUE in message.body
    assert EN_OVERDUE not in message.body
    assert client.login(email=member.email, password=PASSWORD)
    inbox = client.get("/notifications/").content.decode()
    assert ZH_OVERDUE in inbox
    assert EN_OVERDUE not in inbox


def test_digest_quotes_the_alert_in_the_readers_language(tenant):
    org = OrganizationFactory()
    reader = make_member(roles=(Role.SELLER,), org=org, language="zh-hans")
    alert_preference_set(actor=reader, organization=org, kinds=[], email="digest")
    AlertPreference.objects.update(last_digest_at=timezone.now() - datetime.timedelta(hours=1))
    _overdue_right(org)
    _monitor_in_english()
    mail.outbox.clear()
    assert alert_digests_send() == 1
    [message] = mail.outbox
    assert ZH_OVERDUE in message.body
    assert EN_OVERDUE not in message.body
    assert "Pay the fee" not in message.body


def test_old_alerts_with_text_only_still_show(client, tenant):
    org = OrganizationFactory()
    member = make_member(roles=(Role.SELLER,), org=org, language="zh-hans")
    holding = _overdue_right(org)
    Alert.objects.create(organization=org, holding=holding, record=holding.record, kind="opposition", key="old",
                         message="旧的提醒文字", action="旧的处理办法")
    assert client.login(email=member.email, password=PASSWORD)
    page = client.get("/portfolio/").content.decode()
    assert "旧的提醒文字" in page
    assert "旧的处理办法" in page


def test_status_and_pledge_words_are_translated_too(tenant):
    from rights.monitoring import events_for

    org = OrganizationFactory()
    holding = _overdue_right(org)
    record = holding.record
    record.legal_status = "lapsed"
    record.encumbrances = [{"type": "pledge", "holder": "Bank A", "reference": "P-1"}]
    with translation.override("en"):
        events = events_for(holding, record, {"status": "valid", "owner": record.owner_name, "encumbrances": []},
                            timezone.localdate())
    by_kind = {e["kind"]: e for e in events}
    with translation.override("zh-hans"):
        lapse, pledge = str(by_kind["lapse"]["message"]), str(by_kind["pledge"]["message"])
    assert "生效中" in lapse
    assert "In force" not in lapse
    assert "质押" in pledge
    assert "pledge" not in pledge
