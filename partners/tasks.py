from celery import shared_task

from . import idempotency, services, webhooks


@shared_task(name="partners.tasks.deliver_webhook")
def deliver_webhook(*, delivery_id, tenant_id):
    webhooks.deliver_in_tenant(delivery_id=delivery_id, tenant_id=tenant_id)


@shared_task(name="partners.tasks.retry_webhooks")
def retry_webhooks():
    """Beat: hand every delivery whose next retry is due to the workers (each in its own tenant).
    The lease in `webhooks.deliver` makes a delivery queued twice go out once."""
    queued = 0
    for tenant_id, delivery_id in services.due_webhook_deliveries():
        deliver_webhook.delay(delivery_id=delivery_id, tenant_id=tenant_id)
        queued += 1
    return queued


@shared_task(name="partners.tasks.purge_idempotency_records")
def purge_idempotency_records():
    return idempotency.idempotency_purge()
