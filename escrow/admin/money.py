"""Money rows: bank transfers awaiting reconciliation, payouts and refunds, ledger accounts, provider
webhook events."""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from accounts.validators import bank_details_problems
from core.admin_site import TenantModelAdmin
from core.audit import audit_record
from core.errors import ValidationFailed
from core.money import format_money, to_minor

from .. import services
from ..models import (
    Deposit,
    Disbursement,
    EscrowBankAccount,
    LedgerAccount,
    Payment,
    WebhookEvent,
)
from .common import NO_SAVE, ActionViewsMixin, BankReferenceForm, ReceiptForm


@admin.register(Payment)
class PaymentAdmin(ActionViewsMixin, TenantModelAdmin):
    """Payments in; bank transfers awaiting reconciliation are the pending bank_transfer ones."""

    view_roles = (Role.ESCROW_OFFICER,)
    change_roles = (Role.FINANCE,)
    list_display = ("reference", "purpose", "order", "payer_org", "provider", "amount_display", "state", "created_at",
                    "received_at")
    list_filter = ("provider", "state", "purpose")
    search_fields = ("reference", "order__reference", "payer_org__legal_name", "provider_ref")
    list_select_related = ("order", "payer_org")
    readonly_fields = ("reference", "purpose", "order", "listing", "payer_org", "provider", "amount_minor", "currency",
                       "state", "provider_ref", "failure_reason", "received_minor", "created_by", "created_at",
                       "received_at")
    change_form_template = "admin/escrow/payment/change_form.html"

    @admin.display(description=_("amount"), ordering="amount_minor")
    def amount_display(self, p):
        return format_money(p.amount_minor, p.currency)

    def get_urls(self):
        return [path("<int:pk>/receipt/", self.admin_site.admin_view(self.receipt_view),
                     name="escrow_payment_receipt")] + super().get_urls()

    def receipt_view(self, request, pk):
        if not self.has_change_permission(request):
            raise Http404
        payment = get_object_or_404(self.get_queryset(request), pk=pk)

        def call(data):
            try:
                amount = to_minor(data["amount"], payment.currency)
            except ValueError as exc:
                raise ValidationFailed(str(exc)) from None
            services.bank_transfer_record_receipt(payment=payment, actor=request.user, amount_minor=amount,
                                                  bank_reference=data["bank_reference"])

        return self._act(request, payment, title=gettext("Record the bank transfer for %(ref)s (%(amount)s due)")
                         % {"ref": payment.reference, "amount": format_money(payment.amount_minor, payment.currency)},
                         form_class=ReceiptForm, call=call, back=reverse("admin:escrow_payment_change", args=[pk]),
                         done=gettext("Receipt recorded; the order is funded."))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "may_act": self.has_change_permission(request), **NO_SAVE}
        return super().changeform_view(request, object_id, form_url, extra_context)


@admin.register(Disbursement)
class DisbursementAdmin(ActionViewsMixin, TenantModelAdmin):
    """Payouts and refunds: what is pending, what failed and why; retry, or mark a bank one paid."""

    view_roles = (Role.ESCROW_OFFICER,)
    change_roles = (Role.FINANCE,)
    list_display = ("__str__", "order", "recipient_org", "provider", "amount_display", "state", "attempts",
                    "last_error", "created_at", "paid_at")
    list_filter = ("state", "kind", "provider")
    search_fields = ("order__reference", "recipient_org__legal_name", "provider_ref")
    list_select_related = ("order", "recipient_org")
    readonly_fields = ("kind", "order", "listing", "payment", "recipient_org", "provider", "amount_minor", "currency",
                       "state", "provider_ref", "attempts", "last_error", "created_at", "paid_at")
    change_form_template = "admin/escrow/disbursement/change_form.html"
    actions = ["retry_selected"]

    @admin.display(description=_("amount"), ordering="amount_minor")
    def amount_display(self, d):
        return format_money(d.amount_minor, d.currency)

    @admin.action(description=_("Send the selected again through their provider"))
    def retry_selected(self, request, queryset):
        outcomes = [services.disbursement_execute(disbursement_id=pk)
                    for pk in queryset.order_by("pk").values_list("pk", flat=True)]
        self.message_user(request, gettext("Paid: %(paid)d, waiting for finance: %(pending)d, failed: %(failed)d.")
                          % {"paid": outcomes.count("paid"), "pending": outcomes.count("pending"),
                             "failed": outcomes.count("failed")})

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            actions.pop("retry_selected", None)
        return actions

    def get_urls(self):
        return [path("<int:pk>/paid/", self.admin_site.admin_view(self.paid_view), name="escrow_disbursement_paid")
                ] + super().get_urls()

    def paid_view(self, request, pk):
        if not self.has_change_permission(request):
            raise Http404
        disb = get_object_or_404(self.get_queryset(request), pk=pk)
        return self._act(request, disb, title=gettext("Mark %(what)s of %(amount)s as paid")
                         % {"what": disb, "amount": format_money(disb.amount_minor, disb.currency)},
                         form_class=BankReferenceForm, back=reverse("admin:escrow_disbursement_change", args=[pk]),
                         call=lambda d: services.disbursement_mark_paid(disbursement=disb, actor=request.user,
                                                                        bank_reference=d["bank_reference"]),
                         summary=lambda d: [
                             (gettext("Amount"), format_money(disb.amount_minor, disb.currency)),
                             (gettext("Who receives it"), str(disb.recipient_org or "—")),
                             (gettext("To which account"), disb.destination or "—"),
                             (gettext("Bank reference"), d["bank_reference"]),
                             (gettext("Cannot be undone"), gettext("The payment is recorded as sent and the ledger "
                                                                   "closes it; do this only once the bank has "
                                                                   "executed the transfer.")),
                         ],
                         done=gettext("Marked paid."))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "may_act": self.has_change_permission(request), **NO_SAVE}
        return super().changeform_view(request, object_id, form_url, extra_context)


@admin.register(LedgerAccount)
class LedgerAccountAdmin(TenantModelAdmin):
    view_roles = (Role.FINANCE, Role.ESCROW_OFFICER)
    change_roles = ()
    list_display = ("key", "kind", "currency", "balance_display")
    list_filter = ("kind", "currency")
    search_fields = ("key",)

    change_list_template = "admin/escrow/ledgeraccount/change_list.html"

    def get_urls(self):
        return [path("export.<slug:fmt>", self.admin_site.admin_view(self.export_view),
                     name="escrow_ledger_export")] + super().get_urls()

    def export_view(self, request, fmt):
        """Finance: every journal line of this exchange as CSV or XLSX (optionally ?since=&until= dates)."""
        from django.http import HttpResponse
        from django.utils.dateparse import parse_date

        from ..statements import ledger_csv, ledger_xlsx

        if not self.has_view_permission(request) or fmt not in ("csv", "xlsx"):
            raise Http404
        since, until = parse_date(request.GET.get("since") or ""), parse_date(request.GET.get("until") or "")
        if fmt == "csv":
            response = HttpResponse(ledger_csv(since=since, until=until), content_type="text/csv; charset=utf-8")
        else:
            response = HttpResponse(ledger_xlsx(since=since, until=until), content_type=(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
        response["Content-Disposition"] = f'attachment; filename="ledger-{request.tenant.slug}.{fmt}"'
        audit_record(actor=request.user, action="ledger.exported", obj=request.tenant,
                     data={"format": fmt, "since": str(since or ""), "until": str(until or "")})
        return response

    @admin.display(description=_("balance (debit +)"))
    def balance_display(self, acc):
        from ..ledger import balance

        return format_money(balance(acc), acc.currency)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "provider", "event_id", "kind", "outcome", "tenant")
    list_filter = ("provider", "kind", "outcome")

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EscrowBankAccountForm(forms.ModelForm):
    class Meta:
        model = EscrowBankAccount
        fields = ("currency", "bank", "account_name", "account_number", "swift", "cnaps", "reference_note",
                  "is_active")

    def clean(self):
        data = super().clean()
        data["currency"] = (data.get("currency") or "").upper()
        if data["currency"] and not re.fullmatch(r"[A-Z]{3}", data["currency"]):
            self.add_error("currency", gettext("Use the three-letter ISO code, e.g. CNY or HKD."))
        for field, message in bank_details_problems(account_number=data.get("account_number") or "",
                                                    swift=data.get("swift") or "", cnaps=data.get("cnaps") or "").items():
            self.add_error(field, message)
        if data.get("is_active") and data["currency"] and EscrowBankAccount.objects.filter(
                currency=data["currency"], is_active=True).exclude(pk=self.instance.pk).exists():
            self.add_error("currency", gettext("The exchange already has an active account in %(currency)s: "
                                               "deactivate that one first.") % {"currency": data["currency"]})
        return data


@admin.register(EscrowBankAccount)
class EscrowBankAccountAdmin(TenantModelAdmin):
    """The exchange's escrow accounts, one active per currency: exchange administrators set them,
    finance sees them. Payers are shown exactly these; every change is audited."""

    form = EscrowBankAccountForm
    view_roles = (Role.FINANCE, Role.ESCROW_OFFICER)
    change_roles = ()  # exchange administrators (TENANT_ADMIN is implied)
    allow_add = True
    list_display = ("currency", "bank", "account_name", "account_number", "swift", "is_active", "updated_at")
    list_filter = ("currency", "is_active")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(actor=request.user, action="escrow_bank_account.added" if not change else
                     "escrow_bank_account.changed", obj=obj,
                     data={f: str(form.cleaned_data.get(f)) for f in form.changed_data})


@admin.register(Deposit)
class DepositAdmin(TenantModelAdmin):
    """Deposits bidders placed (held in the ledger per deposit; returned or counted towards an order by
    the services, never edited here)."""

    view_roles = (Role.ESCROW_OFFICER, Role.FINANCE)
    list_display = ("subject", "payer_org", "amount_minor", "currency", "state", "order", "held_at", "closed_at")
    list_filter = ("state",)
    search_fields = ("subject",)
    readonly_fields = ("subject", "payer_org", "amount_minor", "currency", "state", "order", "created_by",
                       "created_at", "held_at", "closed_at")
