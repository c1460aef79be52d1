from django import forms
from django.utils.translation import gettext_lazy as _

from core.uploads import DOCUMENTS, ContentTypeValidator

from .services.papers import CONSENT_TEXT


class SignForm(forms.Form):
    typed_name = forms.CharField(label=_("Your full name"), max_length=150,
                                 help_text=_("Type your name as it appears on your identity document."))
    consent = forms.BooleanField(label=CONSENT_TEXT, required=False)
    sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)


class ExportCertificateForm(forms.Form):
    file = forms.FileField(label=_("Technology-export contract registration certificate (PDF, PNG or JPEG)"),
                           validators=[ContentTypeValidator(DOCUMENTS)])


class ReferenceForm(forms.Form):
    reference = forms.CharField(label=_("Reference given by the office"), max_length=60)


class NoticeForm(forms.Form):
    kind = forms.ChoiceField(label=_("The office decided"), choices=[
        ("approval", _("Approval (notice of recordation)")), ("rejection", _("Rejection")),
        ("correction", _("Request for correction"))])
    number = forms.CharField(label=_("Notice number"), max_length=60, required=False)
    text = forms.CharField(label=_("What the notice says"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    correction_due = forms.DateTimeField(label=_("Correction due (for a correction request)"), required=False,
                                         widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class CorrectionForm(forms.Form):
    note = forms.CharField(label=_("What was corrected"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class RefundForm(forms.Form):
    reason = forms.CharField(label=_("Reason told to both parties"), widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=1000)
