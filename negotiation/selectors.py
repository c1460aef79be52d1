"""Reads of negotiated deals that are more than a `get`."""

from __future__ import annotations

from django.db.models import Q

from accounts.mandates import mandates_in_force
from accounts.selectors import user_organizations

from .models import Conversation, DataRoomDocument, Licence, Offer, Question


def broker_principals(user):
    """Seller organizations `user` may act for as a broker (mandates in force), with the mandates."""
    orgs = list(user_organizations(user)) if user.is_authenticated else []
    return list(mandates_in_force(broker_orgs=orgs)) if orgs else []


def offers_for_user(user):
    """Offers where one of the user's organizations is the buyer or the seller, brokers for the seller, or
    made them as the buyer's broker."""
    if not user.is_authenticated:
        return Offer.objects.none()
    orgs = list(user_organizations(user))
    mandates = broker_principals(user)
    q = Q(buyer_org__in=orgs) | Q(seller_org__in=orgs)
    for m in mandates:
        if m.side == "buyer":  # a buyer's broker sees the offers it made under the mandate
            q |= Q(buyer_org=m.principal_org, buyer_mandate__broker_org__in=orgs)
            continue
        q |= Q(seller_org=m.principal_org) if m.all_listings else Q(seller_org=m.principal_org,
                                                                      listing_id__in=m.listing_ids)
    return Offer.objects.filter(q).select_related("listing", "buyer_org", "seller_org", "order",
                                                  "seller_mandate__broker_org", "buyer_mandate__broker_org")


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


def _seller_side_q(user, prefix=""):
    """Q over rows whose listing the user sells: its organizations' listings, or a principal's listings
    under a seller-side mandate in force."""
    orgs = list(user_organizations(user))
    q = Q(**{f"{prefix}seller_org__in": orgs})
    for m in broker_principals(user):
        if m.side != "seller":
            continue
        q |= Q(**{f"{prefix}seller_org": m.principal_org}) if m.all_listings else Q(
            **{f"{prefix}seller_org": m.principal_org, f"{prefix}pk__in": m.listing_ids})
    return q


def conversations_for_user(user):
    """Private conversations the user takes part in: as a member of the buyer organization, or on the
    seller's side (a member, or its broker under a mandate in force for the listing)."""
    if not user.is_authenticated:
        return Conversation.objects.none()
    orgs = list(user_organizations(user))
    return (Conversation.objects.filter(Q(buyer_org__in=orgs) | _seller_side_q(user, "listing__"))
            .select_related("listing__seller_org", "buyer_org"))


def questions_visible(listing, *, user, seller_side: bool):
    """The questions of a listing `user` may read: all of them on the seller's side; otherwise the public
    answers and their own organizations' questions."""
    if seller_side:
        return Question.objects.filter(listing=listing).select_related("asker_org")
    q = Q(visibility=Question.Visibility.PUBLIC)
    if user is not None and user.is_authenticated:
        q |= Q(asker_org__in=list(user_organizations(user)))
    return Question.objects.filter(q, listing=listing).select_related("asker_org")


def dataroom_documents(listing):
    return DataRoomDocument.objects.filter(listing=listing).order_by("title", "id")
