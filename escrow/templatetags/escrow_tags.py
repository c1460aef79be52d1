from django import template

from marketplace.money import format_money

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
            "cancelled": "status-bad", "refunded": "status-bad", "disputed": "status-bad",
            "transfer_rejected": "status-warn", "placed": "status-warn", "seller_confirmed": "status-warn"
            }.get(str(state), "")


@register.simple_tag
def get_item(mapping, key):
    return (mapping or {}).get(key, 0)
