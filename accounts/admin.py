"""Back-office for accounts: the verification queue of organizations, staff roles and the exchange's users."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.admin_site import ReadOnlyInline, TenantModelAdmin
from core.errors import DomainError
from core.permissions import has_role
from core.storage import private_file_response

from . import services
from .models import Membership, Organization, OrganizationDocument, Role, TenantRole, User


class DocumentInline(ReadOnlyInline):
    model = OrganizationDocument
    extra = 0
    can_delete = False
    fields = ("kind", "open_link", "content_type", "uploaded_by", "uploaded_at")
    readonly_fields = fields
    verbose_name_plural = _("verification documents")

    def get_queryset(self, request):
        # The formset narrows this to the organization on screen, which the parent admin already scoped.
        return OrganizationDocument.objects.unscoped().select_related("uploaded_by")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("file"))
    def open_link(self, doc):
        if not doc.pk:
            return "-"
        url = reverse("admin:accounts_organization_document", args=[doc.organization_id, doc.pk])
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, gettext("Open"))


class MembershipInline(ReadOnlyInline):
    model = Membership
    extra = 0
    can_delete = False
    fields = ("user", "is_admin", "is_default", "joined_at")
    readonly_fields = fields
    verbose_name_plural = _("members")

    def get_queryset(self, request):
        return Membership.objects.unscoped().select_related("user")

    def has_add_permission(self, request, obj=None):
        return False


class RejectForm(forms.Form):
    note = forms.CharField(label=_("Reason shown to the organization"), widget=forms.Textarea(attrs={"rows": 4}),
                           help_text=_("Say what is wrong and what to upload or correct."))


@admin.register(Organization)
class OrganizationAdmin(TenantModelAdmin):
    view_roles = (Role.ESCROW_OFFICER, Role.FINANCE)
    change_roles = (Role.VERIFIER,)
    list_display = ("legal_name", "kind", "country", "registration_number", "status_badge", "documents_count", "created_at")
    list_filter = ("verification_status", "kind", "country")
    search_fields = ("legal_name", "legal_name_en", "registration_number", "contact_email")
    # Where an organization is paid is not the verifiers' business: shown, never edited here.
    readonly_fields = ("verification_status", "verification_note", "verified_at", "verified_by", "created_at",
                       "payout_bank_name", "payout_account_name", "payout_bank_account", "payout_swift", "payout_cnaps",
                       "payout_changed_at", "payout_verified_at", "payout_verified_by", "stripe_account_id",
                       "stripe_payouts_enabled")
    fieldsets = (
        (None, {"fields": ("kind", "legal_name", "legal_name_en", "country", "registration_number", "address",
                           "contact_email")}),
        (_("Verification"), {"fields": ("verification_status", "verification_note", "verified_at", "verified_by")}),
        (_("Payouts"), {"fields": ("payout_bank_name", "payout_account_name", "payout_bank_account", "payout_swift",
                                   "payout_cnaps", "payout_changed_at", "payout_verified_at", "payout_verified_by",
                                   "stripe_account_id", "stripe_payouts_enabled")}),
    )
    inlines = [DocumentInline, MembershipInline]
    actions = ["verify_selected"]
    change_form_template = "admin/accounts/organization/change_form.html"

    def get_queryset(self, request):
        from django.db.models import Case, Count, IntegerField, Value, When

        pending_first = Case(When(verification_status=Organization.Verification.PENDING, then=Value(0)),
                             default=Value(1), output_field=IntegerField())
        return (super().get_queryset(request).annotate(_docs=Count("documents"), _pending_first=pending_first)
                .order_by("_pending_first", "-created_at"))

    @admin.display(description=_("verification"), ordering="verification_status")
    def status_badge(self, org):
        colours = {"verified": "#047857", "pending": "#b45309", "rejected": "#b91c1c"}
        return format_html('<strong style="color:{}">{}</strong>', colours.get(org.verification_status, "#6b7280"),
                           org.get_verification_status_display())

    @admin.display(description=_("documents"), ordering="_docs")
    def documents_count(self, org):
        return org._docs

    def get_urls(self):
        urls = [
            path("<int:pk>/verify/", self.admin_site.admin_view(require_POST(self.verify_view)),
                 name="accounts_organization_verify"),
            path("<int:pk>/reject/", self.admin_site.admin_view(self.reject_view), name="accounts_organization_reject"),
            path("<int:pk>/verify-payout/", self.admin_site.admin_view(require_POST(self.verify_payout_view)),
                 name="accounts_organization_verify_payout"),
            path("<int:pk>/documents/<int:doc_pk>/", self.admin_site.admin_view(self.document_view),
                 name="accounts_organization_document"),
        ]
        return urls + super().get_urls()

    def _org(self, request, pk):
        if not self.has_view_permission(request):
            raise Http404
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def _may_decide(self, request):
        return request.user.is_superuser or has_role(request.user, Role.VERIFIER)

    def _decide(self, request, org, *, approve, note=""):
        try:
            services.organization_decide(organization=org, actor=request.user, approve=approve, note=note)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return False
        if approve:
            self.message_user(request, gettext("%(org)s is verified.") % {"org": org.legal_name}, messages.SUCCESS)
        else:
            self.message_user(request, gettext("%(org)s is rejected; the members see the reason.")
                              % {"org": org.legal_name}, messages.SUCCESS)
        return True

    def verify_view(self, request, pk):
        org = self._org(request, pk)
        self._decide(request, org, approve=True)
        return HttpResponseRedirect(reverse("admin:accounts_organization_change", args=[org.pk]))

    def verify_payout_view(self, request, pk):
        """Finance confirms the organization's new payout bank account (after a call-back to a known
        number); payouts held for it go out."""
        org = self._org(request, pk)
        try:
            services.organization_verify_payout_bank(organization=org, actor=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, gettext("The payout account of %(org)s is verified; held payouts are on "
                                               "their way.") % {"org": org.legal_name}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:accounts_organization_change", args=[org.pk]))

    def reject_view(self, request, pk):
        org = self._org(request, pk)
        form = RejectForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            if self._decide(request, org, approve=False, note=form.cleaned_data["note"]):
                return HttpResponseRedirect(reverse("admin:accounts_organization_changelist"))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": org, "form": form,
                   "title": gettext("Reject %(org)s") % {"org": org.legal_name}}
        return TemplateResponse(request, "admin/accounts/organization/reject.html", context,
                                status=400 if request.method == "POST" else 200)

    def document_view(self, request, pk, doc_pk):
        org = self._org(request, pk)
        doc = get_object_or_404(OrganizationDocument.objects.unscoped().filter(organization=org), pk=doc_pk)
        try:
            return private_file_response(doc.file, content_type=doc.content_type)
        except FileNotFoundError:
            raise Http404 from None

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "may_decide": self._may_decide(request),
                         "may_verify_payout": request.user.is_superuser or has_role(request.user, Role.FINANCE)}
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Verify the selected organizations"))
    def verify_selected(self, request, queryset):
        done = 0
        for org in queryset.order_by("pk"):
            try:
                services.organization_decide(organization=org, actor=request.user, approve=True)
            except DomainError as exc:
                self.message_user(request, f"{org.legal_name}: {exc.message}", messages.ERROR)
                return
            done += 1
        self.message_user(request, gettext("%(n)d organizations verified.") % {"n": done}, messages.SUCCESS)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._may_decide(request):
            actions.pop("verify_selected", None)
        return actions


class TenantRoleForm(forms.ModelForm):
    class Meta:
        model = TenantRole
        fields = ("user", "role")

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        if "user" not in self.fields:  # view-only form of an existing role
            return
        if users is not None:
            self.fields["user"].queryset = users
        self.fields["user"].help_text = _("People who have signed up on this exchange.")
        self.fields["user"].label_from_instance = lambda u: f"{u.full_name} <{u.email}>" if u.full_name else u.email

    def clean(self):
        data = super().clean()
        if data.get("user") and data.get("role") and TenantRole.objects.filter(user=data["user"], role=data["role"]).exists():
            raise forms.ValidationError(_("This person already has this role."))
        return data


def exchange_users(request):
    """Users of the exchange of the request: those with any role in it (everyone, for a platform superuser)."""
    if request.user.is_superuser:
        return User.objects.all()
    return User.objects.filter(tenant_roles__tenant=request.tenant).distinct()


@admin.register(TenantRole)
class TenantRoleAdmin(TenantModelAdmin):
    view_roles = ()
    change_roles = ()
    allow_add = True
    allow_delete = True
    form = TenantRoleForm
    list_display = ("user", "role", "granted_at")
    list_filter = ("role",)
    search_fields = ("user__email", "user__full_name")
    list_select_related = ("user",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        users = exchange_users(request).order_by("email")

        class Bound(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, users=users, **kw)

        return Bound

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        saved = services.user_grant_role(user=obj.user, role=obj.role, actor=request.user)
        obj.pk, obj.tenant, obj.granted_at = saved.pk, saved.tenant, saved.granted_at

    def delete_model(self, request, obj):
        services.user_revoke_role(role=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for role in queryset.select_related("user").order_by("pk"):
            services.user_revoke_role(role=role, actor=request.user)


class RoleInline(ReadOnlyInline):
    model = TenantRole
    extra = 0
    fields = ("role", "granted_at")
    readonly_fields = ("role", "granted_at")
    can_delete = False
    verbose_name_plural = _("roles in this exchange")

    def get_queryset(self, request):
        return TenantRole.objects.unscoped().filter(tenant=request.tenant)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Tenant admins see the people of their exchange; platform superusers see everyone."""

    ordering = ("email",)
    list_display = ("email", "full_name", "phone", "language", "is_active", "date_joined")
    list_filter = ("is_active", "language")
    search_fields = ("email", "full_name", "phone")
    readonly_fields = ("last_login", "date_joined")
    inlines = [RoleInline]
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        sets = [(None, {"fields": ("email", "full_name", "phone", "language", "is_active")}),
                (_("Dates"), {"fields": ("last_login", "date_joined")})]
        if request.user.is_superuser:
            sets.insert(1, (_("Platform"), {"fields": ("is_staff", "is_superuser", "password")}))
        return sets

    def get_queryset(self, request):
        return exchange_users(request)

    def _tenant_admin(self, request):
        return request.user.is_superuser or has_role(request.user, Role.TENANT_ADMIN)

    def has_module_permission(self, request):
        return self._tenant_admin(request)

    def has_view_permission(self, request, obj=None):
        return self._tenant_admin(request)

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if obj is not None and (obj.is_superuser or self._belongs_elsewhere(request, obj)):
            return False  # a person of several exchanges: only the platform changes their account
        return self._tenant_admin(request)

    def _belongs_elsewhere(self, request, obj):
        return TenantRole.objects.unscoped().filter(user=obj).exclude(tenant=request.tenant).exists()

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ("email",)  # the login: changing it would hand the account to someone else
        return readonly

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404
