"""Website forms of negotiated deals: prices are typed in major units and parsed with core.money."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import to_minor

from .terms import ROYALTY_BASES, ROYALTY_PERIODS

MAX_MINOR = 10**15


class MoneyField(forms.CharField):
    def __init__(self, *args, currency="CNY", **kwargs):
        self.currency = currency
        kwargs.setdefault("max_length", 30)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            minor = to_minor(value, self.currency)
        except (ValueError, ArithmeticError):
            raise forms.ValidationError(_("Enter an amount such as 560000 or 560,000.00.")) from None
        if minor < 0 or minor > MAX_MINOR:
            raise forms.ValidationError(_("That amount is out of range."))
        return minor


class OfferForm(forms.Form):
    price = MoneyField(label=_("Your price"))
    valid_days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=60, initial=7)
    territory = forms.CharField(label=_("Territory"), max_length=200, required=False)
    field_of_use = forms.CharField(label=_("Field of use"), max_length=200, required=False)
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=600, required=False)
    royalty_percent = forms.DecimalField(label=_("Running royalty (%)"), min_value=0, max_value=50, decimal_places=2,
                                         required=False)
    royalty_base = forms.ChoiceField(label=_("Royalty base"), required=False, choices=[
        ("net_sales", _("Net sales")), ("gross_sales", _("Gross sales")), ("units", _("Units sold"))])
    royalty_period = forms.ChoiceField(label=_("Reporting period"), required=False, choices=[
        ("quarter", _("Quarter")), ("half_year", _("Half year")), ("year", _("Year"))])
    royalty_minimum = MoneyField(label=_("Minimum royalty per period"), required=False)
    sublicensing = forms.BooleanField(label=_("Sublicensing allowed"), required=False)
    note = forms.CharField(label=_("Message"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, listing, **kwargs):
        super().__init__(*args, **kwargs)
        self.listing = listing
        for name in ("price", "royalty_minimum"):
            self.fields[name].currency = listing.currency
        self.fields["price"].help_text = _("In %(currency)s") % {"currency": listing.currency}
        if not listing.is_licence:
            for name in ("territory", "field_of_use", "term_months", "royalty_percent", "royalty_base",
                         "royalty_period", "royalty_minimum", "sublicensing"):
                del self.fields[name]
        elif not listing.licence_sublicensing:
            del self.fields["sublicensing"]

    def clean_price(self):
        value = self.cleaned_data.get("price")
        if not value:
            raise forms.ValidationError(_("Enter a price above zero."))
        return value

    def terms(self) -> dict | None:
        if not self.listing.is_licence:
            return None
        d = self.cleaned_data
        royalty = d.get("royalty_percent") or 0
        terms = {"territory": d.get("territory") or "", "field": d.get("field_of_use") or "",
                 "term_months": d.get("term_months"), "royalty_bps": int(royalty * 100),
                 "royalty_base": d.get("royalty_base") if royalty else "",
                 "royalty_period": d.get("royalty_period") if royalty else "",
                 "royalty_minimum_minor": d.get("royalty_minimum") or 0,
                 "sublicensing": bool(d.get("sublicensing"))}
        return terms

    def expires_at(self):
        return timezone.now() + datetime.timedelta(days=self.cleaned_data["valid_days"])


class PriceForm(forms.Form):
    pricing = forms.ChoiceField(label=_("Pricing"))
    price = MoneyField(label=_("Asking price"))
    offer_floor = MoneyField(label=_("Lowest offer you consider"), required=False,
                             help_text=_("Offers below it are refused automatically; leave empty for none."))
    reason = forms.CharField(label=_("Reason (kept in the history)"), required=False, max_length=300)

    def __init__(self, *args, listing, **kwargs):
        super().__init__(*args, **kwargs)
        from listings.models import Listing

        self.fields["pricing"].choices = Listing.Pricing.choices
        for name in ("price", "offer_floor"):
            self.fields[name].currency = listing.currency


class QuestionForm(forms.Form):
    text = forms.CharField(label=_("Your question"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Answer"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    public = forms.BooleanField(label=_("Show on the listing (the asker stays anonymous)"), required=False, initial=True)


class PrincipalForm(forms.Form):
    """The principal of a proposed mandate, picked from a name search (`principal_candidates`), not from a
    list of the whole exchange: its radios are rendered by negotiation/_principal_choices.html. Any
    organization of the exchange but the broker's own is valid."""

    principal = forms.ModelChoiceField(queryset=None, error_messages={
        "required": _("Search for the principal and pick it."),
        "invalid_choice": _("Search for the principal and pick it.")})

    def __init__(self, *args, principals, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["principal"].queryset = principals


class MandateForm(forms.Form):
    side = forms.ChoiceField(label=_("You act for"), choices=[("seller", _("a seller (negotiate its listings)")),
                                                             ("buyer", _("a buyer (make offers for it)"))],
                             initial="seller")
    listings = forms.CharField(label=_("Listing numbers (comma separated), or empty for all"), required=False,
                               max_length=500)
    commission_percent = forms.DecimalField(label=_("Commission (%)"), min_value=0, max_value=50, decimal_places=2)
    months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=36, initial=12)
    may_sign = forms.BooleanField(label=_("May sign the transfer or licence papers for the principal"),
                                  required=False)

    def clean_listings(self):
        raw = self.cleaned_data.get("listings") or ""
        try:
            return sorted({int(p) for p in raw.replace("，", ",").split(",") if p.strip()})
        except ValueError:
            raise forms.ValidationError(_("Give listing numbers such as 12, 15.")) from None


__all__ = ["OfferForm", "PriceForm", "QuestionForm", "AnswerForm", "MandateForm", "PrincipalForm", "ROYALTY_BASES", "ROYALTY_PERIODS"]
