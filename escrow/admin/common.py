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


class ActionViewsMixin:
    """Buttons with a small form (reason, amount) that call one service each."""

    def _act(self, request, obj, *, title, form_class, call, done, back):
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                call(form.cleaned_data)
            except DomainError as exc:
                self.message_user(request, str(exc.message), messages.ERROR)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return HttpResponseRedirect(back)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": obj, "form": form,
                   "title": title, "back": back}
        return TemplateResponse(request, "admin/escrow/action_form.html", context)
