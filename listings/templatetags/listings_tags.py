from django import template

from core.money import format_money
from rights.expiry import remaining_term

register = template.Library()

STATE_CLASSES = {
    "published": "status-ok", "awaiting_margin": "status-warn", "submitted": "status-warn",
    "in_verification": "status-warn", "reserved": "status-warn", "rejected": "status-bad", "lapsed": "status-bad",
    "withdrawn": "", "sold": "status-ok", "draft": "",
}


@register.filter
def money(amount, currency):
    return format_money(amount, currency)


@register.filter
def remaining(expiry):
    left = remaining_term(expiry)
    return str(left) if left is not None else "—"


@register.filter
def state_class(state):
    return STATE_CLASSES.get(state, "")


@register.filter
def kind_icon(kind):
    return {"invention": "发", "utility_model": "实", "design": "外", "trademark": "®"}.get(kind, "·")
