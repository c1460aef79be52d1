from allauth.account.adapter import DefaultAccountAdapter
from django.utils import translation

from marketplace.tenancy import get_current_tenant

from .models import Role


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
