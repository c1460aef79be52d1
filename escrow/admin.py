"""Escrow back-office: orders by state and overdue deadline with their ledger, the disputes queue,
bank transfers awaiting reconciliation, payouts and refunds. Every button calls the same service as
the website; domain errors become admin messages."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from core.admin_site import ReadOnlyInline, TenantModelAdmin
from core.errors import DomainError, ValidationFailed
from core.money import format_money, to_minor

from . import services
from .models import (
    Disbursement,
    Dispute,
    DisputeEvidence,
    JournalEntry,
    LedgerAccount,
    Order,
    OrderState,
    Payment,
    WebhookEvent,
)

S = OrderState
VIEW = (Role.ESCROW_OFFICER, Role.FINANCE)
# Rows change only through the buttons (services); the form itself has nothing to save.
NO_SAVE = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False,
           "show_delete": False}


class LedgerInline(ReadOnlyInline):
    model = JournalEntry
    fields = ("created_at", "kind", "lines_text", "memo")
    readonly_fields = fields
    verbose_name_plural = _("ledger of this order")

    def get_queryset(self, request):
        return JournalEntry.objects.unscoped().prefetch_related("lines__account").order_by("created_at", "pk")

    @admin.display(description=_("lines (debit +, credit −)"))
    def lines_text(self, entry):
        return format_html_join(mark_safe("<br>"), "{} {}", (
            (line.account.get_kind_display(), format_money(line.amount_minor, line.currency))
            for line in entry.lines.all()))


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("reference", "provider", "amount_display", "state", "provider_ref", "received_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return Payment.objects.unscoped()

    @admin.display(description=_("amount"))
    def amount_display(self, p):
        return format_money(p.amount_minor, p.currency)


class DisbursementInline(ReadOnlyInline):
    model = Disbursement
    fields = ("kind", "provider", "amount_display", "recipient_org", "state", "provider_ref", "last_error")
    readonly_fields = fields

    def get_queryset(self, request):
        return Disbursement.objects.unscoped().select_related("recipient_org")

    @admin.display(description=_("amount"))
    def amount_display(self, d):
        return format_money(d.amount_minor, d.currency)


class DisputeInline(ReadOnlyInline):
    model = Dispute
    fields = ("opened_at", "party", "opened_by", "reason", "state", "outcome", "resolution_note")
    readonly_fields = fields

    def get_queryset(self, request):
        return Dispute.objects.unscoped().select_related("opened_by")


class OverdueFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("overdue")), ("no", _("on time"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        overdue = (Q(state=S.PLACED, seller_confirm_due__lte=now) | Q(state=S.SELLER_CONFIRMED, payment_due__lte=now)
                   | Q(state__in=[S.FUNDED, S.TRANSFER_REJECTED], filing_due__lte=now)
                   | Q(state=S.TRANSFER_APPROVED, inspection_due__lte=now))
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


def next_due(order):
    return {S.PLACED: order.seller_confirm_due, S.SELLER_CONFIRMED: order.payment_due, S.FUNDED: order.filing_due,
            S.TRANSFER_REJECTED: order.filing_due, S.TRANSFER_APPROVED: order.inspection_due}.get(order.state)


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


@admin.register(Order)
class OrderAdmin(ActionViewsMixin, TenantModelAdmin):
    view_roles = VIEW
    change_roles = (Role.ESCROW_OFFICER,)
    list_display = ("reference", "listing", "buyer_org", "seller_org", "state_badge", "total_display", "due_display",
                    "placed_at")
    list_filter = ("state", OverdueFilter, "payment_method")
    search_fields = ("reference", "listing__title", "buyer_org__legal_name", "seller_org__legal_name")
    list_select_related = ("listing", "buyer_org", "seller_org")
    date_hierarchy = "placed_at"
    inlines = [DisputeInline, PaymentInline, DisbursementInline, LedgerInline]
    change_form_template = "admin/escrow/order/change_form.html"
    readonly_fields = ("reference", "listing", "buyer", "buyer_org", "seller_org", "state", "disputed_from",
                       "currency", "price_minor", "buyer_fee_minor", "seller_commission_minor", "buyer_fee_bps",
                       "seller_commission_bps", "min_fee_minor", "deal_type", "payment_method", "seller_confirm_due",
                       "payment_due", "filing_due", "inspection_due", "placed_at", "confirmed_at", "funded_at",
                       "filed_at", "approved_at", "completed_at", "closed_at", "close_reason")
    fieldsets = (
        (None, {"fields": ("reference", "listing", "state", "disputed_from", "buyer", "buyer_org", "seller_org",
                           "deal_type", "payment_method")}),
        (_("Money (minor units, snapshotted when placed)"), {"fields": (
            "currency", "price_minor", "buyer_fee_minor", "seller_commission_minor", "buyer_fee_bps",
            "seller_commission_bps", "min_fee_minor")}),
        (_("Deadlines"), {"fields": ("seller_confirm_due", "payment_due", "filing_due", "inspection_due")}),
        (_("Timeline"), {"fields": ("placed_at", "confirmed_at", "funded_at", "filed_at", "approved_at",
                                    "completed_at", "closed_at", "close_reason")}),
    )

    @admin.display(description=_("state"), ordering="state")
    def state_badge(self, order):
        colour = {"completed": "#047857", "refunded": "#b91c1c", "cancelled": "#6b7280", "disputed": "#b91c1c"
                  }.get(order.state, "#1d4ed8")
        return format_html('<strong style="color:{}">{}</strong>', colour, order.get_state_display())

    @admin.display(description=_("total"), ordering="price_minor")
    def total_display(self, order):
        return format_money(order.total_minor, order.currency)

    @admin.display(description=_("next deadline"))
    def due_display(self, order):
        due = next_due(order)
        if not due:
            return "—"
        text = timezone.localtime(due).strftime("%Y-%m-%d %H:%M")
        if due <= timezone.now():
            return format_html('<strong style="color:#b91c1c">{} ⚠ {}</strong>', text, gettext("overdue"))
        return text

    def get_urls(self):
        return [
            path("<int:pk>/refund/", self.admin_site.admin_view(self.refund_view), name="escrow_order_refund"),
            path("<int:pk>/cancel/", self.admin_site.admin_view(self.cancel_view), name="escrow_order_cancel"),
            path("<int:pk>/resolve/<slug:outcome>/", self.admin_site.admin_view(self.resolve_view),
                 name="escrow_order_resolve"),
        ] + super().get_urls()

    def _order(self, request, pk):
        if not self.has_change_permission(request):
            raise Http404
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def _back(self, order):
        return reverse("admin:escrow_order_change", args=[order.pk])

    def refund_view(self, request, pk):
        order = self._order(request, pk)
        return self._act(request, order, title=gettext("Refund the buyer of %(ref)s") % {"ref": order.reference},
                         form_class=ReasonForm, back=self._back(order),
                         call=lambda d: services.order_refund(order=order, actor=request.user, reason=d["reason"]),
                         done=gettext("Refunded; the refund is sent through the provider it came from."))

    def cancel_view(self, request, pk):
        order = self._order(request, pk)
        return self._act(request, order, title=gettext("Cancel %(ref)s") % {"ref": order.reference},
                         form_class=ReasonForm, back=self._back(order),
                         call=lambda d: services.order_staff_cancel(order=order, actor=request.user, reason=d["reason"]),
                         done=gettext("Order cancelled (refunded if it was paid); both parties are told."))

    def resolve_view(self, request, pk, outcome):
        order = self._order(request, pk)
        if outcome not in ("refund", "continue"):
            raise Http404
        title = (gettext("Resolve the dispute on %(ref)s: refund the buyer") if outcome == "refund"
                 else gettext("Resolve the dispute on %(ref)s: continue the trade")) % {"ref": order.reference}
        return self._act(request, order, title=title, form_class=ReasonForm, back=self._back(order),
                         call=lambda d: services.order_dispute_resolve(order=order, actor=request.user,
                                                                       outcome=outcome, note=d["reason"]),
                         done=gettext("Dispute resolved; both parties are told."))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "may_act": self.has_change_permission(request), **NO_SAVE}
        return super().changeform_view(request, object_id, form_url, extra_context)


class EvidenceInline(ReadOnlyInline):
    model = DisputeEvidence
    fields = ("open_link", "content_type", "uploaded_by", "uploaded_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return DisputeEvidence.objects.unscoped().select_related("uploaded_by")

    @admin.display(description=_("file"))
    def open_link(self, ev):
        url = reverse("admin:escrow_dispute_evidence", args=[ev.dispute_id, ev.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, ev)


@admin.register(Dispute)
class DisputeAdmin(TenantModelAdmin):
    """The disputes queue: open ones first; resolve from the order's page."""

    view_roles = VIEW
    change_roles = ()
    list_display = ("order_link", "party", "reason_short", "state", "outcome", "opened_at")
    list_filter = ("state", "outcome", "party")
    search_fields = ("order__reference", "reason")
    list_select_related = ("order",)
    inlines = [EvidenceInline]
    readonly_fields = ("order", "opened_by", "party", "reason", "state", "outcome", "resolution_note", "resolved_by",
                       "opened_at", "resolved_at")

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-state", "opened_at")  # "open" sorts after "resolved"

    @admin.display(description=_("order"))
    def order_link(self, d):
        return format_html('<a href="{}">{}</a>', reverse("admin:escrow_order_change", args=[d.order_id]), d.order)

    @admin.display(description=_("reason"))
    def reason_short(self, d):
        return (d.reason[:80] + "…") if len(d.reason) > 80 else d.reason

    def get_urls(self):
        return [path("<int:pk>/evidence/<int:ev>/", self.admin_site.admin_view(self.evidence_view),
                     name="escrow_dispute_evidence")] + super().get_urls()

    def evidence_view(self, request, pk, ev):
        if not self.has_view_permission(request):
            raise Http404
        dispute = get_object_or_404(self.get_queryset(request), pk=pk)
        item = get_object_or_404(DisputeEvidence.objects.unscoped().filter(dispute=dispute), pk=ev)
        try:
            return FileResponse(item.file.open("rb"), content_type=item.content_type)
        except FileNotFoundError:
            raise Http404 from None


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

    @admin.display(description=_("balance (debit +)"))
    def balance_display(self, acc):
        from .ledger import balance

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

