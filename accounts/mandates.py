"""Brokers' mandates (issue 14): proposed by the broker organization, accepted (or declined) by a member
of the principal on the site, revocable by either side. Services own their transaction; the selectors
answer "may this broker act for that principal on this listing today?"."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.errors import InvalidTransition, NotAllowed, ValidationFailed
from core.notifications import notify
from core.permissions import is_member

from .models import Mandate, Membership, Organization

MAX_COMMISSION_BPS = 5000
MAX_TERM_DAYS = 3 * 366


def _members(org):
    """The people told about the organization's mandates: active members only (an API key's service user is
    inactive — the partner hears through webhooks — and so is a person who left)."""
    return [m.user for m in Membership.objects.filter(organization=org, user__is_active=True).select_related("user")]


def _tell(mandate, kind, *, broker, principal, **extra):
    """Tell both sides' members (in-app; e-mail to those with an address; each in their own language,
    rendered by core.notifications) about a step of the mandate: `broker` and `principal` are each
    (subject, body) lazily translated, with the organizations, rate and term as parameters."""
    params = {"broker": mandate.broker_org.legal_name, "principal": mandate.principal_org.legal_name,
              "rate": f"{mandate.commission_bps / 100:g}", "ends_on": mandate.ends_on.isoformat(), **extra}
    for org, (subject, body) in ((mandate.principal_org, principal), (mandate.broker_org, broker)):
        notify(users=_members(org), kind=kind, subject=subject, body=body, params=params, url="/deals/mandates/")


@transaction.atomic(durable=True)
def mandate_propose(*, actor, broker_org: Organization, principal_org: Organization, side: str = Mandate.Side.SELLER,
                    listing_ids=(), all_listings: bool = False, commission_bps: int = 0, may_sign: bool = False,
                    starts_on: datetime.date | None = None, ends_on: datetime.date | None = None) -> Mandate:
    if not is_member(actor, broker_org):
        raise NotAllowed(_("Only members of the broker organization can propose its mandate."))
    errors = {}
    if principal_org.pk == broker_org.pk:
        errors["principal"] = [_("A broker cannot hold a mandate from itself.")]
    if side not in Mandate.Side.values:
        errors["side"] = [_("Choose for whom the broker acts.")]
    if not isinstance(commission_bps, int) or not 0 <= commission_bps <= MAX_COMMISSION_BPS:
        errors["commission"] = [_("The commission is between 0 % and 50 % of the price.")]
    starts_on = starts_on or timezone.localdate()
    ends_on = ends_on or starts_on + datetime.timedelta(days=365)
    if ends_on < starts_on or (ends_on - starts_on).days > MAX_TERM_DAYS:
        errors["ends_on"] = [_("The term ends after it starts and lasts at most three years.")]
    listing_ids = sorted({int(i) for i in listing_ids or ()})
    if not all_listings and not listing_ids:
        errors["listings"] = [_("Name the listings the broker may negotiate, or all of them.")]
    if errors:
        raise ValidationFailed(_("Please correct the mandate."), field_errors=errors)
    mandate = Mandate.objects.create(principal_org=principal_org, broker_org=broker_org, side=side,
                                     all_listings=all_listings, listing_ids=listing_ids, commission_bps=commission_bps,
                                     may_sign=may_sign, starts_on=starts_on, ends_on=ends_on, proposed_by=actor)
    audit_record(actor=actor, action="mandate.propose", obj=mandate, to_state=mandate.state,
                 data={"principal": principal_org.pk, "broker": broker_org.pk, "side": side,
                       "commission_bps": commission_bps, "listings": listing_ids, "all": all_listings})
    _tell(mandate, "mandate.proposed",
          principal=(gettext_lazy("%(broker)s asks for a mandate to act for you"),
                     gettext_lazy("%(broker)s proposes to negotiate for your organization at a commission of "
                                  "%(rate)s %%. Accept or decline it on the mandates page.")),
          broker=(gettext_lazy("Mandate proposed to %(principal)s"),
                  gettext_lazy("%(principal)s is asked to accept your mandate at a commission of %(rate)s %%; "
                               "you will be told when it answers.")))
    return mandate


def _decide(mandate_pk, actor, *, principal_only=True):
    mandate = Mandate.objects.select_for_update(of=("self",)).select_related("principal_org", "broker_org").get(
        pk=mandate_pk)
    allowed = is_member(actor, mandate.principal_org) or (not principal_only and is_member(actor, mandate.broker_org))
    if not allowed:
        raise NotAllowed(_("Only the principal's members can decide on this mandate."))
    before = mandate.state
    return mandate, before


@transaction.atomic(durable=True)
def mandate_accept(*, mandate, actor) -> Mandate:
    """A member of the principal accepts the mandate (recorded like a signature: who, when)."""
    mandate, before = _decide(mandate.pk, actor)
    if mandate.state != Mandate.State.PROPOSED:
        raise InvalidTransition(_("This mandate is no longer awaiting your answer."))
    if mandate.side == Mandate.Side.BUYER and not actor.is_active:
        # the broker's offers are placed in the name of the member who accepted (an API key's service
        # user is no person and cannot be that buyer)
        raise NotAllowed(_("A mandate to buy for your organization is accepted by a member signed in on the "
                           "website: the broker's offers are placed in that person's name."))
    mandate.state, mandate.decided_by, mandate.decided_at = Mandate.State.ACTIVE, actor, timezone.now()
    mandate.save(update_fields=["state", "decided_by", "decided_at"])
    audit_record(actor=actor, action="mandate.accept", obj=mandate, from_state=before, to_state=mandate.state)
    _tell(mandate, "mandate.accepted",
          broker=(gettext_lazy("%(principal)s accepted your mandate"),
                  gettext_lazy("You may now negotiate for %(principal)s within the mandate.")),
          principal=(gettext_lazy("The mandate of %(broker)s is in force"),
                     gettext_lazy("%(broker)s may now negotiate for your organization within the mandate, "
                                  "until %(ends_on)s. Either side can revoke it on the mandates page.")))
    return mandate


@transaction.atomic(durable=True)
def mandate_decline(*, mandate, actor) -> Mandate:
    mandate, before = _decide(mandate.pk, actor)
    if mandate.state != Mandate.State.PROPOSED:
        raise InvalidTransition(_("This mandate is no longer awaiting your answer."))
    mandate.state, mandate.decided_by, mandate.decided_at = Mandate.State.DECLINED, actor, timezone.now()
    mandate.save(update_fields=["state", "decided_by", "decided_at"])
    audit_record(actor=actor, action="mandate.decline", obj=mandate, from_state=before, to_state=mandate.state)
    _tell(mandate, "mandate.declined",
          broker=(gettext_lazy("%(principal)s declined your mandate"),
                  gettext_lazy("You cannot act for %(principal)s under this mandate. You may propose another.")),
          principal=(gettext_lazy("You declined the mandate of %(broker)s"),
                     gettext_lazy("%(broker)s cannot act for your organization under it.")))
    return mandate


@transaction.atomic(durable=True)
def mandate_revoke(*, mandate, actor, reason: str = "") -> Mandate:
    mandate, before = _decide(mandate.pk, actor, principal_only=False)
    if mandate.state not in (Mandate.State.PROPOSED, Mandate.State.ACTIVE):
        raise InvalidTransition(_("This mandate has already ended."))
    mandate.state = Mandate.State.REVOKED
    mandate.save(update_fields=["state"])
    audit_record(actor=actor, action="mandate.revoke", obj=mandate, from_state=before, to_state=mandate.state,
                 reason=reason)
    by = mandate.broker_org if is_member(actor, mandate.broker_org) else mandate.principal_org
    _tell(mandate, "mandate.revoked", by=by.legal_name,
          broker=(gettext_lazy("The mandate from %(principal)s was revoked"),
                  gettext_lazy("%(by)s revoked it: you can no longer act for %(principal)s under it.")),
          principal=(gettext_lazy("The mandate of %(broker)s was revoked"),
                     gettext_lazy("%(by)s revoked it: %(broker)s can no longer act for your organization under it.")))
    return mandate


# --- selectors ------------------------------------------------------------------------------------

def mandates_in_force(*, principal_org: Any = None, broker_org: Any = None, broker_orgs: Any = None,
                      side: str | None = None, today: datetime.date | None = None) -> QuerySet[Mandate]:
    today = today or timezone.localdate()
    qs = Mandate.objects.filter(state=Mandate.State.ACTIVE, starts_on__lte=today, ends_on__gte=today)
    if broker_orgs is not None:
        qs = qs.filter(broker_org__in=list(broker_orgs))
    if principal_org is not None:
        qs = qs.filter(principal_org=principal_org)
    if broker_org is not None:
        qs = qs.filter(broker_org=broker_org)
    if side is not None:
        qs = qs.filter(side=side)
    return qs.select_related("principal_org", "broker_org")


def mandate_for_listing(*, user=None, broker_org=None, principal_org, listing_id, side=Mandate.Side.SELLER):
    """The mandate in force under which `user` (a member of a broker organization) or `broker_org` may act
    for `principal_org` on listing `listing_id`, or None."""
    for mandate in mandates_in_force(principal_org=principal_org, broker_org=broker_org, side=side):
        if not mandate.covers_listing(listing_id):
            continue
        if user is not None and not is_member(user, mandate.broker_org):
            continue
        return mandate
    return None


def mandates_of(org):
    """Every mandate an organization gave or holds, newest first (the mandates page)."""
    from django.db.models import Q

    return Mandate.objects.filter(Q(principal_org=org) | Q(broker_org=org)).select_related(
        "principal_org", "broker_org").order_by("-created_at", "-id")


def mandate_of_org(org, pk):
    """A mandate the organization gave or holds (the partner API), or None: others' mandates do not exist."""
    from django.db.models import Q

    return Mandate.objects.filter(Q(principal_org=org) | Q(broker_org=org), pk=pk).select_related(
        "principal_org", "broker_org").first()


PRINCIPAL_SEARCH_LIMIT = 20


def principal_candidates(*, query: str, exclude_org=None, limit: int = PRINCIPAL_SEARCH_LIMIT):
    """Organizations of the exchange in context whose name (Chinese or English) contains `query` — the
    broker's principal chooser: verified ones first, then by name; at most `limit`; nothing for an empty
    query (a big exchange is never listed whole)."""
    from django.db.models import Case, IntegerField, Q, Value, When

    query = " ".join((query or "").split())[:100]
    if not query:
        return []
    qs = Organization.objects.filter(Q(legal_name__icontains=query) | Q(legal_name_en__icontains=query))
    if exclude_org is not None:
        qs = qs.exclude(pk=exclude_org.pk)
    verified_first = Case(When(verification_status=Organization.Verification.VERIFIED, then=Value(0)),
                          default=Value(1), output_field=IntegerField())
    return list(qs.annotate(_unverified=verified_first).order_by("_unverified", "legal_name", "pk")[:limit])
