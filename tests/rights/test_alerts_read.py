"""Alerts read/unread, per member: each member sees which alerts are new to them, marks one or all as
read, and the count of new ones; another member's reads, another organization's and another exchange's
alerts change nothing."""

import pytest

from accounts.models import Role
from core.errors import NotAllowed
from rights.alerts import alert_mark_read, alerts_mark_all_read, member_alerts
from rights.models import Alert, AlertRead
from rights.services import holding_ensure
from tests.factories import OrganizationFactory, make_member
from tests.factories.listings import register_record

pytestmark = pytest.mark.django_db


def _alerts(org, n, kind="opposition"):
    holding = holding_ensure(organization=org, record=register_record(owner_name=org.legal_name))
    return [Alert.objects.create(organization=org, holding=holding, record=holding.record, kind=kind, key=f"k{i}",
                                 message=f"alert {i}") for i in range(n)]


def _new(user, org):
    rows, unread = member_alerts(user=user, organization=org)
    return {a.pk for a in rows if not a.is_read}, unread


def test_each_member_reads_their_own_alerts(tenant):
    org = OrganizationFactory()
    ann = make_member(roles=(Role.SELLER,), org=org)
    bob = make_member(roles=(Role.SELLER,), org=org)
    a1, a2, a3 = _alerts(org, 3)
    assert _new(ann, org) == ({a1.pk, a2.pk, a3.pk}, 3)
    assert alert_mark_read(actor=ann, organization=org, alert_id=a2.pk) is True
    assert alert_mark_read(actor=ann, organization=org, alert_id=a2.pk) is True  # again: nothing changes
    assert _new(ann, org) == ({a1.pk, a3.pk}, 2)
    assert _new(bob, org) == ({a1.pk, a2.pk, a3.pk}, 3)  # per member, not per organization
    assert alerts_mark_all_read(actor=ann, organization=org, through=a3.pk) == a3.pk
    assert _new(ann, org) == (set(), 0)
    assert AlertRead.objects.filter(user=ann).count() == 0  # folded into the member's read-through mark
    [a4] = _alerts(org, 1, kind="lapse")
    assert _new(ann, org) == ({a4.pk}, 1)  # a new alert after "all read" is new
    assert _new(bob, org)[1] == 4


def test_mark_all_read_stops_at_what_the_member_saw(tenant):
    org = OrganizationFactory()
    ann = make_member(roles=(Role.SELLER,), org=org)
    a1, a2 = _alerts(org, 2)
    alerts_mark_all_read(actor=ann, organization=org, through=a1.pk)  # the page showed a1 only
    assert _new(ann, org) == ({a2.pk}, 1)
    alerts_mark_all_read(actor=ann, organization=org, through=a1.pk - 100)  # never moves back
    assert _new(ann, org) == ({a2.pk}, 1)
    alerts_mark_all_read(actor=ann, organization=org, through=10**12)  # capped at the newest alert
    assert _new(ann, org) == (set(), 0)


def test_the_count_covers_only_the_kinds_the_member_gets(tenant):
    from rights.alerts import alert_preference_set

    org = OrganizationFactory()
    ann = make_member(roles=(Role.SELLER,), org=org)
    _alerts(org, 2, kind="fee_due")
    [lapse] = _alerts(org, 1, kind="lapse")
    alert_preference_set(actor=ann, organization=org, kinds=["lapse"], email="urgent")
    rows, unread = member_alerts(user=ann, organization=org)
    assert ([a.pk for a in rows], unread) == ([lapse.pk], 1)


def test_outsiders_cannot_mark_and_other_organizations_alerts_are_not_found(client, tenant):
    org, other = OrganizationFactory(), OrganizationFactory()
    ann = make_member(roles=(Role.SELLER,), org=org)
    outsider = make_member(roles=(Role.SELLER,), org=other)
    [mine] = _alerts(org, 1)
    [theirs] = _alerts(other, 1)
    with pytest.raises(NotAllowed):
        alert_mark_read(actor=outsider, organization=org, alert_id=mine.pk)
    with pytest.raises(NotAllowed):
        alerts_mark_all_read(actor=outsider, organization=org)
    assert alert_mark_read(actor=ann, organization=org, alert_id=theirs.pk) is False
    client.force_login(ann)
    assert client.post(f"/portfolio/alerts/{theirs.pk}/read/").status_code == 404
    assert client.get(f"/portfolio/alerts/{mine.pk}/read/").status_code == 405
    assert not AlertRead.objects.exists()


def test_the_page_shows_new_alerts_and_marks_them_read(client, tenant):
    org = OrganizationFactory()
    ann = make_member(roles=(Role.SELLER,), org=org)
    a1, a2 = _alerts(org, 2)
    client.force_login(ann)
    page = client.get("/portfolio/").content.decode()
    assert 'id="alerts-unread"' in page
    assert "2 new alerts" in page
    assert page.count('class="pf-alert unread"') == 2
    response = client.post(f"/portfolio/alerts/{a1.pk}/read/")
    assert response.status_code == 302
    assert response["Location"].endswith("/portfolio/#alerts")
    page = client.get("/portfolio/").content.decode()
    assert "1 new alert" in page
    assert page.count('class="pf-alert unread"') == 1
    assert f'id="alert-read-{a1.pk}"' not in page
    assert f'id="alert-read-{a2.pk}"' in page
    client.post("/portfolio/alerts/read/", {"through": str(a2.pk)})
    page = client.get("/portfolio/").content.decode()
    assert "new alert" not in page
    assert 'class="pf-alert unread"' not in page
    assert "alert 0" in page  # read alerts stay on the list
