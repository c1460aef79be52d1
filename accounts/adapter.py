from types import SimpleNamespace

from allauth.account.adapter import DefaultAccountAdapter
from django.utils import translation

from core.permissions import user_roles
from core.tenancy import get_current_tenant

from .models import Role


def _site():
    """What allauth calls the 'site' in its emails: the exchange of the request, not a django.contrib.sites row."""
    from allauth.core import context

    tenant = get_current_tenant()
    request = getattr(context, "request", None)
    domain = request.get_host() if request is not None else (tenant.primary_host if tenant else "")
    return SimpleNamespace(name=tenant.display_name() if tenant else domain, domain=domain)


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        user.language = translation.get_language() or ""
        if commit:
            user.save()
            if get_current_tenant() is not None:
                from .services import user_grant_role

                user_grant_role(user=user, role=Role.BUYER, actor=user)
        return user

    def login(self, request, user):
        super().login(request, user)
        # A person who signed up on another exchange and logs in here becomes a buyer here too.
        if get_current_tenant() is not None and user.is_active and not user.is_superuser:
            from .services import user_grant_role

            if not user_roles(user):
                user_grant_role(user=user, role=Role.BUYER, actor=user)

    def format_email_subject(self, subject):
        return f"[{_site().name}] {subject}"

    def send_mail(self, template_prefix, email, context):
        context = {"current_site": _site(), "tenant": get_current_tenant(), **context}
        user = context.get("user")
        language = getattr(user, "language", "") or translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, context)

    def is_open_for_signup(self, request):
        return getattr(request, "tenant", None) is not None
