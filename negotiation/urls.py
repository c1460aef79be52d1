from django.urls import path

from . import views

app_name = "negotiation"

urlpatterns = [
    path("", views.offer_list, name="offers"),
    path("listings/<int:pk>/", views.listing_deal, name="listing"),
    path("listings/<int:pk>/offer/", views.offer_new, name="offer_new"),
    path("listings/<int:pk>/price/", views.price_change, name="price_change"),
    path("listings/<int:pk>/ask/", views.question_new, name="question_new"),
    path("questions/<int:pk>/answer/", views.question_answer_view, name="question_answer"),
    path("listings/<int:pk>/dataroom/upload/", views.dataroom_upload_view, name="dataroom_upload"),
    path("listings/<int:pk>/dataroom/nda/", views.nda_accept_view, name="nda_accept"),
    path("dataroom/<int:pk>/", views.dataroom_document, name="dataroom_document"),
    path("listings/<int:pk>/conversation/", views.conversation_start, name="conversation_start"),
    path("conversations/<int:pk>/", views.conversation_detail, name="conversation"),
    path("messages/<int:pk>/attachment/", views.message_attachment, name="message_attachment"),
    path("offers/<int:pk>/", views.offer_detail, name="offer"),
    path("offers/<int:pk>/<str:action>/", views.offer_action, name="offer_action"),
    path("licences/<int:pk>/", views.licence_detail, name="licence"),
    path("royalties/<int:pk>/report/", views.royalty_report_view, name="royalty_report"),
    path("royalties/<int:pk>/pay/", views.royalty_pay_view, name="royalty_pay"),
    path("mandates/", views.mandate_list, name="mandates"),
    path("mandates/principals/", views.mandate_principals, name="mandate_principals"),
    path("mandates/<int:pk>/<str:action>/", views.mandate_action, name="mandate_action"),
]
