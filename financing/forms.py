from django import forms
from django.utils.translation import gettext_lazy as _

from core.money import to_minor
from core.uploads import ContentTypeValidator

from .models import FinancePartner, PartnerKind


class MoneyField(forms.CharField):
    """An amount as people type it ('1,200,000', '12500.50'); converted with the currency by `minor()`."""

    def __init__(self, **kwargs):
        super().__init__(max_length=30, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value:
            try:
                to_minor(value, "CNY")
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        return value


def minor(value, currency: str) -> int:
    """Minor units of a cleaned MoneyField value (0 when empty); ValueError for the wrong precision."""
    return to_minor(value, currency) if value else 0


class ApplicationForm(forms.Form):
    rights = forms.TypedMultipleChoiceField(label=_("Rights to pledge"), coerce=int,
                                            widget=forms.CheckboxSelectMultiple)
    amount = MoneyField(label=_("Amount to borrow"))
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=120, initial=12)
    purpose = forms.CharField(label=_("Use of the loan"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, records=(), currency="CNY", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["rights"].choices = [(r.pk, f"{r.jurisdiction} {r.number} · {r.title}") for r in records]
        self.fields["amount"].label = _("Amount to borrow (%(currency)s)") % {"currency": currency}

    def amount_minor(self):
        return minor(self.cleaned_data["amount"], self.currency)


class OfferForm(forms.Form):
    amount = MoneyField(label=_("Amount offered"))
    rate = forms.DecimalField(label=_("Annual interest rate (%)"), max_digits=5, decimal_places=2, min_value=0,
                              max_value=50)
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=120)
    conditions = forms.CharField(label=_("Conditions"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                                 max_length=4000)
    valid_days = forms.IntegerField(label=_("Offer valid for (days)"), min_value=1, max_value=90, required=False,
                                    initial=14)


class SignForm(forms.Form):
    typed_name = forms.CharField(label=_("Your full name"), max_length=150)
    consent = forms.BooleanField(label=_("I have read this pledge contract and sign it for my organization."))
    sha256 = forms.CharField(widget=forms.HiddenInput, required=False)


class ReleaseSignForm(SignForm):
    consent = forms.BooleanField(label=_("I have read this pledge release agreement and sign it for my organization."))


class ConfirmationForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    amount = MoneyField(label=_("Amount paid out"), required=False)
    reference = forms.CharField(label=_("Bank reference"), max_length=80, required=False)


class ServiceFeeRecordForm(forms.Form):
    received_on = forms.DateField(label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"}))
    bank_reference = forms.CharField(label=_("Bank reference"), max_length=60)


class AppraisalOrderForm(forms.Form):
    appraiser = forms.ModelChoiceField(label=_("Appraiser"), queryset=FinancePartner.objects.unscoped().none())
    rights = forms.TypedMultipleChoiceField(label=_("Rights to appraise"), coerce=int,
                                            widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, records=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["appraiser"].queryset = FinancePartner.objects.filter(kind=PartnerKind.APPRAISER, is_active=True)
        self.fields["rights"].choices = [(r.pk, f"{r.jurisdiction} {r.number} · {r.title}") for r in records]


class AppraisalDeliverForm(forms.Form):
    report = forms.FileField(label=_("Signed report (PDF)"), validators=[ContentTypeValidator(("pdf",))])
    value = MoneyField(label=_("Appraised value"))
    value_date = forms.DateField(label=_("Valuation date"), widget=forms.DateInput(attrs={"type": "date"}))
