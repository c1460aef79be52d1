import logging

from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Notification
from .outbox import relay_pending
from .tenancy import tenant_context
from .text import single_line

log = logging.getLogger(__name__)


@shared_task(name="core.tasks.send_notification_email", bind=True, max_retries=5, acks_late=True)
def send_notification_email(self, *, notification_id: int, tenant_id: int) -> None:  # type: ignore[no-untyped-def]
    """Email one notification. The subject is one line whatever it quotes (a title with CR/LF once made
    every such email fail with BadHeaderError). A failure is recorded on the notification and retried
    with backoff; after the last attempt it stays recorded (`email_failed_at`) and is logged as an
    error: never dropped without a trace."""
    with tenant_context(tenant_id) as tenant:
        try:
            with transaction.atomic():
                note = (
                    Notification.objects.select_for_update(of=("self",)).select_related("user")
                    .filter(pk=notification_id, emailed_at__isnull=True, email_failed_at__isnull=True).first()
                )
                if note is None:  # already sent (task ran twice) or given up on
                    return
                language = note.user.language or tenant.default_language
                with translation.override(language):
                    context = {"note": note, "tenant": tenant, "url": tenant.absolute_url(note.url or "/")}
                    text = render_to_string("email/notification.txt", context)
                    subject = single_line(f"[{tenant.display_name(language)}] {note.display_subject}")
                send_mail(subject, text, None, [note.user.email])
                note.emailed_at = timezone.now()
                note.save(update_fields=["emailed_at"])
        except Exception as exc:  # noqa: BLE001 - any failure of the mail system is recorded, then retried
            attempts = _record_failure(notification_id, exc, give_up=False)
            if attempts > self.max_retries:
                _record_failure(notification_id, exc, give_up=True)
                log.error("notification %s: email to user given up after %s attempts: %s",
                          notification_id, attempts - 1, exc)
                return
            raise self.retry(exc=exc, countdown=min(60 * 2 ** (attempts - 1), 300)) from exc


def _record_failure(notification_id: int, exc: BaseException, *, give_up: bool) -> int:
    with transaction.atomic():
        note = Notification.objects.select_for_update(of=("self",)).filter(pk=notification_id).first()
        if note is None:
            return 0
        if give_up:
            note.email_failed_at = timezone.now()
            note.save(update_fields=["email_failed_at"])
            return note.email_attempts
        note.email_attempts += 1
        note.email_error = f"{type(exc).__name__}: {exc}"[:500]
        note.save(update_fields=["email_attempts", "email_error"])
        return note.email_attempts


@shared_task(name="core.tasks.relay_outbox")
def relay_outbox() -> int:
    return relay_pending()
