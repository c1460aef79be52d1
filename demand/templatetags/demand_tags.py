from django import template

from core.money import format_money

from ..matching import _pretty
from ..matching import explain as explain_reasons

register = template.Library()


@register.simple_tag
def dmoney(amount, currency):
    return format_money(amount or 0, currency) if amount is not None else "—"


@register.filter
def explain(reasons):
    return explain_reasons(reasons)


@register.filter
def ipc(symbol):
    """'H01M4/13' → 'H01M 4/13'; Nice classes unchanged."""
    return _pretty(str(symbol))


@register.filter
def money(amount, currency):
    """{{ amount|money:currency }} — for amounts inside translated sentences (blocktrans with)."""
    return format_money(amount or 0, currency) if amount is not None else "—"
