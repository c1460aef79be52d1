"""Reads of negotiated deals that are more than a `get`."""

from __future__ import annotations

from django.db.models import Q

from accounts.mandates import mandates_in_force
from accounts.selectors import user_organizations

from .models import Licence, Offer, Question


def broker_principals(user):
    """Seller organizations `user` may act for as a broker (mandates in force), with the mandates."""
    orgs = list(user_organizations(user)) if user.is_authenticated else []
    return list(mandates_in_force(broker_orgs=orgs)) if orgs else []


def offers_for_user(user):
    """Offers where one of the user's organizations is the buyer or the seller, or brokers for the seller."""
    if not user.is_authenticated:
        return Offer.objects.none()
    orgs = list(user_organizations(user))
    mandates = broker_principals(user)
    q = Q(buyer_org__in=orgs) | Q(seller_org__in=orgs)
    for m in mandates:
        q |= Q(seller_org=m.principal_org) if m.all_listings else Q(seller_org=m.principal_org,
                                                                      listing_id__in=m.listing_ids)
    return Offer.objects.filter(q).select_related("listing", "buyer_org", "seller_org", "order",
                                                  "seller_mandate__broker_org")


def offer_for_user(user, pk):
    return offers_for_user(user).filter(pk=pk).first()


def public_questions(listing):
    return Question.objects.filter(listing=listing, visibility=Question.Visibility.PUBLIC).order_by("-answered_at")


def questions_for(listing, *, org=None, seller_side=False):
    if seller_side:
        return Question.objects.filter(listing=listing).select_related("asker_org").order_by("-asked_at")
    if org is None:
        return Question.objects.none()
    return Question.objects.filter(listing=listing, asker_org=org).order_by("-asked_at")


def licences_of_listing(listing):
    return Licence.objects.filter(listing=listing).select_related("licensee_org", "order").order_by("-created_at")
