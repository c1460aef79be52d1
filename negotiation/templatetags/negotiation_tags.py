from django import template
from django.utils.translation import gettext_lazy as _

from core.money import format_money

register = template.Library()

BASES = {"net_sales": _("Net sales"), "gross_sales": _("Gross sales"), "units": _("Units sold")}
PERIODS = {"quarter": _("Quarter"), "half_year": _("Half year"), "year": _("Year")}


@register.filter
def money(amount, currency):
    return format_money(amount, currency)


@register.filter
def bps_percent(bps):
    return f"{(bps or 0) / 100:g} %"


@register.filter
def royalty_base(value):
    return BASES.get(value, value or "-")


@register.filter
def royalty_period(value):
    return PERIODS.get(value, value or "-")
