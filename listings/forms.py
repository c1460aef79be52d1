from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.money import exponent, to_minor
from core.text import LONG_TEXT, MultiLineField, SingleLineField
from core.uploads import DOCUMENTS, ContentTypeValidator

from .models import Jurisdiction, Listing, RightKind
from .services import ListingInput

MAX_MINOR = 2**63 - 1  # the largest amount a price column holds


class LookupForm(forms.Form):
    number = forms.CharField(
        label=_("Patent or trademark number"), max_length=60,
        help_text=_("As printed on the certificate, e.g. ZL 2012 1 0379921.4, CN116455754B, US 10,123,456 B2, "
                    "EP 06 009 468.7 or 第12345678号."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}),
    )
    jurisdiction = forms.ChoiceField(label=_("Office"), required=False,
                                     choices=[("", _("Any (from the number)"))] + list(Jurisdiction.choices))
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("Any (from the number)"))] + list(RightKind.choices))


class ListingForm(forms.Form):
    title = SingleLineField(label=_("Title of the listing"), max_length=300,
                            help_text=_("What buyers see first; prefilled from the register."))
    price = forms.CharField(label=_("Price"), max_length=30)
    deal_type = forms.ChoiceField(label=_("Deal type"), choices=Listing.DealType.choices,
                                  widget=forms.RadioSelect, initial=Listing.DealType.ASSIGNMENT)
    licence_term_months = forms.IntegerField(label=_("Licence term (months)"), required=False, min_value=1,
                                             max_value=600)
    licence_territory = SingleLineField(label=_("Licence territory"), required=False, max_length=200,
                                        help_text=_("e.g. mainland China, worldwide"))
    description = MultiLineField(label=_("Description"), required=False, max_length=LONG_TEXT,
                                  help_text=_("What the right covers, its maturity, what comes with it."))
    industry_tags = SingleLineField(label=_("Industry tags"), required=False, max_length=300,
                                    help_text=_("Separated by commas, e.g. 新能源, batteries"))

    def __init__(self, *args, currency="CNY", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["price"].help_text = _("In %(currency)s, e.g. 560000 or 560,000.00") % {"currency": currency}
        self.fields["price"].widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean_price(self):
        try:
            minor = to_minor(self.cleaned_data["price"], self.currency)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        if minor <= 0:
            raise forms.ValidationError(_("Enter a price above zero."))
        if minor >= 10 ** 15:
            raise forms.ValidationError(_("That price is too large."))
        return minor

    def clean(self):
        data = super().clean()
        if data.get("deal_type") in (Listing.DealType.EXCLUSIVE_LICENCE, Listing.DealType.NON_EXCLUSIVE_LICENCE):
            if not data.get("licence_term_months"):
                self.add_error("licence_term_months", _("A licence needs a term in months."))
            if not (data.get("licence_territory") or "").strip():
                self.add_error("licence_territory", _("A licence needs a territory (e.g. mainland China)."))
        return data

    def to_input(self) -> ListingInput:
        d = self.cleaned_data
        tags = [t.strip() for t in (d.get("industry_tags") or "").replace("，", ",").split(",") if t.strip()]
        return ListingInput(title=d["title"], price_minor=d["price"], deal_type=d["deal_type"],
                            description=d.get("description") or "", licence_term_months=d.get("licence_term_months"),
                            licence_territory=d.get("licence_territory") or "", industry_tags=tuple(tags))

    @classmethod
    def initial_for(cls, listing):
        return {
            "title": listing.title, "price": str(Decimal(listing.price_minor).scaleb(-exponent(listing.currency))),
            "deal_type": listing.deal_type, "licence_term_months": listing.licence_term_months,
            "licence_territory": listing.licence_territory, "description": listing.description,
            "industry_tags": ", ".join(listing.industry_tags),
        }


class CertificateField(forms.FileField):
    default_validators = [ContentTypeValidator(DOCUMENTS)]


SORT_CHOICES = [
    ("relevance", _("Best match")), ("newest", _("Newest")), ("price_asc", _("Price: low to high")),
    ("price_desc", _("Price: high to low")), ("term", _("Longest remaining term")),
]
TERM_CHOICES = [("", _("Any")), ("1", _("1+ years")), ("3", _("3+ years")), ("5", _("5+ years")),
                ("10", _("10+ years"))]


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Keyword or number"), required=False, max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds"))] + list(RightKind.choices))
    jurisdiction = forms.ChoiceField(label=_("Office"), required=False,
                                     choices=[("", _("All offices"))] + list(Jurisdiction.choices))
    klass = forms.CharField(label=_("Class"), required=False, max_length=20,
                            help_text=_("IPC or Locarno prefix (H04L, 14-03) or Nice class (9)"))
    price_min = forms.CharField(label=_("Price from"), required=False, max_length=20)
    price_max = forms.CharField(label=_("to"), required=False, max_length=20)
    deal_type = forms.ChoiceField(label=_("Deal type"), required=False,
                                  choices=[("", _("Any deal"))] + list(Listing.DealType.choices))
    term = forms.ChoiceField(label=_("Remaining term"), required=False, choices=TERM_CHOICES)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)
    page = forms.IntegerField(required=False, min_value=1, max_value=10000)

    def __init__(self, *args, currency="CNY", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def _money(self, name):
        value = (self.cleaned_data.get(name) or "").strip()
        if not value:
            return None
        try:
            amount = to_minor(value, self.currency)
        except ValueError as exc:
            self.add_error(name, str(exc))
            return None
        if amount > MAX_MINOR:
            self.add_error(name, _("Enter a smaller amount."))
            return None
        return amount

    def clean_klass(self):
        value = (self.cleaned_data.get("klass") or "").strip().upper().replace(" ", "")
        if value.isdigit():
            if not 1 <= int(value) <= 45:
                raise forms.ValidationError(_("Nice classes are 1 to 45."))
            value = f"{int(value):02d}"
        return value

    def params(self):
        from .search import SearchParams

        if self.is_bound:
            self.is_valid()
        d = getattr(self, "cleaned_data", {})
        return SearchParams(
            q=(d.get("q") or "").strip(), kind=d.get("kind") or "", jurisdiction=d.get("jurisdiction") or "",
            klass=d.get("klass") or "", price_min=self._money("price_min") if d else None,
            price_max=self._money("price_max") if d else None, deal_type=d.get("deal_type") or "",
            term=d.get("term") or "", sort=d.get("sort") or "", page=d.get("page") or 1,
        )


class ByHandForm(forms.Form):
    """A right the public registers do not serve (CN software copyright, works, or a CN right the
    register cannot find), entered from its certificate; the verifier checks it with the scan."""

    KINDS = [("software_copyright", _("Software copyright")), ("works_copyright", _("Copyright in a work")),
             ("invention", _("Invention patent")), ("utility_model", _("Utility model")), ("design", _("Design")),
             ("trademark", _("Trademark"))]

    kind = forms.ChoiceField(label=_("Kind of right"), choices=KINDS)
    number = forms.CharField(label=_("Registration number"), max_length=60,
                             help_text=_("e.g. 2020SR0123456, 国作登字-2020-F-01234567, ZL 2012 1 0379921.4"))
    certificate_number = forms.CharField(label=_("Certificate number"), max_length=60, required=False,
                                         help_text=_("e.g. 软著登字第1234567号"))
    title = forms.CharField(label=_("Title as on the certificate"), max_length=500)
    title_en = forms.CharField(label=_("Title in English"), max_length=500, required=False,
                               help_text=_("Lets English-speaking buyers find it"))
    version = forms.CharField(label=_("Version"), max_length=40, required=False)
    owner_name = forms.CharField(label=_("Owner (copyright holder) as on the certificate"), max_length=300,
                                 required=False)
    completion_date = forms.DateField(label=_("Completed on"), required=False,
                                      widget=forms.DateInput(attrs={"type": "date"}))
    publication_date = forms.DateField(label=_("First published on"), required=False,
                                       widget=forms.DateInput(attrs={"type": "date"}))
    filing_date = forms.DateField(label=_("Filed on (patents and trademarks)"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    grant_date = forms.DateField(label=_("Granted / registered on"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    abstract = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    abstract_en = forms.CharField(label=_("Description in English"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
