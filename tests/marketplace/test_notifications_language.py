"""Notifications speak the reader's language of the moment they read them (inbox and email)."""

from django.core import mail
from django.utils import translation
from django.utils.translation import gettext_lazy

from core.models import Notification
from core.notifications import notify
from core.tasks import send_notification_email
from tests.factories import PASSWORD, UserFactory


def test_inbox_follows_the_readers_language_now_not_when_it_was_written(client, tenant):
    user = UserFactory(language="zh-hans")
    notify(users=[user], kind="order.test", subject=gettext_lazy("Order %(ref)s updated"),
           params={"ref": "T-1"}, email=False)
    note = Notification.objects.get(user=user)
    assert note.subject == "订单 T-1 已更新"  # as written, in the language of that moment

    user.language = "en"
    user.save(update_fields=["language"])
    assert client.login(email=user.email, password=PASSWORD)
    page = client.get("/notifications/").content.decode()
    assert "Order T-1 updated" in page
    assert "订单 T-1 已更新" not in page


def test_lazy_parameters_are_translated_at_read_time(tenant):
    user = UserFactory(language="en")
    notify(users=[user], kind="order.test", subject=gettext_lazy("Order %(ref)s updated"),
           body=gettext_lazy("%(org)s is verified: you can now sell"),
           params={"ref": "T-2", "org": gettext_lazy("exchange")}, email=False)
    note = Notification.objects.get(user=user)
    with translation.override("zh-hans"):
        assert note.display_subject == "订单 T-2 已更新"
        assert "交易所" in note.display_body
    with translation.override("en"):
        assert note.display_body.startswith("exchange is verified")


def test_email_is_rendered_in_the_recipients_language_when_sent(tenant, django_capture_on_commit_callbacks):
    user = UserFactory(language="en")
    notify(users=[user], kind="order.test", subject=gettext_lazy("Order %(ref)s updated"), params={"ref": "T-3"})
    note = Notification.objects.get(user=user)
    user.language = "zh-hans"
    user.save(update_fields=["language"])
    send_notification_email(notification_id=note.pk, tenant_id=tenant.pk)
    assert len(mail.outbox) == 1
    assert "订单 T-3 已更新" in mail.outbox[0].subject
    assert "Order" not in mail.outbox[0].body.split("\n")[0]


def test_a_nested_message_is_stored_untranslated_and_rendered_for_the_reader(tenant):
    from core.notifications import Message

    user = UserFactory(language="en")
    quoted = Message(gettext_lazy("Order %(ref)s updated"), {"ref": "T-4"})
    with translation.override("en"):
        notify(users=[user], kind="order.test", subject=gettext_lazy("%(org)s is verified: you can now sell"),
               body=gettext_lazy("%(warning)s"), params={"org": "ACME", "warning": quoted}, email=False)
    note = Notification.objects.get(user=user)
    assert note.params["warning"] == {"__msgid__": "Order %(ref)s updated", "params": {"ref": "T-4"}}
    with translation.override("zh-hans"):
        assert note.display_body == "订单 T-4 已更新"
    with translation.override("en"):
        assert note.display_body == "Order T-4 updated"
    assert Message.from_stored(quoted.stored()).source == quoted.source
    assert str(Message.restore("", {})) == ""
