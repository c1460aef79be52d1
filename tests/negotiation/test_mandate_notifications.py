"""Both sides of a mandate are told when it is proposed, accepted, declined or revoked: every member of
the broker and of the principal, in-app and by e-mail, each in their own language."""

import pytest
from django.core import mail

from accounts.mandates import mandate_accept, mandate_decline, mandate_propose, mandate_revoke
from core.models import Notification
from core.tasks import send_notification_email
from tests.factories import OrganizationFactory, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def sides(tenant):
    principal = OrganizationFactory(legal_name="清源大学")
    broker_org = OrganizationFactory(legal_name="Huazhi Brokers")
    tto = make_member(org=principal, language="zh-hans", email="tto@n.test")
    broker = make_member(org=broker_org, language="en", email="broker@n.test")
    colleague = make_member(org=broker_org, language="zh-hans", email="colleague@n.test")
    return principal, broker_org, tto, broker, colleague


def _propose(principal, broker_org, broker):
    return mandate_propose(actor=broker, broker_org=broker_org, principal_org=principal, all_listings=True,
                           commission_bps=250)


def _notes(kind):
    return {n.user.email: n for n in Notification.objects.filter(kind=kind).select_related("user")}


def test_proposed_then_accepted_then_revoked_tells_both_sides_in_their_language(sides):
    principal, broker_org, tto, broker, colleague = sides
    mandate = _propose(principal, broker_org, broker)
    notes = _notes("mandate.proposed")
    assert set(notes) == {"tto@n.test", "broker@n.test", "colleague@n.test"}
    assert notes["tto@n.test"].subject == "Huazhi Brokers 申请代理您的委托"
    assert "2.5%" in notes["tto@n.test"].body
    assert notes["broker@n.test"].subject == "Mandate proposed to 清源大学"
    assert notes["colleague@n.test"].subject == "已向 清源大学 申请委托"
    assert all(n.url == "/deals/mandates/" for n in notes.values())

    mandate_accept(mandate=mandate, actor=tto)
    notes = _notes("mandate.accepted")
    assert notes["broker@n.test"].subject == "清源大学 accepted your mandate"
    assert notes["tto@n.test"].subject == "Huazhi Brokers 的委托已生效"
    assert mandate.ends_on.isoformat() in notes["tto@n.test"].body

    mandate_revoke(mandate=mandate, actor=tto)
    notes = _notes("mandate.revoked")
    assert set(notes) == {"tto@n.test", "broker@n.test", "colleague@n.test"}
    assert notes["broker@n.test"].body == "清源大学 revoked it: you can no longer act for 清源大学 under it."
    assert notes["tto@n.test"].subject == "Huazhi Brokers 的委托已撤销"


def test_an_api_keys_service_user_is_not_told(sides):
    from tests.factories import make_api_key

    principal, broker_org, _tto, broker, _colleague = sides
    key, _secret = make_api_key(organization=principal)
    _propose(principal, broker_org, broker)
    assert not Notification.objects.filter(user=key.service_user).exists()
    assert Notification.objects.filter(kind="mandate.proposed").count() == 3


def test_declined_and_revoked_by_the_broker(sides):
    principal, broker_org, tto, broker, _colleague = sides
    mandate_decline(mandate=_propose(principal, broker_org, broker), actor=tto)
    notes = _notes("mandate.declined")
    assert notes["broker@n.test"].subject == "清源大学 declined your mandate"
    assert notes["tto@n.test"].subject == "您已拒绝 Huazhi Brokers 的委托"
    mandate_revoke(mandate=_propose(principal, broker_org, broker), actor=broker)
    assert _notes("mandate.revoked")["tto@n.test"].body.startswith("Huazhi Brokers 已撤销该委托")


def test_a_failed_step_tells_nobody(sides):
    principal, broker_org, tto, broker, _colleague = sides
    mandate = _propose(principal, broker_org, broker)
    mandate_decline(mandate=mandate, actor=tto)
    with pytest.raises(Exception, match="no longer awaiting"):
        mandate_accept(mandate=mandate, actor=tto)
    assert not Notification.objects.filter(kind="mandate.accepted").exists()


def test_the_email_goes_out_in_the_readers_language(sides, tenant, django_capture_on_commit_callbacks):
    principal, broker_org, tto, broker, _colleague = sides
    with django_capture_on_commit_callbacks(execute=False):
        mandate = _propose(principal, broker_org, broker)
    note = Notification.objects.get(kind="mandate.proposed", user=tto)
    send_notification_email(notification_id=note.pk, tenant_id=tenant.pk)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["tto@n.test"]
    assert "Huazhi Brokers 申请代理您的委托" in mail.outbox[0].subject
    assert mandate.pk
