from django.urls import path

from . import views

app_name = "escrow"
urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("new/<int:listing_id>/", views.order_new, name="order_new"),
    path("webhooks/<slug:provider>/", views.webhook, name="webhook"),
    path("connect/stripe/<int:org_pk>/", views.stripe_connect, name="stripe_connect"),
    path("margin/<int:listing_id>/pay/", views.margin_pay, name="margin_pay"),
    path("<str:reference>/", views.order_detail, name="order_detail"),
    path("<str:reference>/pay/", views.order_pay, name="order_pay"),
    path("<str:reference>/pay/simulated/", views.pay_simulated, name="pay_simulated"),
    path("<str:reference>/pay/bank/", views.pay_bank, name="pay_bank"),
    path("<str:reference>/statement.<slug:fmt>", views.order_statement, name="order_statement"),
    path("<str:reference>/confirm-release/", views.order_confirm_release, name="order_confirm_release"),
    path("<str:reference>/act/<slug:action>/", views.order_act, name="order_act"),
]
