"""Every write of the demand library: wants, matches, answers and tenders. Auctions are in
demand/auctions.py. Durable services own their transaction; matching a new listing runs in a task
(`demand.tasks.match_listing`) queued when listings announce `listing.published`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchVector
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.selectors import active_organization
from core.audit import audit_record
from core.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from core.events import ask, emit
from core.money import format_money
from core.notifications import notify
from core.permissions import is_member
from core.tenancy import require_tenant
from listings.models import Listing
from listings.search import class_token
from listings.search_text import document_text
from rights.models import Jurisdiction, RightKind

from . import classes as C
from .matching import explain, listing_candidates, want_candidates
from .models import Answer, DealWanted, Match, Tender, TenderOffer, Want, WithdrawReason

MAX_BUDGET_MINOR = 10**15


def members(org_id) -> list:
    return list(User.objects.filter(memberships__organization_id=org_id, is_active=True).distinct())


def notify_each(users, *, kind, subject, body, params_for, url):
    """Notify each user with params rendered in their own language (explanations are translated)."""
    tenant = require_tenant()
    for user in users:
        with translation.override(getattr(user, "language", "") or tenant.default_language):
            params = params_for()
        notify(users=[user], kind=kind, subject=subject, body=body, params=params, url=url)


@dataclass
class WantInput:
    title: str
    keywords: str = ""
    description: str = ""
    classes: str = ""
    kinds: list[str] = field(default_factory=list)
    territories: list[str] = field(default_factory=list)
    deal_type: str = DealWanted.ANY
    budget_min_minor: int | None = None
    budget_max_minor: int | None = None
    deadline: datetime.date | None = None
    anonymous: bool = False

    def cleaned(self) -> dict:
        errors: dict[str, list[str]] = {}
        title = (self.title or "").strip()
        if not title:
            errors["title"] = [_("Say in a few words what you need.")]
        if len(title) > 200:
            errors["title"] = [_("Keep the title under 200 characters.")]
        try:
            classes = C.normalise(self.classes)
        except ValidationFailed as exc:
            errors["classes"] = exc.field_errors.get("classes", [exc.message])
            classes = []
        if not classes and not (self.keywords or "").strip() and title:
            errors["keywords"] = [_("Give keywords or classes, so holders can find your want.")]
        bad_kinds = [k for k in self.kinds if k not in RightKind.values]
        if bad_kinds:
            errors["kinds"] = [_("Unknown kind of right: %(k)s") % {"k": ", ".join(bad_kinds)}]
        bad_terr = [t for t in self.territories if t not in Jurisdiction.values]
        if bad_terr:
            errors["territories"] = [_("Unknown territory: %(t)s") % {"t": ", ".join(bad_terr)}]
        if self.deal_type not in DealWanted.values:
            errors["deal_type"] = [_("Choose assignment, licence, or either.")]
        low, high = self.budget_min_minor, self.budget_max_minor
        for name, value in (("budget_min_minor", low), ("budget_max_minor", high)):
            if value is not None and not (0 <= value <= MAX_BUDGET_MINOR):
                errors[name] = [_("Enter an amount between 0 and 10,000,000,000,000.")]
        if low is not None and high is not None and low > high:
            errors["budget_max_minor"] = [_("The upper end of the budget is below the lower end.")]
        today = timezone.localdate()
        if self.deadline is None:
            errors["deadline"] = [_("Until when do you need it?")]
        elif self.deadline < today:
            errors["deadline"] = [_("The deadline is in the past.")]
        elif self.deadline > today + datetime.timedelta(days=730):
            errors["deadline"] = [_("A want stays open at most two years.")]
        if errors:
            first = next(iter(errors.values()))[0]
            raise ValidationFailed(first if len(errors) == 1 else _("Please correct the marked fields."),
                                   field_errors=errors)
        return {"title": title, "keywords": (self.keywords or "").strip()[:500],
                "description": (self.description or "").strip()[:5000], "classes": classes,
                "class_keys": C.keys(classes), "kinds": sorted(set(self.kinds)),
                "territories": sorted(set(self.territories)), "deal_type": self.deal_type,
                "budget_min_minor": low, "budget_max_minor": high, "deadline": self.deadline,
                "anonymous": bool(self.anonymous)}


def _refresh_document(want: Want) -> None:
    """Title and keywords (A), description (C), and each class key as a lexeme (D), as listings do, so a
    new listing finds the wants sharing a class and a word with one GIN look-up."""
    Want.objects.filter(pk=want.pk).update(search_document=(
        SearchVector(Value(document_text(want.title, want.keywords)), config="simple", weight="A")
        + SearchVector(Value(document_text(want.description)), config="simple", weight="C")
        + SearchVector(Value(" ".join(class_token(k) for k in want.class_keys)), config="simple", weight="D")))


@transaction.atomic(durable=True)
def want_create(*, actor, data: WantInput, organization=None) -> Want:
    """A buyer organization posts a want; it is matched at once against published listings (and the
    other sources), the matches stored, and both sides told."""
    tenant = require_tenant()
    if actor is None or not actor.is_authenticated:
        raise NotAllowed(_("Log in to post a want."))
    org = organization or active_organization(actor)
    if org is None or not is_member(actor, org):
        raise NotAllowed(_("Join or register an organization in your account before posting a want."))
    fields = data.cleaned()
    want = Want.objects.create(tenant=tenant, buyer_org=org, created_by=actor, currency=tenant.currency, **fields)
    _refresh_document(want)
    audit_record(actor=actor, action="want.create", obj=want, to_state=want.state,
                 data={"classes": want.classes, "kinds": want.kinds, "anonymous": want.anonymous})
    emit("want.posted", organizations=[org], data={"want": want.pk})
    match_want(want)
    return want


def _store(want, cand) -> Match | None:
    """Store a new match; None when the pair was matched before. A pair withdrawn earlier (the listing left
    the market and is published again, the right was closed to wants and opened again) is live again and
    counts as new."""
    try:
        with transaction.atomic():
            return Match.objects.create(tenant=want.tenant, want=want, source=cand.source, listing_id=cand.listing_id,
                                        record_key=cand.record_key, holder_org_id=cand.holder_org_id,
                                        title=cand.title[:300], score=cand.score, reasons=cand.reasons)
    except IntegrityError:
        same = ({"listing_id": cand.listing_id} if cand.source == Match.Source.LISTING
                else {"record_key": cand.record_key})
        again = (Match.objects.select_for_update(of=("self",))
                 .filter(want=want, source=cand.source, withdrawn_at__isnull=False, **same).first())
        if again is None:
            return None  # matched before, still live
        again.withdrawn_at, again.withdrawn_reason = None, ""
        again.score, again.reasons, again.title = cand.score, cand.reasons, cand.title[:300]
        again.save(update_fields=["withdrawn_at", "withdrawn_reason", "score", "reasons", "title"])
        return again


def buyer_title(match) -> str:
    """What the buyer is shown of a match: a right that is not for sale stays unnamed (its number would
    name its holder) until the holder answers."""
    if match.source == Match.Source.PORTFOLIO:
        return _("A right held but not for sale (its holder is told; you see it when they answer)")
    return match.title


def _tell_holder(want, match):
    url = want.get_absolute_url()
    if match.source == Match.Source.PORTFOLIO:
        notify_each(members(match.holder_org_id), kind="demand.match", url=url,
                    subject=gettext_lazy("A buyer is looking for something like your right “%(title)s”"),
                    body=gettext_lazy("%(buyer)s posted “%(want)s” (until %(deadline)s). Why it matches: %(why)s. "
                                      "The right is not for sale; the buyer does not know who holds it until you "
                                      "answer. List it and offer it on the want's page, or let it be."),
                    params_for=lambda: {"title": match.title, "buyer": str(want.shown_buyer), "want": want.title,
                                        "deadline": want.deadline.isoformat(), "why": explain(match.reasons)})
        return
    notify_each(members(match.holder_org_id), kind="demand.match", url=url,
                subject=gettext_lazy("A buyer is looking for something like “%(title)s”"),
                body=gettext_lazy("%(buyer)s posted “%(want)s” (until %(deadline)s). Why it matches: %(why)s. "
                                  "Answer with an offer on the want's page."),
                params_for=lambda: {"title": match.title, "buyer": str(want.shown_buyer), "want": want.title,
                                    "deadline": want.deadline.isoformat(), "why": explain(match.reasons)})


def match_want(want) -> list[Match]:
    """Inside the caller's transaction: store the ranked matches of `want` and notify both sides."""
    created = [m for m in (_store(want, c) for c in want_candidates(want)) if m is not None]
    if not created:
        return []
    best = created[0]
    notify_each(members(want.buyer_org_id), kind="demand.matches", url=want.get_absolute_url(),
                subject=gettext_lazy("%(n)s matches for your want “%(want)s”"),
                body=gettext_lazy("Best: “%(title)s” (%(why)s)."),
                params_for=lambda: {"n": len(created), "want": want.title, "title": buyer_title(best),
                                    "why": explain(best.reasons)})
    told = set()
    for match in created:  # each holder once per kind of match (a listing; a right not for sale)
        if (match.holder_org_id, match.source) not in told:
            told.add((match.holder_org_id, match.source))
            _tell_holder(want, match)
    emit("demand.match_found", organizations=[want.buyer_org], data={"want": want.pk, "matches": len(created)})
    return created


@transaction.atomic(durable=True)
def match_listing(*, listing_id: int) -> list[Match]:
    """A listing was published: match it against open wants, store and notify (task body; safe to run
    twice: a pair is stored once)."""
    listing = Listing.objects.filter(pk=listing_id, state=Listing.State.PUBLISHED).first()
    if listing is None:
        return []
    created = []
    for want, cand in listing_candidates(listing):
        match = _store(want, cand)
        if match is None:
            continue
        created.append(match)
        notify_each(members(want.buyer_org_id), kind="demand.match", url=want.get_absolute_url(),
                    subject=gettext_lazy("New match for your want “%(want)s”"),
                    body=gettext_lazy("“%(title)s” was just published: %(why)s."),
                    params_for=lambda m=match, w=want: {"want": w.title, "title": m.title, "why": explain(m.reasons)})
    if created:
        best = max(created, key=lambda m: m.score)
        want = best.want
        _tell_holder(want, best) if len(created) == 1 else notify_each(
            members(listing.seller_org_id), kind="demand.match", url=f"/wants/?listing={listing.pk}",
            subject=gettext_lazy("%(n)s buyers are looking for something like “%(title)s”"),
            body=gettext_lazy("Best: “%(want)s” (%(why)s). Answer them on the wants' pages."),
            params_for=lambda: {"n": len(created), "title": listing.title, "want": want.title,
                                "why": explain(best.reasons)})
    return created


@transaction.atomic(durable=True)
def match_open_rights(*, holding_ids: list[int]) -> list[Match]:
    """A holder just opened rights to wants: match each (unless it is in a live listing, then the listing
    is what matches) against the open wants, store, and tell the holder once per right and each buyer
    (without naming the right or its holder). Safe to run twice."""
    from listings.models import Right
    from rights.wants import open_rights_by_id

    from .matching import LIVE_LISTING_STATES, open_right_candidates

    tenant = require_tenant()
    rights = open_rights_by_id(holding_ids)
    listed = set(Right.objects.filter(register_record_id__in=[r.record_id for r in rights],
                                      listing__state__in=LIVE_LISTING_STATES).values_list("register_record_id", flat=True))
    created: list[Match] = []
    for right in rights:
        if right.record_id in listed:
            continue
        mine = []
        for want, cand in open_right_candidates(right, tenant_id=tenant.pk):
            match = _store(want, cand)
            if match is None:
                continue
            mine.append(match)
            notify_each(members(want.buyer_org_id), kind="demand.match", url=want.get_absolute_url(),
                        subject=gettext_lazy("New match for your want “%(want)s”"),
                        body=gettext_lazy("A right its holder does not sell matches it: %(why)s. The holder is told; "
                                          "you see who they are when they answer."),
                        params_for=lambda m=match, w=want: {"want": w.title, "why": explain(m.reasons)})
        if mine:
            best = max(mine, key=lambda m: m.score)
            _tell_holder(best.want, best)
        created += mine
    return created


def matches_withdraw(*, reason: str, listing_id: int | None = None, holding_ids: list[int] | None = None,
                     actor=None) -> list[Match]:
    """NON-durable: called inside the transaction of whatever took the listing off the market (withdrawn,
    sold, lapsed) or the right out of the wants (closed by its holder, transferred, lapsed) — demand hears
    of it through core.events. The live matches of that listing / those holdings are withdrawn (kept, so
    both sides still see them, marked), audited per want, and each side is told once; a withdrawn match is
    never notified again (the sources no longer offer it). Returns the matches withdrawn."""
    if reason not in WithdrawReason.values:
        raise ValueError(reason)
    qs = Match.objects.select_for_update(of=("self",)).filter(withdrawn_at__isnull=True)
    if listing_id is not None:
        qs = qs.filter(source=Match.Source.LISTING, listing_id=listing_id)
    elif holding_ids:
        qs = qs.filter(source=Match.Source.PORTFOLIO, record_key__in=[f"holding:{int(i)}" for i in holding_ids])
    else:
        return []
    matches = list(qs.select_related("want").order_by("pk"))
    if not matches:
        return []
    Match.objects.filter(pk__in=[m.pk for m in matches]).update(withdrawn_at=timezone.now(), withdrawn_reason=reason)
    today = timezone.localdate()
    why = WithdrawReason(reason).label
    for match in matches:
        want = match.want
        audit_record(actor=actor, actor_label="" if actor else "demand", action="match.withdrawn", obj=want,
                     data={"match": match.pk, "reason": reason, "listing": match.listing_id,
                           "record_key": match.record_key})
        if want.state != Want.State.OPEN or want.deadline < today:
            continue  # nobody waits on a closed want
        if match.source == Match.Source.PORTFOLIO:  # still unnamed: the buyer never learned which right it was
            notify_each(members(want.buyer_org_id), kind="demand.match_withdrawn", url=want.get_absolute_url(),
                        subject=gettext_lazy("A match for your want “%(want)s” was withdrawn"),
                        body=gettext_lazy("A right held but not for sale no longer matches: %(why)s."),
                        params_for=lambda w=want: {"want": w.title, "why": str(why)})
        else:
            notify_each(members(want.buyer_org_id), kind="demand.match_withdrawn", url=want.get_absolute_url(),
                        subject=gettext_lazy("A match for your want “%(want)s” was withdrawn"),
                        body=gettext_lazy("“%(title)s” is no longer offered: %(why)s."),
                        params_for=lambda w=want, m=match: {"want": w.title, "title": m.title, "why": str(why)})
    by_holder: dict[tuple[int, str], list[Match]] = {}
    for match in matches:
        by_holder.setdefault((match.holder_org_id, match.title), []).append(match)
    for (holder_id, title), mine in by_holder.items():
        notify_each(members(holder_id), kind="demand.match_withdrawn", url="/wants/",
                    subject=gettext_lazy("“%(title)s” no longer matches buyers' wants"),
                    body=gettext_lazy("%(n)s matches were withdrawn (%(why)s); the buyers were told."),
                    params_for=lambda t=title, ms=mine: {"title": t, "n": len(ms), "why": str(why)})
    emit("demand.matches_withdrawn", organizations=[], data={"matches": [m.pk for m in matches], "reason": reason})
    return matches


@transaction.atomic(durable=True)
def want_close(*, want, actor) -> Want:
    want = Want.objects.select_for_update(of=("self",)).get(pk=want.pk)
    if not is_member(actor, want.buyer_org):
        raise NotAllowed(_("Only the buyer's organization can close its want."))
    if want.state != Want.State.OPEN:
        raise InvalidTransition(_("This want is already closed."))
    want.state = Want.State.CLOSED
    want.save(update_fields=["state"])
    audit_record(actor=actor, action="want.close", obj=want, from_state="open", to_state="closed")
    return want


# --- answers ---------------------------------------------------------------------------------------

@transaction.atomic(durable=True)
def answer_create(*, want, actor, listing, price_minor: int, note: str = "") -> Answer:
    """A holder answers a want with one of their published listings and an indicative price."""
    want = Want.objects.select_for_update(of=("self",)).select_related("buyer_org").get(pk=want.pk)
    if want.state != Want.State.OPEN or want.deadline < timezone.localdate():
        raise InvalidTransition(_("This want is closed; it takes no more answers."))
    listing = Listing.objects.filter(pk=getattr(listing, "pk", listing)).select_related("seller_org").first()
    if listing is None:
        raise NotFound(_("Choose one of your published listings."))
    if not is_member(actor, listing.seller_org):
        raise NotAllowed(_("You can only answer with a listing of your own organization."))
    if listing.seller_org_id == want.buyer_org_id:
        raise NotAllowed(_("You cannot answer your own organization's want."))
    if listing.state != Listing.State.PUBLISHED:
        raise InvalidTransition(_("Only a published listing can be offered. Publish it first, then answer."))
    if not (0 < int(price_minor) <= MAX_BUDGET_MINOR):
        raise ValidationFailed(_("Enter a price above zero."), field_errors={"price": [_("Enter a price above zero.")]})
    answer, created = Answer.objects.get_or_create(
        want=want, listing=listing,
        defaults={"tenant": want.tenant, "seller_org": listing.seller_org, "created_by": actor,
                  "price_minor": int(price_minor), "note": (note or "").strip()[:2000]})
    if not created:
        raise Conflict(_("You already answered this want with that listing."))
    # The answer is also a negotiation offer to the buyer (negotiation owns offers; same layer as demand, so
    # asked through core.events): the buyer accepts it (→ escrowed order), counters or rejects it there.
    # An anonymous buyer stays anonymous: the offer shows the seller "Anonymous buyer" until the buyer says
    # who it is or the deal is agreed (the escrowed order names both parties).
    offer = ask("negotiation.offer_to_buyer", listing=listing, actor=actor, buyer_org=want.buyer_org,
                buyer_user=want.created_by, price_minor=int(price_minor), note=answer.note,
                source=f"want:{want.pk}", buyer_anonymous=want.anonymous)
    answer.offer_id = offer.pk
    answer.save(update_fields=["offer_id"])
    audit_record(actor=actor, action="want.answer", obj=want,
                 data={"listing": listing.pk, "price_minor": price_minor, "offer": answer.offer_id})
    notify(users=members(want.buyer_org_id), kind="demand.answer", url=want.get_absolute_url(),
           subject=gettext_lazy("%(seller)s answered your want “%(want)s”"),
           body=gettext_lazy("They offer “%(title)s” for %(price)s."),
           params={"seller": listing.seller_org.legal_name, "want": want.title, "title": listing.title,
                   "price": format_money(int(price_minor), listing.currency)})
    return answer


# --- tenders ---------------------------------------------------------------------------------------

@transaction.atomic(durable=True)
def tender_open(*, want, actor, deadline) -> Tender:
    """The buyer invites the holders who answered to sealed offers until `deadline`."""
    want = Want.objects.select_for_update(of=("self",)).get(pk=want.pk)
    if not is_member(actor, want.buyer_org):
        raise NotAllowed(_("Only the buyer's organization can run a tender on its want."))
    if want.state != Want.State.OPEN:
        raise InvalidTransition(_("This want is closed."))
    now = timezone.now()
    if deadline is None or deadline <= now + datetime.timedelta(minutes=5):
        raise ValidationFailed(_("Give the holders at least a few minutes: the deadline must be later."),
                               field_errors={"deadline": [_("Choose a later deadline.")]})
    if deadline > now + datetime.timedelta(days=90):
        raise ValidationFailed(_("A tender runs at most 90 days."), field_errors={"deadline": [_("Too far ahead.")]})
    answers = list(want.answers.select_related("seller_org"))
    if not answers:
        raise InvalidTransition(_("No holder has answered yet; a tender needs at least one."))
    if Tender.objects.filter(want=want).exists():
        raise Conflict(_("A tender already runs on this want."))
    tender = Tender.objects.create(tenant=want.tenant, want=want, deadline=deadline)
    audit_record(actor=actor, action="tender.open", obj=want, data={"deadline": deadline.isoformat()})
    for org_id in {a.seller_org_id for a in answers}:
        notify(users=members(org_id), kind="demand.tender", url=want.get_absolute_url(),
               subject=gettext_lazy("Tender on “%(want)s”: send your sealed offer"),
               body=gettext_lazy("Offers are sealed until %(deadline)s; then the buyer chooses one."),
               params={"want": want.title, "deadline": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")})
    return tender


@transaction.atomic(durable=True)
def tender_offer_submit(*, tender, actor, answer, price_minor: int, note: str = "") -> TenderOffer:
    """A holder who answered submits (or improves) their sealed offer before the deadline."""
    tender = Tender.objects.select_for_update(of=("self",)).select_related("want").get(pk=tender.pk)
    now = timezone.now()
    if tender.state != Tender.State.OPEN or now >= tender.deadline:
        raise InvalidTransition(_("The tender closed at %(deadline)s; offers are no longer accepted.")
                                % {"deadline": timezone.localtime(tender.deadline).strftime("%Y-%m-%d %H:%M")})
    answer = Answer.objects.filter(pk=getattr(answer, "pk", answer), want=tender.want).first()
    if answer is None or not is_member(actor, answer.seller_org):
        raise NotAllowed(_("Only holders who answered this want can make an offer in its tender."))
    if not (0 < int(price_minor) <= MAX_BUDGET_MINOR):
        raise ValidationFailed(_("Enter a price above zero."), field_errors={"price": [_("Enter a price above zero.")]})
    offer = TenderOffer.objects.select_for_update(of=("self",)).filter(tender=tender, seller_org=answer.seller_org).first()
    if offer is None:
        offer = TenderOffer.objects.create(tenant=tender.tenant, tender=tender, answer=answer,
                                           seller_org=answer.seller_org, created_by=actor,
                                           price_minor=int(price_minor), note=(note or "")[:2000])
    else:
        offer.answer, offer.price_minor, offer.note, offer.created_by = answer, int(price_minor), (note or "")[:2000], actor
        offer.save(update_fields=["answer", "price_minor", "note", "created_by", "updated_at"])
    audit_record(actor=actor, action="tender.offer", obj=tender, data={"offer": offer.pk})  # the price stays sealed
    return offer


def tender_award(*, tender, actor, offer):
    """After the deadline the buyer picks one offer: an escrowed order for its listing at the tendered
    price (escrow's `order_place(agreed_price_minor=...)`), the tender awarded. Escrow's service owns
    its transaction, so: claim the award (locked), place the order, record it — or undo the claim
    when the order cannot be placed (the listing was sold meanwhile), with escrow's message."""
    from core.errors import DomainError
    from escrow.services import order_place

    with transaction.atomic():
        tender = (Tender.objects.select_for_update(of=("self",)).select_related("want", "want__buyer_org")
                  .get(pk=tender.pk))
        if not is_member(actor, tender.want.buyer_org):
            raise NotAllowed(_("Only the buyer's organization can choose the winning offer."))
        if tender.state != Tender.State.OPEN:
            raise InvalidTransition(_("This tender is already decided."))
        if timezone.now() < tender.deadline:
            raise InvalidTransition(_("Offers stay sealed until the deadline; choose one after it."))
        offer = (TenderOffer.objects.filter(pk=getattr(offer, "pk", offer), tender=tender)
                 .select_related("answer__listing").first())
        if offer is None:
            raise NotFound(_("Choose one of the tender's offers."))
        if active_organization(actor) != tender.want.buyer_org:
            raise NotAllowed(_("Switch to the organization that posted the want before choosing."))
        tender.state, tender.awarded_offer = Tender.State.AWARDED, offer
        tender.save(update_fields=["state", "awarded_offer"])
    try:
        order = order_place(listing=offer.answer.listing, buyer=actor, terms_accepted=True,
                            agreed_price_minor=offer.price_minor)
    except DomainError:
        with transaction.atomic():
            Tender.objects.filter(pk=tender.pk).update(state=Tender.State.OPEN, awarded_offer=None)
        raise
    with transaction.atomic():
        locked = Tender.objects.select_for_update(of=("self",)).select_related("want").get(pk=tender.pk)
        locked.order = order
        locked.save(update_fields=["order"])
        audit_record(actor=actor, action="tender.award", obj=locked.want,
                     data={"offer": offer.pk, "order": order.reference, "price_minor": offer.price_minor})
        for other in TenderOffer.objects.filter(tender=locked).exclude(pk=offer.pk):
            notify(users=members(other.seller_org_id), kind="demand.tender_lost", url=locked.want.get_absolute_url(),
                   subject=gettext_lazy("The tender on “%(want)s” went to another offer"),
                   params={"want": locked.want.title})
    return order
