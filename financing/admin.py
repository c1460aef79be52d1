"""Back-office: the exchange lists its finance partners (appraisers, banks, guarantors); staff see
applications and appraisals read-only (state changes go through the website's staff actions, which
call the same services)."""

from django.contrib import admin
from django.utils.html import format_html

from core.admin_site import TenantModelAdmin
from core.permissions import Role

from .models import Appraisal, FinancePartner, FinancingTerms, LoanApplication


@admin.register(FinancePartner)
class FinancePartnerAdmin(TenantModelAdmin):
    view_roles = (Role.ESCROW_OFFICER, Role.FINANCE)
    change_roles = (Role.FINANCE,)
    allow_add = True
    list_display = ("organization", "kind", "appraisal_fee_minor", "currency", "is_active")
    list_filter = ("kind", "is_active")
    autocomplete_fields = ()
    raw_id_fields = ("organization",)


@admin.register(FinancingTerms)
class FinancingTermsAdmin(TenantModelAdmin):
    """The exchange's service fee on pledge loans (rate, minimum, days to pay): shown to borrowers next to
    every offer before they accept one; an accepted offer keeps the terms shown."""
    view_roles = (Role.ESCROW_OFFICER, Role.FINANCE)
    change_roles = (Role.FINANCE,)
    allow_add = True
    list_display = ("service_fee_bps", "service_fee_min_minor", "service_fee_days", "updated_at")


@admin.register(LoanApplication)
class LoanApplicationAdmin(TenantModelAdmin):
    view_roles = (Role.ESCROW_OFFICER, Role.FINANCE)
    change_roles = ()
    list_display = ("reference", "applicant_org", "amount_minor", "currency", "term_months", "state", "page")
    list_filter = ("state",)
    search_fields = ("reference", "applicant_org__legal_name")
    readonly_fields = [f.name for f in LoanApplication._meta.fields if f.name != "tenant"]

    @admin.display(description="")
    def page(self, obj):
        return format_html('<a class="button" href="{}">{}</a>', obj.get_absolute_url(), "→")


@admin.register(Appraisal)
class AppraisalAdmin(TenantModelAdmin):
    view_roles = (Role.ESCROW_OFFICER, Role.FINANCE)
    change_roles = ()
    list_display = ("reference", "organization", "appraiser", "fee_minor", "currency", "state", "value_minor")
    list_filter = ("state",)
    readonly_fields = [f.name for f in Appraisal._meta.fields if f.name != "tenant"]
