from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .selectors import active_organization, seller_blockers, user_organizations, user_roles


@login_required
def dashboard(request):
    return render(request, "accounts/dashboard.html", {
        "organizations": user_organizations(request.user),
        "active_org": active_organization(request.user),
        "roles": user_roles(request.user),
        "seller_blockers": seller_blockers(request.user),
    })
