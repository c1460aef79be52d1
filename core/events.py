"""Domain events for the outside world (partner webhooks).

Services call `emit(...)` inside their transaction after a state change, e.g.
    emit("order.state_changed", organizations=[order.buyer_org, order.seller_org],
         data={"order": order.reference, "from": "placed", "to": "seller_confirmed"})
Event names in use: listing.verified, listing.rejected, order.state_changed, transfer.notice_received.
Receivers register with `@receiver_for_events` (the partners app does, in its AppConfig.ready) and
must only write rows / `enqueue` tasks: they run inside the caller's transaction.
"""

from core.tenancy import require_tenant

_receivers: list = []


def receiver_for_events(func):
    _receivers.append(func)
    return func


def emit(event: str, *, organizations, data: dict) -> None:
    tenant = require_tenant()
    org_ids = sorted({org.pk for org in organizations if org is not None})
    for receiver in _receivers:
        receiver(tenant=tenant, event=event, organization_ids=org_ids, data=data)
