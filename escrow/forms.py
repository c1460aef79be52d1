from django import forms
from django.utils.translation import gettext_lazy as _

from core.uploads import ContentTypeValidator


class PlaceOrderForm(forms.Form):
    terms = forms.BooleanField(
        label=_("I have read the contract summary and accept the terms of the escrowed trade."),
        error_messages={"required": _("Accept the terms to place the order.")},
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class DisputeForm(forms.Form):
    reason = forms.CharField(label=_("What went wrong?"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(label=_("Evidence (PDF, PNG or JPEG, up to 5 files)"), required=False,
                              validators=[ContentTypeValidator()])


class PayForm(forms.Form):
    provider = forms.ChoiceField(label=_("Payment method"), widget=forms.RadioSelect)

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [(p.name, p.label) for p in providers]
        if providers:
            self.fields["provider"].initial = providers[0].name
