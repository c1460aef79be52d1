"""What negotiation does when the lower apps announce something (core.events): a licence order's
filing recorded by the office makes the licence recorded (and announces `licence.recorded` for the
rights app); a licence order cancelled or refunded ends its licence."""

from django.utils import timezone

from core.events import emit, on

from .models import Licence


@on("royalty.paid")
def on_royalty_paid(*, tenant, data, payment=None, **_objects):
    from .royalties import royalty_paid

    royalty_paid(payment_reference=data.get("payment", ""))


@on("order.state_changed")
def on_order_state_changed(*, tenant, data, order=None, **_objects):
    target = data.get("to")
    if target not in ("transfer_approved", "cancelled", "refunded"):
        return
    licence = Licence.objects.filter(order=order).select_related(
        "order", "licensor_org", "licensee_org").first()
    if licence is None:
        return
    if target == "transfer_approved" and licence.state == Licence.State.PENDING:
        licence.state, licence.recorded_at = Licence.State.RECORDED, timezone.now()
        licence.save(update_fields=["state", "recorded_at"])
        from .royalties import royalty_open_period

        royalty_open_period(licence)  # the first reporting period of a running royalty
        # the rights app (issue 12) records the licence on the right when it listens to this event
        emit("licence.recorded", organizations=[licence.licensor_org, licence.licensee_org],
             data={"order": licence.order.reference, "listing": licence.listing_id, "exclusive": licence.exclusive,
                   "territory": licence.territory, "field": licence.field_of_use, "term_months": licence.term_months,
                   "licensor_org": licence.licensor_org_id, "licensee_org": licence.licensee_org_id,
                   "numbers": list(licence.listing.numbers or []), "recorded_at": licence.recorded_at.isoformat()})
    elif target in ("cancelled", "refunded") and licence.state != Licence.State.ENDED:
        licence.state = Licence.State.ENDED
        licence.save(update_fields=["state"])
