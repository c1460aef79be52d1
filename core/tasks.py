from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Notification
from .outbox import relay_pending
from .tenancy import tenant_context


@shared_task(name="core.tasks.send_notification_email")
def send_notification_email(*, notification_id: int, tenant_id: int) -> None:
    with tenant_context(tenant_id) as tenant, transaction.atomic():
        note = (
            Notification.objects.select_for_update(of=("self",)).select_related("user")
            .filter(pk=notification_id, emailed_at__isnull=True).first()
        )
        if note is None:  # already sent (task ran twice)
            return
        language = note.user.language or tenant.default_language
        with translation.override(language):
            context = {"note": note, "tenant": tenant, "url": tenant.absolute_url(note.url or "/")}
            text = render_to_string("email/notification.txt", context)
            subject = f"[{tenant.display_name(language)}] {note.display_subject}"
        send_mail(subject, text, None, [note.user.email])
        note.emailed_at = timezone.now()
        note.save(update_fields=["emailed_at"])


@shared_task(name="core.tasks.relay_outbox")
def relay_outbox() -> int:
    return relay_pending()
