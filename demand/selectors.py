"""Reads of the demand library."""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Membership
from core.permissions import Role, has_role
from listings.models import Listing
from listings.search_text import tsquery

from . import classes as C
from .models import Auction, Match, Want


def user_org_ids(user) -> list[int]:
    if user is None or not user.is_authenticated:
        return []
    return list(Membership.objects.filter(user=user).values_list("organization_id", flat=True))


def open_wants(*, q: str = "", class_filter: str = "", kind: str = ""):
    qs = (Want.objects.filter(state=Want.State.OPEN, deadline__gte=timezone.localdate())
          .select_related("buyer_org").order_by("-created_at", "-id"))
    expr = tsquery(q)
    if expr:
        qs = qs.filter(search_document=SearchQuery(expr, search_type="raw", config="simple"))
    if class_filter:
        try:
            keys = C.keys(C.normalise(class_filter))
        except Exception:  # noqa: BLE001 - a filter typed wrong shows nothing rather than an error page
            keys = ["-"]
        qs = qs.filter(class_keys__overlap=keys)
    if kind:
        qs = qs.filter(Q(kinds__len=0) | Q(kinds__contains=[kind]))
    return qs


def is_buyer_of(user, want) -> bool:
    return want.buyer_org_id in user_org_ids(user)


def holder_listings(user):
    """Published listings of the user's organizations (what they can answer a want with)."""
    orgs = user_org_ids(user)
    return Listing.objects.filter(seller_org_id__in=orgs, state=Listing.State.PUBLISHED).order_by("title")


def matches_for_buyer(want):
    """The want's matches, live ones first (best first), then the withdrawn ones."""
    return (want.matches.select_related("listing", "holder_org")
            .order_by(F("withdrawn_at").asc(nulls_first=True), "-score", "-id"))


def matches_for_holder(user, want):
    return (Match.objects.filter(want=want, holder_org_id__in=user_org_ids(user))
            .order_by(F("withdrawn_at").asc(nulls_first=True), "-score", "-id"))


def is_figures_staff(user) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or has_role(
        user, Role.TENANT_ADMIN, Role.ESCROW_OFFICER, Role.FINANCE, Role.VERIFIER)))


def auctions_running():
    return (Auction.objects.filter(state__in=[Auction.State.OPEN]).select_related("listing")
            .order_by("ends_at", "id"))


def auctions_recent():
    return Auction.objects.exclude(state=Auction.State.OPEN).select_related("listing").order_by("-closed_at", "-id")


def attach_numbers(matches) -> None:
    """For a holder's matches on rights not for sale: the right's number and a link that lists it."""
    from urllib.parse import urlencode

    from rights.models import Holding

    ids = [int(m.record_key.split(":", 1)[1]) for m in matches
           if m.source == Match.Source.PORTFOLIO and m.record_key.startswith("holding:")]
    holdings = {h.pk: h for h in Holding.objects.filter(pk__in=ids).select_related("record")}
    for m in matches:
        m.number, m.list_url = "", ""
        if m.source == Match.Source.PORTFOLIO and m.record_key.startswith("holding:"):
            holding = holdings.get(int(m.record_key.split(":", 1)[1]))
            if holding is not None:
                m.number = f"{holding.record.jurisdiction} {holding.record.number}"
                m.list_url = "/sell/?" + urlencode({"number": holding.record.number})


def open_rights_of(user):
    """The current holdings of the user's active organization, with whether each is open to wants."""
    from accounts.selectors import active_organization
    from rights.models import Holding

    org = active_organization(user) if user is not None and user.is_authenticated else None
    if org is None:
        return None, []
    return org, list(Holding.objects.filter(organization=org, ended_at__isnull=True).select_related("record")
                     .order_by("record__jurisdiction", "record__number"))
