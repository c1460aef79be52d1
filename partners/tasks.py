from celery import shared_task

from marketplace.celery import app

from . import services, webhooks


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
    return services.idempotency_purge()


@app.on_after_finalize.connect
def setup_periodic_tasks(sender, **kwargs):
    sender.add_periodic_task(30.0, retry_webhooks.s(), name="retry due webhooks")
    sender.add_periodic_task(3600.0, purge_idempotency_records.s(), name="purge idempotency records")
