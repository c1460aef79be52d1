from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, Role
from core.admin_site import TenantModelAdmin

from . import services
from .models import PartnerAPIKey, Scope, WebhookAttempt, WebhookDelivery, WebhookEndpoint


class PartnerAPIKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(label=_("scopes"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple)
    # The scoped queryset needs the request's tenant: set in __init__, never at import time.
    organization = forms.ModelChoiceField(label=_("organization"), queryset=Organization.objects.unscoped().none())

    class Meta:
        model = PartnerAPIKey
        fields = ["name", "organization", "scopes", "expiry_date"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields.pop("organization", None)  # fixed once issued (read-only in the admin)
            self.fields["scopes"].initial = self.instance.scopes
        else:
            self.fields["organization"].queryset = Organization.objects.order_by("legal_name")


@admin.register(PartnerAPIKey)
class PartnerAPIKeyAdmin(TenantModelAdmin):
    """Issued by a tenant administrator; the secret is shown once, right after saving."""

    form = PartnerAPIKeyForm
    allow_add = True
    list_display = ("name", "prefix", "organization", "scope_list", "created", "expiry_date", "last_used_at",
                    "revoked")
    list_filter = ("revoked",)
    search_fields = ("name", "prefix", "organization__legal_name")
    readonly_fields = ("prefix", "created", "last_used_at", "revoked", "revoked_at", "service_user", "created_by")
    actions = ["revoke_keys"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "organization", "scopes", "expiry_date"]
        return ["name", "organization", "scopes", "expiry_date", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (*self.readonly_fields, "organization")

    @admin.display(description=_("scopes"))
    def scope_list(self, obj):
        return ", ".join(obj.scopes)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.api_key_update(key=obj, name=data.get("name"), scopes=data.get("scopes"),
                                    expiry_date=data.get("expiry_date"), actor=request.user)
            return
        key, secret = services.api_key_issue(
            organization=data["organization"], name=data["name"], scopes=data["scopes"],
            expiry_date=data.get("expiry_date"), actor=request.user,
        )
        obj.__dict__.update({k: v for k, v in key.__dict__.items() if not k.startswith("_")})
        obj._state.adding = False
        messages.warning(request, format_html(
            "{} <code style='user-select:all'>{}</code>",
            _("Copy the key now and hand it to the partner securely; it is not shown again:"), secret,
        ))

    @admin.action(description=_("Revoke the selected keys"))
    def revoke_keys(self, request, queryset):
        for key in queryset:
            services.api_key_revoke(key=key, actor=request.user, reason="revoked in the admin")
        self.message_user(request, _("Keys revoked."), messages.SUCCESS)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantModelAdmin):
    list_display = ("url", "organization", "event_list", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url", "organization__legal_name")
    fields = ("organization", "url", "description", "event_types", "is_active", "created_at")
    readonly_fields = ("organization", "url", "event_types", "created_at")

    @admin.display(description=_("events"))
    def event_list(self, obj):
        return ", ".join(obj.event_types)

    def save_model(self, request, obj, form, change):
        services.webhook_endpoint_update(endpoint=obj, description=form.cleaned_data.get("description"),
                                         is_active=form.cleaned_data.get("is_active"))


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ("attempted_at", "response_code", "duration_ms", "error", "response_excerpt")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantModelAdmin):
    view_roles = (Role.TENANT_ADMIN,)
    change_roles = (Role.TENANT_ADMIN,)
    list_display = ("created_at", "event_type", "endpoint", "status", "attempts", "response_code", "next_attempt_at")
    list_filter = ("status", "event_type")
    search_fields = ("endpoint__url", "event_id")
    list_select_related = ("endpoint",)
    readonly_fields = ("endpoint", "event_id", "event_type", "status", "attempts", "response_code",
                       "response_excerpt", "last_error", "created_at", "last_attempt_at", "next_attempt_at",
                       "give_up_at", "delivered_at", "replay_of", "payload")
    fields = readonly_fields
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    def has_change_permission(self, request, obj=None):
        return False  # read-only log; replay is an action

    @admin.action(description=_("Replay the selected deliveries"))
    def replay(self, request, queryset):
        count = 0
        for delivery in queryset.select_related("endpoint"):
            services.webhook_delivery_replay(delivery=delivery, actor=request.user)
            count += 1
        self.message_user(request, _("%(n)d deliveries queued again.") % {"n": count}, messages.SUCCESS)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not self._may(request, self.change_roles):
            actions.pop("replay", None)
        return actions
