"""Back-office for listings: the verification queue (seller's claims next to the register, checklist
computed automatically and confirmed by the verifier, Approve / Reject calling the services), all
listings of the exchange."""

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.admin_site import ReadOnlyInline, TenantModelAdmin
from core.errors import DomainError
from core.permissions import Role, has_role
from core.storage import private_file_response
from rights.registry import get_register

from . import services
from .models import Listing, ListingToVerify, Right
from .selectors import check_labels, similar_marks_not_in_package, verification_checklist
from .templatetags.listings_tags import money

COMPARED = [
    ("number", _("Number")), ("title", _("Title")), ("owner_name", _("Owner of record")),
    ("legal_status", _("Legal status")), ("filing_date", _("Filed")), ("grant_date", _("Granted / registered")),
    ("expiry_date", _("Expires")), ("renewal_paid_through", _("Fees paid through")), ("classes", _("Classes")),
]


class RightInline(ReadOnlyInline):
    model = Right
    fields = ("jurisdiction", "number", "kind", "title", "owner_name", "legal_status", "expiry_date", "certificate_link")
    readonly_fields = fields

    @admin.display(description=_("Certificate scan"))
    def certificate_link(self, right):
        if not right.certificate:
            return "—"
        url = reverse("admin:listings_listing_certificate", args=[right.listing_id, right.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, gettext("open"))

    def get_queryset(self, request):
        return Right.objects.unscoped().select_related("register_record")


class DecisionForm(forms.Form):
    reasons = forms.CharField(label=_("Reasons (shown to the seller; required to reject)"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


class ListingAdmin(TenantModelAdmin):
    view_roles = (Role.VERIFIER, Role.ESCROW_OFFICER, Role.FINANCE)
    change_roles = (Role.VERIFIER,)
    list_display = ("title", "seller_org", "state_badge", "kind", "jurisdiction", "price", "featured", "submitted_at",
                    "published_at")
    list_filter = ("state", "kind", "jurisdiction", "deal_type", "featured")
    search_fields = ("title", "owner_name", "seller_org__legal_name", "rights__number")
    list_select_related = ("seller_org",)
    ordering = ("-updated_at",)
    inlines = [RightInline]
    actions = ["feature", "unfeature"]
    change_form_template = "admin/listings/listing/change_form.html"
    readonly_fields = ("seller_org", "created_by", "title", "description", "price_display", "deal_type",
                       "licence_term_months", "licence_territory", "industry_tags", "state", "featured",
                       "rejection_reason", "margin_display", "submitted_at", "published_at", "verified_by",
                       "verified_at", "lapsed_reason")
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("seller_org").defer("search_document")

    @admin.display(description=_("state"), ordering="state")
    def state_badge(self, obj):
        colours = {"published": "#047857", "submitted": "#b45309", "in_verification": "#b45309",
                   "rejected": "#b91c1c", "lapsed": "#b91c1c", "awaiting_margin": "#1d4ed8"}
        return format_html('<strong style="color:{}">{}</strong>', colours.get(obj.state, "#6b7280"),
                           obj.get_state_display())

    @admin.display(description=_("price"), ordering="price_minor")
    def price(self, obj):
        return money(obj.price_minor, obj.currency)

    @admin.display(description=_("price"))
    def price_display(self, obj):
        return money(obj.price_minor, obj.currency)

    @admin.display(description=_("margin"))
    def margin_display(self, obj):
        return money(obj.margin_minor, obj.currency) if obj.margin_minor else "—"

    def _may_decide(self, request):
        return request.user.is_superuser or has_role(request.user, Role.VERIFIER)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404  # another exchange's listing does not exist here

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path("<int:pk>/decide/", self.admin_site.admin_view(require_POST(self.decide_view)),
                 name="{}_{}_decide".format(*info)),
            path("<int:pk>/certificate/<int:right_pk>/", self.admin_site.admin_view(self.certificate_view),
                 name="{}_{}_certificate".format(*info)),
        ] + super().get_urls()

    def certificate_view(self, request, pk, right_pk):
        """The seller's certificate scan, to staff who may see this listing (never a public /media/ URL)."""
        listing = self.get_object(request, str(pk))
        if listing is None or not self.has_view_permission(request, listing):
            raise Http404
        right = Right.objects.unscoped().filter(listing=listing, pk=right_pk).first()
        if right is None or not right.certificate:
            raise Http404
        try:
            return private_file_response(right.certificate, content_type=right.certificate_content_type)
        except FileNotFoundError:
            raise Http404 from None

    def _comparison(self, listing):
        register = get_register()
        rows, records = [], {}
        for right in listing.rights.all():
            current = register.get(jurisdiction=right.jurisdiction, number=right.number) or right.register_record
            records[right.pk] = current
            fields = []
            for name, label in COMPARED:
                claim = getattr(right, name)
                actual = getattr(current, name) if current else None
                if name == "classes":
                    claim = ", ".join(claim or [])
                    actual = ", ".join(actual or []) if current else None
                if name == "legal_status":
                    claim = right.get_legal_status_display()
                    actual = current.get_legal_status_display() if current else None
                fields.append({"label": label, "claim": claim, "register": actual,
                               "differs": current is not None and str(claim) != str(actual)})
            rows.append({"right": right, "record": current, "fields": fields,
                         "encumbrances": current.encumbrances if current else []})
        return rows, records

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        if object_id:
            listing = self.get_queryset(request).filter(pk=object_id).first()
            if listing is None:
                raise Http404
            rows, records = self._comparison(listing)
            extra.update({
                "may_decide": self._may_decide(request) and listing.state in (
                    Listing.State.SUBMITTED, Listing.State.IN_VERIFICATION),
                "comparison": rows,
                "checklist": verification_checklist(listing, records=records),
                "similar": similar_marks_not_in_package(records=[r for r in records.values() if r]),
                "decision_form": DecisionForm(),
                "decide_url": reverse(f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_decide",
                                      args=[listing.pk]),
                "listing": listing,
                "show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False,
            })
        return super().changeform_view(request, object_id, form_url, extra)

    def decide_view(self, request, pk):
        if not self._may_decide(request):
            raise Http404
        listing = self.get_queryset(request).filter(pk=pk).first()
        if listing is None:
            raise Http404
        approve = request.POST.get("decision") == "approve"
        confirmed = {code: request.POST.get(f"check_{code}") == "on" for code, _label in check_labels()}
        try:
            services.listing_decide(listing=listing, actor=request.user, approve=approve,
                                    reasons=request.POST.get("reasons", ""), confirmed=confirmed,
                                    ip_address=request.META.get("REMOTE_ADDR"))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse(f"admin:{self.model._meta.app_label}_"
                                                f"{self.model._meta.model_name}_change", args=[pk]))
        listing.refresh_from_db()
        if approve:
            self.message_user(request, gettext("“%(title)s” is approved: %(state)s.")
                              % {"title": listing.title, "state": listing.get_state_display()}, messages.SUCCESS)
        else:
            self.message_user(request, gettext("“%(title)s” is rejected; the seller sees the reasons.")
                              % {"title": listing.title}, messages.SUCCESS)
        return HttpResponseRedirect(reverse(f"admin:{self.model._meta.app_label}_"
                                            f"{self.model._meta.model_name}_changelist"))

    @admin.action(description=_("Feature the selected listings on the home page"))
    def feature(self, request, queryset):
        for listing in queryset.order_by("pk"):
            services.listing_set_featured(listing=listing, actor=request.user, featured=True)

    @admin.action(description=_("Stop featuring the selected listings"))
    def unfeature(self, request, queryset):
        for listing in queryset.order_by("pk"):
            services.listing_set_featured(listing=listing, actor=request.user, featured=False)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not (request.user.is_superuser or has_role(request.user, Role.TENANT_ADMIN, Role.VERIFIER)):
            actions.pop("feature", None)
            actions.pop("unfeature", None)
        return actions


class VerificationQueueAdmin(ListingAdmin):
    """Submitted listings, oldest first: the verifiers' work queue."""

    view_roles = (Role.VERIFIER,)
    list_display = ("title", "seller_org", "state_badge", "kind", "jurisdiction", "rights_count", "price",
                    "submitted_at")
    list_filter = ("state", "kind", "jurisdiction")
    ordering = ("submitted_at", "id")
    actions = []

    def get_queryset(self, request):
        return super().get_queryset(request).filter(
            state__in=[Listing.State.SUBMITTED, Listing.State.IN_VERIFICATION]).order_by("submitted_at", "id")


admin.site.register(Listing, ListingAdmin)
admin.site.register(ListingToVerify, VerificationQueueAdmin)
