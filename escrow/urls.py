from django.urls import path

from . import views

app_name = "escrow"
urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("new/<int:listing_id>/", views.order_new, name="order_new"),
    path("<str:reference>/", views.order_detail, name="order_detail"),
]
