from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("profile/", views.profile, name="profile"),
    path("organizations/", views.organizations, name="organizations"),
    path("organizations/new/", views.organization_create, name="organization_create"),
    path("organizations/invitations/<int:pk>/<slug:answer>/", views.invitation_answer, name="invitation_answer"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization"),
    path("organizations/<int:pk>/edit/", views.organization_edit, name="organization_edit"),
    path("organizations/<int:pk>/documents/", views.organization_upload, name="organization_upload"),
    path("organizations/<int:pk>/documents/<int:doc_pk>/", views.organization_document, name="organization_document"),
    path("organizations/<int:pk>/documents/<int:doc_pk>/remove/", views.organization_document_remove,
         name="organization_document_remove"),
    path("organizations/<int:pk>/payout-bank/", views.organization_payout_bank, name="organization_payout_bank"),
    path("organizations/<int:pk>/submit/", views.organization_submit, name="organization_submit"),
    path("organizations/<int:pk>/members/", views.organization_add_member, name="organization_add_member"),
    path("organizations/<int:pk>/default/", views.organization_make_default, name="organization_make_default"),
]
