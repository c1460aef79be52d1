from django.urls import path

from . import views

app_name = "listings"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("listings/<int:pk>/", views.detail, name="detail"),
    path("listings/<int:pk>/watch/", views.watch_toggle, name="watch"),
    path("watchlist/", views.watchlist, name="watchlist"),
    path("marks/<str:jurisdiction>/<str:number>.svg", views.mark_image, name="mark_image"),
    path("sell/", views.sell_new, name="sell"),
    path("sell/lookup/", views.sell_lookup, name="sell_lookup"),
    path("sell/by-hand/", views.sell_by_hand, name="sell_by_hand"),
    path("sell/listings/", views.sell_mine, name="sell_mine"),
    path("sell/listings/<int:pk>/", views.sell_listing, name="sell_listing"),
    path("sell/listings/<int:pk>/edit/", views.sell_edit, name="sell_edit"),
    path("sell/listings/<int:pk>/submit/", views.sell_submit, name="sell_submit"),
    path("sell/listings/<int:pk>/rights/<int:right_pk>/route/", views.sell_filing_route, name="sell_filing_route"),
    path("sell/listings/<int:pk>/withdraw/", views.sell_withdraw, name="sell_withdraw"),
]
