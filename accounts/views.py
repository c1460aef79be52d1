from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.context_processors import site
from core.errors import DomainError, ValidationFailed
from core.permissions import user_roles
from core.storage import private_file_response

from . import services
from .forms import DocumentForm, MemberForm, OrganizationForm, PayoutBankForm, ProfileForm
from .models import Membership, Organization, OrganizationDocument, OrganizationInvitation, Role, User
from .selectors import active_organization, seller_blockers

STAFF_ROLE_ORDER = [Role.BUYER, Role.SELLER, Role.VERIFIER, Role.ESCROW_OFFICER, Role.FINANCE, Role.TENANT_ADMIN]


def _site_languages(request):
    return site(request)["site_languages"]


@login_required
def dashboard(request):
    roles = user_roles(request.user)
    memberships = (Membership.objects.filter(user=request.user).select_related("organization")
                   .order_by("-is_default", "organization__legal_name"))
    return render(request, "accounts/dashboard.html", {
        "memberships": memberships,
        "active_org": active_organization(request.user),
        "roles": [(r, r.label) for r in STAFF_ROLE_ORDER if r in roles],
        "is_staff_here": request.user.is_superuser or bool(roles - {Role.BUYER, Role.SELLER}),
        "seller_blockers": seller_blockers(request.user),
    })


@login_required
def profile(request):
    # The form edits a copy: the service compares with the stored values and saves what changed.
    form = ProfileForm(request.POST or None, instance=User.objects.get(pk=request.user.pk),
                       languages=_site_languages(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_profile(user=request.user, **{f: form.cleaned_data[f] for f in form.Meta.fields})
        except ValidationFailed as exc:
            for field, errors in (exc.field_errors or {}).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            messages.error(request, str(exc))
            return render(request, "accounts/profile.html", {"form": form}, status=400)
        response = redirect("accounts:profile")
        language = form.cleaned_data["language"]
        if language:
            translation.activate(language)
            from django.conf import settings

            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                                samesite="Lax")
        messages.success(request, _("Your profile is saved."))
        return response
    return render(request, "accounts/profile.html", {"form": form})


def _my_org(request, pk, *, manage=False):
    membership = (Membership.objects.filter(user=request.user, organization_id=pk)
                  .select_related("organization").first())
    if membership is None:
        raise Http404
    if manage and not membership.is_admin:
        raise PermissionDenied
    return membership.organization, membership


@login_required
def organizations(request):
    memberships = (Membership.objects.filter(user=request.user).select_related("organization")
                   .order_by("-is_default", "organization__legal_name"))
    invitations = (OrganizationInvitation.objects.filter(user=request.user, answered_at__isnull=True)
                   .select_related("organization", "invited_by").order_by("created_at"))
    return render(request, "accounts/organizations.html", {"memberships": memberships, "invitations": invitations})


@login_required
@require_POST
def invitation_answer(request, pk, answer):
    invitation = OrganizationInvitation.objects.filter(pk=pk, user=request.user).first()
    if invitation is None or answer not in ("accept", "decline"):
        raise Http404
    try:
        services.invitation_answer(invitation=invitation, user=request.user, accept=answer == "accept")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if answer == "accept":
            messages.success(request, _("You are now a member of %(org)s. You act for %(active)s: switch below "
                                        "whenever you buy or sell for another organization.")
                             % {"org": invitation.organization.legal_name,
                                "active": active_organization(request.user)})
        else:
            messages.info(request, _("Invitation declined."))
    return redirect("accounts:organizations")


@login_required
def organization_create(request):
    form = OrganizationForm(request.POST or None, initial={"country": request.tenant.country,
                                                           "contact_email": request.user.email})
    if request.method == "POST" and form.is_valid():
        org = services.organization_create(user=request.user, **form.cleaned_data)
        messages.success(request, _("%(org)s is registered. Now upload its documents and submit it for verification.")
                         % {"org": org.legal_name})
        return redirect("accounts:organization", pk=org.pk)
    return render(request, "accounts/organization_form.html", {"form": form, "creating": True})


def _detail_context(request, org, membership, **forms_given):
    return {
        "org": org, "membership": membership,
        "documents": org.documents.order_by("-uploaded_at"),
        "members": org.memberships.select_related("user").order_by("joined_at"),
        "doc_form": forms_given.get("doc_form") or DocumentForm(),
        "member_form": MemberForm(),
        "payout_form": forms_given.get("payout_form") or PayoutBankForm(initial={
            "bank_name": org.payout_bank_name, "account_name": org.payout_account_name or org.legal_name,
            "account_number": org.payout_bank_account, "swift": org.payout_swift, "cnaps": org.payout_cnaps}),
        "blockers": seller_blockers(request.user, org),
        "can_edit": membership.is_admin and org.verification_status != Organization.Verification.PENDING,
    }


@login_required
def organization_detail(request, pk):
    org, membership = _my_org(request, pk)
    return render(request, "accounts/organization_detail.html", _detail_context(request, org, membership))


@login_required
@require_POST
def organization_payout_bank(request, pk):
    org, membership = _my_org(request, pk, manage=True)
    form = PayoutBankForm(request.POST)
    if form.is_valid():
        try:
            services.organization_set_payout_bank(organization=org, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            for field, problems in (exc.field_errors or {}).items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, str(problem))
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Payout details saved. Payouts wait until the exchange's finance team "
                                        "has verified them; every member was told."))
            return redirect("accounts:organization", pk=org.pk)
    else:
        messages.error(request, _("The payout details were not saved: check the fields."))
    # what was typed stays, with each problem at its field
    return render(request, "accounts/organization_detail.html",
                  _detail_context(request, org, membership, payout_form=form), status=400)


@login_required
def organization_edit(request, pk):
    org, _membership = _my_org(request, pk, manage=True)
    form = OrganizationForm(request.POST or None, instance=Organization.objects.get(pk=org.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.organization_update(organization=org, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The details are saved."))
            return redirect("accounts:organization", pk=org.pk)
    return render(request, "accounts/organization_form.html", {"form": form, "org": org, "creating": False})


@login_required
@require_POST
def organization_upload(request, pk):
    org, _membership = _my_org(request, pk, manage=True)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.organization_add_document(organization=org, actor=request.user, kind=form.cleaned_data["kind"],
                                               file=form.cleaned_data["file"], content_type=form.content_type)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The document is uploaded."))
            return redirect("accounts:organization", pk=org.pk)
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return render(request, "accounts/organization_detail.html",
                  {**_detail_context(request, org, _membership, doc_form=form), "can_edit": True}, status=400)


@login_required
@require_POST
def organization_document_remove(request, pk, doc_pk):
    org, _membership = _my_org(request, pk, manage=True)
    document = get_object_or_404(OrganizationDocument.objects.filter(organization=org), pk=doc_pk)
    try:
        services.organization_remove_document(document=document, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The document is removed."))
    return redirect("accounts:organization", pk=org.pk)


@login_required
def organization_document(request, pk, doc_pk):
    """Members (and the exchange's staff through the admin) open a document; nobody else."""
    org, _membership = _my_org(request, pk)
    document = get_object_or_404(OrganizationDocument.objects.filter(organization=org), pk=doc_pk)
    try:
        return private_file_response(document.file, content_type=document.content_type)
    except FileNotFoundError:
        raise Http404 from None


@login_required
@require_POST
def organization_submit(request, pk):
    org, _membership = _my_org(request, pk, manage=True)
    try:
        services.organization_submit(organization=org, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(org)s is submitted. The exchange's staff will verify it, usually within one "
                                    "working day.") % {"org": org.legal_name})
    return redirect("accounts:organization", pk=org.pk)


@login_required
@require_POST
def organization_make_default(request, pk):
    org, _membership = _my_org(request, pk)
    services.membership_set_default(user=request.user, organization=org)
    messages.success(request, _("You now act for %(org)s.") % {"org": org.legal_name})
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("accounts:organizations")



@login_required
@require_POST
def organization_add_member(request, pk):
    org, _membership = _my_org(request, pk, manage=True)
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            services.organization_add_member(organization=org, actor=request.user, email=form.cleaned_data["email"],
                                             is_admin=form.cleaned_data["is_admin"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(email)s is invited; they become a member when they accept.")
                             % {"email": form.cleaned_data["email"]})
    else:
        messages.error(request, _("Enter a valid email address."))
    return redirect("accounts:organization", pk=org.pk)
