"""Orders by state and overdue deadline, with their ledger, payments, payouts and disputes inline."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from core.admin_site import ReadOnlyInline, TenantModelAdmin
from core.errors import ValidationFailed
from core.money import format_money, to_minor

from .. import ledger, services
from ..models import (
    Disbursement,
    Dispute,
    JournalEntry,
    Order,
    Payment,
)
from ..services.payouts import payout_destination
from .common import NO_SAVE, VIEW, ActionViewsMixin, ReasonForm, S, SplitForm


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
    fields = ("opened_at", "party_display", "opened_by", "reason", "state", "outcome", "resolution_note")
    readonly_fields = fields

    def get_queryset(self, request):
        return Dispute.objects.unscoped().select_related("opened_by")

    @admin.display(description=_("party"))
    def party_display(self, dispute):
        return {"buyer": _("Buyer"), "seller": _("Seller")}.get(dispute.party, dispute.party)


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
    readonly_fields = ("reference", "listing", "buyer", "buyer_org", "seller_org", "state", "disputed_from_display",
                       "currency", "price_minor", "buyer_fee_minor", "seller_commission_minor", "buyer_fee_bps",
                       "seller_commission_bps", "min_fee_minor", "deal_type", "payment_method", "seller_confirm_due",
                       "payment_due", "filing_due", "inspection_due", "placed_at", "confirmed_at", "funded_at",
                       "filed_at", "approved_at", "completed_at", "closed_at", "close_reason")
    fieldsets = (
        (None, {"fields": ("reference", "listing", "state", "disputed_from_display", "buyer", "buyer_org", "seller_org",
                           "deal_type", "payment_method")}),
        (_("Money (minor units, snapshotted when placed)"), {"fields": (
            "currency", "price_minor", "buyer_fee_minor", "seller_commission_minor", "buyer_fee_bps",
            "seller_commission_bps", "min_fee_minor")}),
        (_("Deadlines"), {"fields": ("seller_confirm_due", "payment_due", "filing_due", "inspection_due")}),
        (_("Timeline"), {"fields": ("placed_at", "confirmed_at", "funded_at", "filed_at", "approved_at",
                                    "completed_at", "closed_at", "close_reason")}),
    )

    @admin.display(description=_("disputed from"))
    def disputed_from_display(self, order):
        """The state the trade resumes in if the dispute is settled by continuing, as its label."""
        return S(order.disputed_from).label if order.disputed_from in S.values else "-"

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
            path("<int:pk>/split/", self.admin_site.admin_view(self.split_view), name="escrow_order_split"),
            path("<int:pk>/return-split/", self.admin_site.admin_view(self.return_split_view),
                 name="escrow_order_return_split"),
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
                         summary=lambda d: self._refund_summary(order, d),
                         done=gettext("Done: refunded through the provider the money came from, or, when the office "
                                      "had recorded the buyer, the transfer back to the seller has started."))

    def cancel_view(self, request, pk):
        order = self._order(request, pk)
        return self._act(request, order, title=gettext("Cancel %(ref)s") % {"ref": order.reference},
                         form_class=ReasonForm, back=self._back(order),
                         call=lambda d: services.order_staff_cancel(order=order, actor=request.user, reason=d["reason"]),
                         summary=lambda d: self._refund_summary(order, d, cancel=True),
                         done=gettext("Order cancelled (refunded if it was paid); both parties are told."))

    def _money_summary(self, order, rows):
        return [(gettext("Order"), f"{order.reference} · {order.listing.title}"), *rows]

    def _refund_summary(self, order, data, *, cancel=False):
        """What a staff refund or cancellation does to the money, shown before the second confirmation."""
        payment = order.payments.filter(state="succeeded").first()
        held = ledger.escrow_balance(order)
        rows = [(gettext("Buyer"), str(order.buyer_org))]
        if held and services.transfer_recorded(order):
            rows += [(gettext("Action"), gettext("Transfer back to the seller first")),
                     (gettext("Why"), gettext("The office has recorded the buyer as owner: the rights go back to "
                                              "the seller before the buyer is repaid.")),
                     (gettext("Refunded to the buyer"),
                      gettext("%(amount)s, when the office records the transfer back")
                      % {"amount": format_money(held, order.currency)}),
                     (gettext("Refunded through"), payment.get_provider_display() if payment else "—"),
                     (gettext("The seller receives"), format_money(0, order.currency)),
                     (gettext("Reason sent to both"), data.get("reason") or "—"),
                     (gettext("Cannot be undone"), gettext("Both parties are asked to sign the assignment back; "
                                                           "until it is filed you may still settle by a split."))]
            return self._money_summary(order, rows)
        if payment is None or not held:
            rows.append((gettext("Money"), gettext("Nothing was paid: no money moves.")))
        else:
            rows += [(gettext("Refunded to the buyer"), format_money(held, order.currency)),
                     (gettext("Refunded through"), payment.get_provider_display()),
                     (gettext("The seller receives"), format_money(0, order.currency))]
        rows += [(gettext("Reason sent to both"), data.get("reason") or "—"),
                 (gettext("Cannot be undone"), gettext("The order ends for good and the listing is released; a "
                                                       "refund once sent cannot be recalled."))]
        if cancel:
            rows.insert(0, (gettext("Action"), gettext("Cancel the order")))
        return self._money_summary(order, rows)

    def split_view(self, request, pk):
        """Settle a dispute by a split: the officer enters the buyer's part, sees both amounts and where
        they go, and confirms a second time."""
        order = self._order(request, pk)
        return self._split(
            request, order, first_rows=[], last_rows=[],
            settle=lambda refund, note: services.order_dispute_resolve(
                order=order, actor=request.user, outcome="split", note=note, refund_minor=refund,
                expected_refund_minor=refund),
            title=gettext("Settle the dispute on %(ref)s by a split") % {"ref": order.reference},
            done=gettext("Dispute settled by a split; both parties are told."))

    def return_split_view(self, request, pk):
        """Settle an order awaiting its transfer back by a split instead: the buyer keeps the rights."""
        order = self._order(request, pk)
        return self._split(
            request, order,
            first_rows=[(gettext("Action"), gettext("Abandon the transfer back: the buyer keeps the rights"))],
            last_rows=[(gettext("Cannot be undone"), gettext("The money goes out and the transfer back is withdrawn."))],
            settle=lambda refund, note: services.order_return_split(
                order=order, actor=request.user, refund_minor=refund, note=note, expected_refund_minor=refund),
            title=gettext("Settle %(ref)s by a split instead of the transfer back") % {"ref": order.reference},
            done=gettext("Settled by a split; both parties are told."))

    def _split(self, request, order, *, first_rows, last_rows, settle, title, done):
        """A split's form, its summary (each side's amount and where it goes), then the second confirmation."""

        def amounts(data):
            try:
                refund = to_minor(data["refund"], order.currency)
            except ValueError as exc:
                raise ValidationFailed(str(exc)) from None
            return refund, services.split_amounts(order, refund)

        def summary(data):
            refund, a = amounts(data)
            payment = order.payments.filter(state="succeeded").first()
            seller = payout_destination(order.seller_org, payment.provider if payment else "")
            return self._money_summary(order, [
                *first_rows,
                (gettext("To the buyer %(org)s") % {"org": order.buyer_org}, format_money(refund, order.currency)),
                (gettext("Refunded through"), payment.get_provider_display() if payment else "—"),
                (gettext("To the seller %(org)s") % {"org": order.seller_org},
                 format_money(a["seller"], order.currency)),
                (gettext("Seller's account"), seller.label or seller.missing),
                (gettext("Kept by the exchange (fees)"), format_money(a["fees"], order.currency)),
                (gettext("Reason sent to both"), data["reason"]),
                *last_rows,
            ])

        def call(data):
            settle(amounts(data)[0], data["reason"])

        return self._act(request, order, title=title, form_class=SplitForm, back=self._back(order), call=call,
                         summary=summary, done=done)

    def resolve_view(self, request, pk, outcome):
        order = self._order(request, pk)
        if outcome not in ("refund", "continue"):
            raise Http404
        title = (gettext("Resolve the dispute on %(ref)s: refund the buyer") if outcome == "refund"
                 else gettext("Resolve the dispute on %(ref)s: continue the trade")) % {"ref": order.reference}
        return self._act(request, order, title=title, form_class=ReasonForm, back=self._back(order),
                         call=lambda d: services.order_dispute_resolve(order=order, actor=request.user,
                                                                       outcome=outcome, note=d["reason"]),
                         summary=(lambda d: self._refund_summary(order, d)) if outcome == "refund" else None,
                         done=gettext("Dispute resolved; both parties are told."))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "may_act": self.has_change_permission(request), **NO_SAVE}
        return super().changeform_view(request, object_id, form_url, extra_context)
