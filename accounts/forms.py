from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.uploads import DOCUMENTS, validate_upload

from .models import Organization, OrganizationDocument, User
from .validators import validate_registration_number


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "phone", "language"]
        widgets = {"phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
                   "full_name": forms.TextInput(attrs={"autocomplete": "name"})}

    def __init__(self, *args, languages=None, **kwargs):
        super().__init__(*args, **kwargs)
        offered = languages or settings.LANGUAGES
        self.fields["language"].choices = [("", _("As the exchange chooses")), *offered]
        self.fields["language"].help_text = _("Pages and emails are shown in this language.")


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["kind", "legal_name", "legal_name_en", "country", "registration_number", "address", "contact_email"]
        widgets = {"address": forms.Textarea(attrs={"rows": 3}),
                   "country": forms.TextInput(attrs={"maxlength": 2, "size": 3, "autocapitalize": "characters"})}
        help_texts = {
            "legal_name": _("Exactly as on the business licence or ID document."),
            "registration_number": _("For Chinese companies, universities and institutes: the 18-character unified "
                                     "social credit code. For individuals: the resident ID or passport number."),
        }

    def clean_country(self):
        country = (self.cleaned_data.get("country") or "").strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise ValidationError(_("Use the two-letter country code, e.g. CN, HK, US, DE."))
        return country

    def clean(self):
        data = super().clean()
        if "registration_number" in data and data.get("kind") and data.get("country"):
            try:
                data["registration_number"] = validate_registration_number(
                    kind=data["kind"], country=data["country"], number=data["registration_number"])
            except ValidationError as exc:
                self.add_error("registration_number", exc)
        number = data.get("registration_number")
        if number and data.get("country") and "registration_number" not in self.errors:
            clash = Organization.objects.filter(country=data["country"], registration_number=number)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("registration_number", _("An organization with this registration number is already "
                                                        "registered on this exchange. Ask its manager to invite you."))
        return data


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=OrganizationDocument.Kind.choices)
    file = forms.FileField(label=_("File"), widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("PDF, PNG or JPEG, up to %(limit)s MB.") % {
            "limit": settings.UPLOAD_MAX_BYTES // (1024 * 1024)}

    def clean_file(self):
        file = self.cleaned_data["file"]
        self.content_type = validate_upload(file, allowed=DOCUMENTS)
        return file


class MemberForm(forms.Form):
    email = forms.EmailField(label=_("Email address of a colleague"))
    is_admin = forms.BooleanField(label=_("May manage the organization"), required=False)


class PayoutBankForm(forms.Form):
    bank_name = forms.CharField(label=_("Bank"), max_length=120)
    account_name = forms.CharField(label=_("Account holder"), max_length=200,
                                   help_text=_("As the bank has it; normally the organization's legal name"))
    account_number = forms.CharField(label=_("Account number or IBAN"), max_length=60)
    swift = forms.CharField(label=_("SWIFT/BIC"), max_length=11, required=False)
    cnaps = forms.CharField(label=_("CNAPS code (mainland China)"), max_length=12, required=False)
