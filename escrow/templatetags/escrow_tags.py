from django import template
from django.utils.translation import gettext_lazy as _

from core.money import format_money

register = template.Library()


@register.simple_tag
def money(amount, currency):
    return format_money(amount or 0, currency)


@register.filter
def bps_percent(bps):
    """200 → '2%', 250 → '2.5%'."""
    value = (bps or 0) / 100
    return f"{value:g}%"


@register.filter
def state_class(state):
    return {"completed": "status-ok", "funded": "status-ok", "transfer_approved": "status-ok",
            "cancelled": "status-bad", "refunded": "status-bad", "disputed": "status-bad", "settled": "status-warn",
            "transfer_rejected": "status-warn", "placed": "status-warn", "seller_confirmed": "status-warn"
            }.get(str(state), "")


@register.simple_tag
def get_item(mapping, key):
    return (mapping or {}).get(key, 0)


EVENT_LABELS = {
    "order.document_signed": _("Transfer paper signed"),
    "order.place": _("Order placed"),
    "order.seller_confirm": _("Seller confirmed"),
    "order.cancel": _("Order cancelled"),
    "order.fund": _("Payment received and held by the platform"),
    "order.file_transfer": _("Transfer filed with the office"),
    "order.approve_transfer": _("Office approved the transfer"),
    "order.reject_transfer": _("Office rejected the transfer"),
    "order.complete": _("Buyer confirmed the certificate; seller's payout released"),
    "order.open_dispute": _("Dispute opened"),
    "order.resume": _("Dispute resolved: the trade continues"),
    "order.refund": _("Refunded to the buyer"),
    "order.settle_split": _("Dispute settled by a split"),
    "dispute.answered": _("The other side answered the dispute"),
    "payment.started": _("Payment started"),
    "payment.failed": _("Payment failed"),
    "payment.returned": _("Unusable payment returned"),
    "payment.bank_receipt_recorded": _("Bank transfer recorded by finance"),
    "transfer.sign_reminder": _("Reminder sent: transfer papers to sign"),
    "transfer.buyer_sign_overdue": _("Signing deadline passed without the buyer's signature"),
    "transfer.filing_overdue": _("Filing deadline passed: escrow staff told"),
    "transfer.papers_not_sealed": _("Signed papers not sealed: the platform has no signing certificate"),
}


@register.filter
def event_label(action):
    label = EVENT_LABELS.get(action)
    return label if label is not None else _("Order updated")


ACTOR_LABELS = {
    "system": _("the platform"),
    "deadline": _("the platform (deadline)"),
    "office": _("the office"),
}


@register.filter
def event_detail(event):
    """The line under an event that needs one: which paper was signed, with which name and fingerprint."""
    if event.action == "order.document_signed":
        from django.utils.translation import get_language

        data = event.data or {}
        labels = data.get("paper_label") or {}
        paper = labels.get("en" if (get_language() or "").startswith("en") else "zh-hans") or data.get("paper", "")
        return f"{paper} v{data.get('version', 1)} · “{data.get('typed_name', '')}” · SHA-256 {str(data.get('sha256', ''))[:12]}…"
    return ""


@register.filter
def actor_label(event):
    """Who did it, for people: a person's name, a payment provider's name, or the platform."""
    if event.actor_id:
        return event.actor.get_full_name() or event.actor.email
    label = event.actor_label or ""
    if label in ACTOR_LABELS:
        return ACTOR_LABELS[label]
    from escrow.models import Provider

    if label.startswith("office:"):
        return _("the office")
    if label.startswith("platform"):
        return ACTOR_LABELS["deadline"]
    try:
        return Provider(label).label
    except ValueError:
        return label or _("the platform")


@register.filter
def destination(disbursement):
    """Where a payout or refund goes, in the reader's language."""
    from escrow.selectors import destination_text

    return destination_text(disbursement)


@register.filter
def provider_label(name):
    from escrow.models import Provider

    try:
        return Provider(name).label
    except ValueError:
        return name


@register.filter
def order_state_label(state):
    from escrow.models import OrderState

    try:
        return OrderState(state).label
    except ValueError:
        return state
