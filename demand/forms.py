from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.money import to_minor
from rights.models import Jurisdiction, RightKind

from .models import DealWanted
from .services import WantInput


def _amount(form, name, currency, *, required=False):
    raw = (form.cleaned_data.get(name) or "").strip()
    if not raw:
        if required:
            raise forms.ValidationError(_("This field is required."))
        return None
    try:
        minor = to_minor(raw, currency)
    except Exception:  # noqa: BLE001 - any unparsable amount
        raise forms.ValidationError(_("Enter an amount such as 560000 or 560,000.00.")) from None
    if minor < 0:
        raise forms.ValidationError(_("Enter an amount above zero."))
    if minor > 10**15:
        raise forms.ValidationError(_("That amount is too large."))
    return minor


class WantForm(forms.Form):
    title = forms.CharField(label=_("What do you need?"), max_length=200)
    keywords = forms.CharField(label=_("Keywords"), max_length=500, required=False,
                               help_text=_("Words a matching right would contain, e.g. lithium electrode 电池"))
    classes = forms.CharField(label=_("IPC/CPC or Nice classes"), max_length=400, required=False,
                              help_text=_("Separated by commas, e.g. H01M 4/13, H01M 10 or Nice 9"))
    kinds = forms.MultipleChoiceField(label=_("Kinds of right"), choices=RightKind.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)
    territories = forms.MultipleChoiceField(label=_("Territory"), choices=Jurisdiction.choices, required=False,
                                            widget=forms.CheckboxSelectMultiple)
    deal_type = forms.ChoiceField(label=_("Deal"), choices=DealWanted.choices, initial=DealWanted.ANY)
    budget_min = forms.CharField(label=_("Budget from"), max_length=30, required=False)
    budget_max = forms.CharField(label=_("Budget up to"), max_length=30, required=False)
    deadline = forms.DateField(label=_("Needed by"), widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(label=pgettext_lazy("want", "Details"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    anonymous = forms.BooleanField(label=_("Post anonymously (holders do not see your organization)"), required=False)

    def __init__(self, *args, currency="CNY", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        for name in ("budget_min", "budget_max"):
            self.fields[name].widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})
            self.fields[name].help_text = _("In %(currency)s") % {"currency": currency}

    def clean_budget_min(self):
        return _amount(self, "budget_min", self.currency)

    def clean_budget_max(self):
        return _amount(self, "budget_max", self.currency)

    def to_input(self) -> WantInput:
        d = self.cleaned_data
        return WantInput(title=d["title"], keywords=d["keywords"], description=d["description"], classes=d["classes"],
                         kinds=list(d["kinds"]), territories=list(d["territories"]), deal_type=d["deal_type"],
                         budget_min_minor=d["budget_min"], budget_max_minor=d["budget_max"], deadline=d["deadline"],
                         anonymous=d["anonymous"])


class AnswerForm(forms.Form):
    listing = forms.TypedChoiceField(label=_("Your listing"), coerce=int)
    price = forms.CharField(label=_("Your price"), max_length=30)
    note = forms.CharField(label=_("Note to the buyer"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, listings=(), currency="CNY", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["listing"].choices = [(x.pk, x.title) for x in listings]
        self.fields["price"].widget.attrs.update({"inputmode": "decimal"})

    def clean_price(self):
        return _amount(self, "price", self.currency, required=True)


class PriceForm(forms.Form):
    price = forms.CharField(label=_("Your sealed offer"), max_length=30)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def __init__(self, *args, currency="CNY", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_price(self):
        return _amount(self, "price", self.currency, required=True)


class TenderForm(forms.Form):
    deadline = forms.DateTimeField(label=_("Sealed offers until"),
                                   widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class BidForm(forms.Form):
    amount = forms.CharField(label=_("Your bid"), max_length=30)

    def __init__(self, *args, currency="CNY", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["amount"].widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean_amount(self):
        return _amount(self, "amount", self.currency, required=True)


class CounterOfferForm(forms.Form):
    """Below the reserve: the seller's price to the highest bidder, and how long they have to answer."""

    price = forms.CharField(label=_("Your price"), max_length=30)
    hours = forms.IntegerField(label=_("The bidder answers within (hours)"), min_value=1, max_value=168, initial=48)

    def __init__(self, *args, currency="CNY", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["price"].widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean_price(self):
        return _amount(self, "price", self.currency, required=True)


class AuctionForm(forms.Form):
    start_price = forms.CharField(label=_("Start price"), max_length=30)
    reserve = forms.CharField(label=_("Reserve (hidden from bidders)"), max_length=30, required=False)
    increment = forms.CharField(label=_("Bid increment"), max_length=30)
    deposit = forms.CharField(label=_("Bidder deposit"), max_length=30)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label=_("Ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    extension_minutes = forms.IntegerField(label=_("Anti-sniping: extend by (minutes) when a bid comes late"),
                                           min_value=0, max_value=60, initial=2)

    def __init__(self, *args, currency="CNY", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        if not self.is_bound:
            now = timezone.localtime().replace(second=0, microsecond=0)
            self.initial.setdefault("starts_at", now.strftime("%Y-%m-%dT%H:%M"))
            self.initial.setdefault("ends_at", (now + timezone.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))

    def clean_start_price(self):
        return _amount(self, "start_price", self.currency, required=True)

    def clean_reserve(self):
        return _amount(self, "reserve", self.currency) or 0

    def clean_increment(self):
        return _amount(self, "increment", self.currency, required=True)

    def clean_deposit(self):
        return _amount(self, "deposit", self.currency, required=True)
