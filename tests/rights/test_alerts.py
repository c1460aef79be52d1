"""Members choose the alerts they get (kinds; e-mail at once, daily digest, none); the daily digest is
sent once, in the reader's language."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Role
from core.errors import NotAllowed, ValidationFailed
from core.models import Notification, OutboxMessage
from rights.alerts import alert_digests_send, alert_preference_set
from rights.models import AlertPreference
from rights.monitoring import monitor_due
from rights.services import holding_ensure
from tests.factories import OrganizationFactory, make_member
from tests.factories.listings import register_record

pytestmark = pytest.mark.django_db


def _overdue_right(org):
    today = timezone.localdate()
    filing = today.replace(year=today.year - 6) - datetime.timedelta(days=40)  # year-7 fee fell due 40 days ago
    record = register_record(owner_name=org.legal_name, filing_date=filing, grant_date=filing.replace(
        year=filing.year + 2), renewal_paid_through=filing.replace(year=filing.year + 6))
    return holding_ensure(organization=org, record=record)


def _emailed(user):
    ids = set(Notification.objects.filter(user=user).values_list("pk", flat=True))
    return [m for m in OutboxMessage.objects.all() if m.kwargs.get("notification_id") in ids]


def test_each_member_gets_the_alerts_they_chose(tenant):
    org = OrganizationFactory()
    default = make_member(roles=(Role.SELLER,), org=org)
    fees_only_at_once = make_member(roles=(Role.SELLER,), org=org)
    no_fees = make_member(roles=(Role.SELLER,), org=org)
    digest = make_member(roles=(Role.SELLER,), org=org)
    alert_preference_set(actor=fees_only_at_once, organization=org, kinds=["fee_overdue", "fee_due"],
                         email="immediate")
    alert_preference_set(actor=no_fees, organization=org, kinds=["lapse", "assignment"], email="urgent")
    alert_preference_set(actor=digest, organization=org, kinds=[], email="digest")
    _overdue_right(org)
    monitor_due()
    assert Notification.objects.filter(user=default, kind="right.fee_overdue").count() == 1
    assert len(_emailed(default)) == 1  # an overdue fee is urgent: e-mailed at once by default
    assert len(_emailed(fees_only_at_once)) == 1
    assert not Notification.objects.filter(user=no_fees).exists()
    assert Notification.objects.filter(user=digest, kind="right.fee_overdue").count() == 1  # in the site
    assert _emailed(digest) == []  # and in tomorrow's digest, not now


def test_only_members_choose_and_only_known_options(tenant):
    org = OrganizationFactory()
    member = make_member(roles=(Role.SELLER,), org=org)
    outsider = make_member(roles=(Role.SELLER,))
    with pytest.raises(NotAllowed):
        alert_preference_set(actor=outsider, organization=org, kinds=[], email="digest")
    with pytest.raises(ValidationFailed):
        alert_preference_set(actor=member, organization=org, kinds=["nonsense"], email="digest")
    with pytest.raises(ValidationFailed):
        alert_preference_set(actor=member, organization=org, kinds=[], email="hourly")
    assert not AlertPreference.objects.exists()


def test_daily_digest_once_in_the_readers_language(tenant):
    org = OrganizationFactory()
    reader = make_member(roles=(Role.SELLER,), org=org, language="zh-hans")
    alert_preference_set(actor=reader, organization=org, kinds=[], email="digest")
    AlertPreference.objects.update(last_digest_at=timezone.now() - datetime.timedelta(hours=1))
    holding = _overdue_right(org)
    monitor_due()
    mail.outbox.clear()
    assert alert_digests_send() == 1
    [message] = mail.outbox
    assert message.to == [reader.email]
    assert "1 条" in message.subject
    assert holding.record.number in message.body
    assert "费用逾期" in message.body
    assert "Fee overdue" not in message.body
    assert alert_digests_send() == 0  # the task runs again: nothing new, nothing sent
    assert len(mail.outbox) == 1


def test_alert_settings_page(client, tenant):
    org = OrganizationFactory()
    member = make_member(roles=(Role.SELLER,), org=org)
    client.force_login(member)
    assert client.get("/portfolio/alerts/").status_code == 200
    response = client.post("/portfolio/alerts/", {"kinds": ["lapse", "fee_overdue"], "email": "digest"})
    assert response.status_code == 302
    pref = AlertPreference.objects.get(user=member)
    assert (sorted(pref.kinds), pref.email) == (["fee_overdue", "lapse"], "digest")
    page = client.post("/portfolio/alerts/", {"kinds": ["lapse"], "email": "hourly"}).content.decode()
    assert "Choose the alerts" in page
    assert AlertPreference.objects.get(user=member).email == "digest"


def test_alert_settings_and_owner_search_pages_in_chinese(client, tenant):
    import re

    org = OrganizationFactory(legal_name="清源大学技术转移中心")
    member = make_member(roles=(Role.SELLER,), org=org, language="zh-hans")
    holding_ensure(organization=org, record=register_record(owner_name=org.legal_name))
    client.force_login(member)
    for url in ("/portfolio/alerts/", "/portfolio/import/?owner=清源大学", "/portfolio/"):
        html = client.get(url).content.decode()
        main = html[html.index("<main"):html.index("</main>")]
        text = re.sub(r"<[^>]+>", " ", main)
        english = [w for w in re.findall(r"[A-Za-z]{4,}", text) if w.upper() != w and w != "Excel"]  # not EUIPO
        assert english == [], (url, english[:10])
