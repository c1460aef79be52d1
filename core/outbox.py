"""Queue Celery work from inside a transaction, safely.

`enqueue("app.tasks.name", key=value)` stores an OutboxMessage in the caller's transaction and
publishes it once the transaction commits. If the broker is down, the web request still succeeds:
the message stays pending and `core.tasks.relay_outbox` (beat, every 30 s) publishes it when
the broker is back. Tasks must therefore be idempotent (they are: they lock rows and check state).
"""

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import OutboxMessage

log = logging.getLogger(__name__)


def enqueue(task_name: str, **kwargs: Any) -> OutboxMessage:
    message = OutboxMessage.objects.create(task_name=task_name, kwargs=kwargs)
    transaction.on_commit(lambda: publish(message.pk))
    return message


def publish(message_id: int) -> bool:
    app = import_string(settings.CELERY_APP)  # the project's app (marketplace.celery), named in settings
    message = OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True).first()
    if message is None:
        return True
    try:
        app.send_task(message.task_name, kwargs=message.kwargs, retry=False)
    except Exception as exc:  # broker down: keep it for relay_outbox
        OutboxMessage.objects.filter(pk=message_id).update(
            attempts=message.attempts + 1, last_error=str(exc)[:500]
        )
        log.warning("broker unavailable, %s kept in outbox: %s", message.task_name, exc)
        return False
    OutboxMessage.objects.filter(pk=message_id).update(sent_at=timezone.now(), attempts=message.attempts + 1)
    return True


def relay_pending(limit: int = 500) -> int:
    """Publish what the broker refused earlier. Returns how many were published."""
    sent = 0
    ids = list(
        OutboxMessage.objects.filter(sent_at__isnull=True).order_by("created_at").values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        if not publish(pk):
            break
        sent += 1
    return sent
