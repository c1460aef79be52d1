from django.urls import path

from . import views

app_name = "financing"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("rights/<int:pk>/", views.right_detail, name="right"),
    path("apply/", views.apply, name="apply"),
    path("staff/", views.staff_pipeline, name="staff"),
    path("applications/<str:reference>/", views.application_detail, name="application"),
    path("applications/<str:reference>/offer/", views.offer, name="offer"),
    path("applications/<str:reference>/offers/<int:offer_id>/accept/", views.accept, name="accept"),
    path("applications/<str:reference>/sign/", views.sign, name="sign"),
    path("applications/<str:reference>/withdraw/", views.withdraw, name="withdraw"),
    path("applications/<str:reference>/disbursed/", views.disbursed, name="disbursed"),
    path("applications/<str:reference>/repaid/", views.repaid, name="repaid"),
    path("applications/<str:reference>/service-fee/pay/", views.service_fee_pay, name="service_fee_pay"),
    path("applications/<str:reference>/service-fee/record/", views.service_fee_record, name="service_fee_record"),
    path("applications/<str:reference>/file-pledge/", views.file_pledge, name="file_pledge"),
    path("applications/<str:reference>/file-release/", views.file_release, name="file_release"),
    path("applications/<str:reference>/record-reference/", views.record_reference, name="record_reference"),
    path("applications/<str:reference>/record-notice/", views.record_notice, name="record_notice"),
    path("applications/<str:reference>/contract.pdf", views.contract_pdf, name="contract"),
    path("applications/<str:reference>/release.pdf", views.contract_pdf, {"kind": "release"}, name="release"),
    path("appraisals/new/", views.appraisal_new, name="appraisal_new"),
    path("appraisals/<str:reference>/", views.appraisal_detail, name="appraisal"),
    path("appraisals/<str:reference>/pay/", views.appraisal_pay, name="appraisal_pay"),
    path("appraisals/<str:reference>/settle/", views.appraisal_settle, name="appraisal_settle"),
    path("appraisals/<str:reference>/evidence/<int:evidence_id>/", views.appraisal_evidence,
         name="appraisal_evidence"),
    path("appraisals/<str:reference>/report.pdf", views.appraisal_report, name="appraisal_report"),
]
