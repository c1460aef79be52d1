"""What the escrow back-office pages share: roles that see them, the forms behind the buttons, one
helper that runs a button's service and turns domain errors into admin messages."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from core.errors import DomainError

from ..models import (
    OrderState,
)

S = OrderState
VIEW = (Role.ESCROW_OFFICER, Role.FINANCE)
# Rows change only through the buttons (services); the form itself has nothing to save.
NO_SAVE = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False,
           "show_delete": False}


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason (both parties read it)"), widget=forms.Textarea(attrs={"rows": 4}))


class ReceiptForm(forms.Form):
    amount = forms.CharField(label=_("Amount received"), help_text=_("As on the bank statement, e.g. 10,200.00"))
    bank_reference = forms.CharField(label=_("Bank reference"), max_length=100)


class BankReferenceForm(forms.Form):
    bank_reference = forms.CharField(label=_("Bank reference of the transfer you made"), max_length=100)


class SplitForm(forms.Form):
    refund = forms.CharField(label=_("Refunded to the buyer"),
                             help_text=_("The rest, after the exchange's fees, is paid to the seller. E.g. 12,000.00"))
    reason = forms.CharField(label=_("Reason (both parties read it)"), widget=forms.Textarea(attrs={"rows": 4}))


class ActionViewsMixin:
    """Buttons with a small form (reason, amount) that call one service each. With `summary`, the
    first valid POST shows what will happen (amounts, who gets them, to which account, what cannot
    be undone) and only a second, explicit confirmation calls the service."""

    def _act(self, request, obj, *, title, form_class, call, done, back, summary=None):
        form = form_class(request.POST or None)
        summary_rows = None
        if request.method == "POST" and form.is_valid():
            try:
                if summary is not None and request.POST.get("confirmed") != "yes":
                    summary_rows = summary(form.cleaned_data)
                else:
                    call(form.cleaned_data)
                    self.message_user(request, done, messages.SUCCESS)
                    return HttpResponseRedirect(back)
            except DomainError as exc:
                self.message_user(request, str(exc.message), messages.ERROR)
                summary_rows = None
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": obj, "form": form,
                   "title": title, "back": back, "summary": summary_rows}
        return TemplateResponse(request, "admin/escrow/action_form.html", context)
