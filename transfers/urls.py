from django.urls import path

from . import views

app_name = "transfers"
urlpatterns = [
    path("papers/<int:pk>/", views.paper, name="paper"),
    path("papers/<int:pk>/pdf/", views.pdf, name="pdf"),
    path("papers/<int:pk>/page-<int:page>.png", views.page_image, name="page_image"),
    path("orders/<int:pk>/sign-all/", views.sign_all, name="sign_all"),
    path("papers/<int:pk>/signed.pdf", views.signed_pdf, name="signed_pdf"),
    path("orders/<int:pk>/export-certificate/", views.export_upload, name="export_upload"),
    path("orders/<int:pk>/export-certificate/file/", views.export_certificate, name="export_certificate"),
    path("orders/<int:pk>/file/", views.file_transfer, name="file"),
    path("orders/<int:pk>/file-back/", views.file_back, name="file_back"),
    path("orders/<int:pk>/papers/retry/", views.papers_retry, name="papers_retry"),
    path("staff/", views.staff_queue, name="staff_queue"),
    path("staff/<int:pk>/", views.staff_filing, name="staff_filing"),
    path("staff/<int:pk>/package.zip", views.package, name="package"),
    path("staff/<int:pk>/reference/", views.record_reference, name="record_reference"),
]
