from django.urls import path

from . import views

app_name = "demand"
urlpatterns = [
    path("wants/", views.want_list, name="want_list"),
    path("wants/new/", views.want_new, name="want_new"),
    path("wants/open-rights/", views.open_rights, name="open_rights"),
    path("wants/<int:pk>/", views.want_detail, name="want_detail"),
    path("wants/<int:pk>/answer/", views.want_answer, name="want_answer"),
    path("wants/<int:pk>/tender/", views.want_tender, name="want_tender"),
    path("wants/<int:pk>/tender/offer/", views.tender_offer, name="tender_offer"),
    path("wants/<int:pk>/tender/award/<int:offer_id>/", views.tender_award, name="tender_award"),
    path("wants/<int:pk>/close/", views.want_close, name="want_close"),
    path("auctions/", views.auction_list, name="auction_list"),
    path("auctions/new/<int:listing_id>/", views.auction_new, name="auction_new"),
    path("auctions/<int:pk>/", views.auction_detail, name="auction_detail"),
    path("auctions/<int:pk>/live/", views.auction_live, name="auction_live"),
    path("auctions/<int:pk>/deposit/", views.auction_deposit, name="auction_deposit"),
    path("auctions/<int:pk>/bid/", views.auction_bid, name="auction_bid"),
    path("auctions/<int:pk>/decide/", views.auction_decide, name="auction_decide"),
    path("auctions/<int:pk>/counter-offer/", views.auction_counter_offer, name="auction_counter_offer"),
    path("auctions/<int:pk>/counter-offer/answer/", views.auction_counter_answer, name="auction_counter_answer"),
    path("exchange/figures/", views.figures, name="figures"),
    path("exchange/figures.<str:fmt>", views.figures_export, name="figures_export"),
]
