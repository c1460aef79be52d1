from functools import lru_cache

from django import template
from django.utils import timezone
from django.utils.translation import get_language, pgettext

from core.money import format_money
from rights.expiry import remaining_term

register = template.Library()

STATE_CLASSES = {
    "published": "status-ok", "awaiting_margin": "status-warn", "submitted": "status-warn",
    "in_verification": "status-warn", "reserved": "status-warn", "rejected": "status-bad", "lapsed": "status-bad",
    "withdrawn": "", "sold": "status-ok", "sold_out": "status-warn", "draft": "",
}


@register.filter
def money(amount, currency):
    return format_money(amount, currency)


@register.filter
def remaining(expiry):
    if expiry is None:
        return "—"
    return _remaining_text(expiry, timezone.localdate(), get_language())


@lru_cache(maxsize=4096)
def _remaining_text(expiry, today, language):  # the same text for the same dates and language
    return str(remaining_term(expiry, today))


@register.filter
def state_class(state):
    return STATE_CLASSES.get(state, "")


@register.filter
def kind_icon(kind):
    """One letter for the kind, in the page's language (发/实/外 in Chinese, I/U/D in English)."""
    return _kind_icons(get_language()).get(kind, "·")


@lru_cache(maxsize=32)
def _kind_icons(language):
    return {"invention": pgettext("kind icon: invention patent", "I"),
            "utility_model": pgettext("kind icon: utility model", "U"),
            "design": pgettext("kind icon: design", "D"), "trademark": "®"}


@register.filter
def industry_tag(tag):
    from ..tags import tag_label

    return tag_label(tag)
