from django import template

from financing.inputs import input_rows as _input_rows

register = template.Library()


@register.filter
def input_rows(indicator, currency):
    """An indicator's inputs as [(label, formatted value)] in the reader's language."""
    return _input_rows(indicator, currency)
