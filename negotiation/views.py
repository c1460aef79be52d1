"""Website of negotiated deals: a listing's deal page (offers, questions, the seller's price), the offer
page (rounds, the one action each side can take now), the offers overview, brokers' mandates.
Views parse, call a selector or a service, and render; domain errors become messages."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import mandates as mandate_services
from accounts.models import Mandate, Membership, Organization
from accounts.selectors import active_organization, user_organizations
from core.errors import DomainError, NotAllowed
from core.permissions import is_member
from core.storage import private_bytes_response, private_file_response
from listings.models import Listing
from listings.selectors import listing_for_viewer
from listings.services.pricing import listing_change_price, price_history

from . import conversations, dataroom, royalties, selectors, services
from .forms import AnswerForm, MandateForm, OfferForm, PriceForm, PrincipalForm, QuestionForm
from .models import Conversation, DataRoomDocument, Licence, Message, Offer, Question, RoyaltyReport, Side


def _fail(request, exc: DomainError):
    messages.error(request, str(exc.message))
    for field, errors in (getattr(exc, "field_errors", None) or {}).items():
        for error in errors:
            messages.error(request, f"{field}: {error}")


def _listing(request, pk):
    listing = listing_for_viewer(pk=pk, user=request.user)
    if listing is None:
        raise Http404
    return listing


def listing_deal(request, pk):
    """The deal page of a listing: public answers, the buyer's offer form and offers, or (for the seller
    and its broker) every offer, the questions to answer and the price."""
    listing = _listing(request, pk)
    seller_side, mandate = services.seller_side_for_listing(request.user, listing)
    org = active_organization(request.user) if request.user.is_authenticated else None
    offers = selectors.offers_for_user(request.user).filter(listing=listing) if request.user.is_authenticated else []
    if not seller_side and org is not None:
        offers = offers.filter(buyer_org=org)
    open_offer = None
    if not seller_side and org is not None:
        open_offer = next((o for o in offers if o.is_open), None)
    offers = list(offers)[:50] if offers != [] else []
    _shown_buyers(request.user, offers)
    return render(request, "negotiation/listing_deal.html", {
        "listing": listing, "seller_side": seller_side, "mandate": mandate,
        "offers": offers, "open_offer": open_offer,
        "offer_form": OfferForm(listing=listing, initial={"territory": listing.licence_territory,
                                                          "field_of_use": listing.licence_field,
                                                          "term_months": listing.licence_term_months}),
        "price_form": PriceForm(listing=listing, initial={
            "pricing": listing.pricing, "price": _major(listing.price_minor, listing.currency),
            "offer_floor": _major(listing.offer_floor_minor, listing.currency)}) if seller_side else None,
        "public_questions": selectors.public_questions(listing),
        "my_questions": selectors.questions_for(listing, org=org, seller_side=seller_side),
        "question_form": QuestionForm(), "answer_form": AnswerForm(),
        "price_history": price_history(listing)[:20],
        "licences": selectors.licences_of_listing(listing) if seller_side else [],
        "can_offer": (request.user.is_authenticated and not seller_side and listing.takes_offers
                      and listing.state == Listing.State.PUBLISHED and open_offer is None),
        "buyer_mandates": _buyer_mandates(request.user, listing) if not seller_side else [], "own_org": org,
        **_dataroom_context(request, listing, seller_side),
        "conversations": list(conversations.conversations_of_listing(listing)) if seller_side else [],
    })


def _dataroom_context(request, listing, seller_side):
    may_open = seller_side or (request.user.is_authenticated and dataroom.may_open(request.user, listing)[0])
    documents = list(DataRoomDocument.objects.filter(listing=listing)) if may_open or seller_side else []
    return {
        "dataroom_count": DataRoomDocument.objects.filter(listing=listing).count(),
        "dataroom_documents": documents, "dataroom_open": may_open, "nda_text": dataroom.nda_text(),
        "dataroom_views": list(dataroom.views_of(listing)[:50]) if seller_side else [],
    }


def _ip(request):
    return request.META.get("REMOTE_ADDR")


@login_required
@require_POST
def dataroom_upload_view(request, pk):
    listing = _listing(request, pk)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file (PDF, PNG or JPEG)."))
        return redirect("negotiation:listing", pk=pk)
    try:
        dataroom.dataroom_upload(listing=listing, actor=request.user, file=upload, title=request.POST.get("title", ""))
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("The document is in the data room."))
    return redirect("negotiation:listing", pk=pk)


@login_required
@require_POST
def nda_accept_view(request, pk):
    listing = _listing(request, pk)
    try:
        dataroom.nda_accept(listing=listing, actor=request.user, typed_name=request.POST.get("typed_name", ""),
                            consent=request.POST.get("consent") == "yes", ip_address=_ip(request),
                            user_agent=request.headers.get("User-Agent", ""))
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("NDA accepted: the data room is open to your organization."))
    return redirect("negotiation:listing", pk=pk)


@login_required
def dataroom_document(request, pk):
    document = DataRoomDocument.objects.select_related("listing__seller_org").filter(pk=pk).first()
    if document is None:
        raise Http404
    try:
        data, content_type, filename = dataroom.document_open(document=document, actor=request.user,
                                                              ip_address=_ip(request))
    except DomainError:
        raise Http404 from None
    return private_bytes_response(data, content_type=content_type, filename=filename)


def _major(minor, currency):
    if minor is None:
        return ""
    from decimal import Decimal

    from core.money import exponent

    return str(Decimal(minor).scaleb(-exponent(currency)))


def _buyer_mandates(user, listing):
    """Buyer-side mandates in force under which `user` (a broker's member) may offer on `listing`."""
    if not user.is_authenticated:
        return []
    return [m for m in selectors.broker_principals(user)
            if m.side == "buyer" and m.covers_listing(listing.pk) and m.principal_org_id != listing.seller_org_id]


@login_required
@require_POST
def offer_new(request, pk):
    listing = _listing(request, pk)
    form = OfferForm(request.POST, listing=listing)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[field].label if field in form.fields else field}: {error}")
        return redirect("negotiation:listing", pk=pk)
    try:
        for_org = None
        if request.POST.get("for_org"):
            for_org = next((m.principal_org for m in _buyer_mandates(request.user, listing)
                            if str(m.principal_org_id) == request.POST["for_org"]), None)
            if for_org is None:
                raise NotAllowed(_("You have no mandate in force from that organization covering this listing."))
        offer = services.offer_make(listing=listing, actor=request.user, price_minor=form.cleaned_data["price"],
                                    currency=listing.currency, terms=form.terms(), expires_at=form.expires_at(),
                                    note=form.cleaned_data.get("note") or "", for_org=for_org)
    except DomainError as exc:
        _fail(request, exc)
        return redirect("negotiation:listing", pk=pk)
    messages.success(request, _("Your offer was sent to the seller."))
    return redirect(offer)


@login_required
@require_POST
def price_change(request, pk):
    listing = _listing(request, pk)
    form = PriceForm(request.POST, listing=listing)
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[field].label}: {error}")
        return redirect("negotiation:listing", pk=pk)
    _ok, mandate = services.seller_side_for_listing(request.user, listing)
    d = form.cleaned_data
    try:
        listing_change_price(listing=listing, actor=request.user, price_minor=d["price"], pricing=d["pricing"],
                             offer_floor_minor=d.get("offer_floor"), reason=d.get("reason") or "",
                             broker_orgs=[mandate.broker_org] if mandate else ())
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("The price was changed; buyers see it at once."))
    return redirect("negotiation:listing", pk=pk)


@login_required
@require_POST
def question_new(request, pk):
    listing = _listing(request, pk)
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            services.question_ask(listing=listing, actor=request.user, text=form.cleaned_data["text"])
        except DomainError as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("Your question was sent to the seller."))
    else:
        messages.error(request, _("Write your question."))
    return redirect("negotiation:listing", pk=pk)


@login_required
@require_POST
def question_answer_view(request, pk):
    question = Question.objects.select_related("listing").filter(pk=pk).first()
    if question is None or not services.seller_side_for_listing(request.user, question.listing)[0]:
        raise Http404
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.question_answer(question=question, actor=request.user, answer=form.cleaned_data["answer"],
                                     public=form.cleaned_data["public"])
        except DomainError as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("Your answer was sent."))
    return redirect("negotiation:listing", pk=question.listing_id)


@login_required
def offer_list(request):
    offers = list(selectors.offers_for_user(request.user).order_by("-updated_at", "-id")[:200])
    _shown_buyers(request.user, offers)
    return render(request, "negotiation/offer_list.html", {"offers": offers})


def _shown_buyers(user, offers) -> None:
    """Each offer's buyer as this user may see it (`buyer_shown`): "Anonymous buyer" on the seller's side
    of an offer made to an anonymous want, until the buyer reveals itself or the deal is agreed."""
    mine: set[int] | None = None  # looked up only when an offer is anonymous (the page's query budget)
    for o in offers:
        if not o.buyer_anonymous:
            o.buyer_shown = o.buyer_org.legal_name
            continue
        if mine is None:
            mine = set(Membership.objects.filter(user=user).values_list("organization_id", flat=True)) \
                if user.is_authenticated else set()
        buyer_side = o.buyer_org_id in mine or (o.buyer_mandate_id and o.buyer_mandate.broker_org_id in mine)
        o.buyer_shown = o.buyer_name_for(Side.BUYER if buyer_side else Side.SELLER)


@login_required
def offer_detail(request, pk):
    offer = selectors.offer_for_user(request.user, pk)
    if offer is None:
        raise Http404
    side, mandate = services.side_of(request.user, offer)
    expired = offer.is_open and offer.expires_at <= timezone.now()
    form = OfferForm(listing=offer.listing, initial={
        "price": _major(offer.price_minor, offer.currency), "territory": offer.terms.get("territory", ""),
        "field_of_use": offer.terms.get("field", ""), "term_months": offer.terms.get("term_months"),
        "royalty_percent": (offer.terms.get("royalty_bps") or 0) / 100,
        "royalty_base": offer.terms.get("royalty_base") or "net_sales",
        "royalty_period": offer.terms.get("royalty_period") or "year",
        "royalty_minimum": _major(offer.terms.get("royalty_minimum_minor") or 0, offer.currency)})
    viewer = side or ("staff" if not services.seller_side_for_listing(request.user, offer.listing)[0] else Side.SELLER)
    buyer_name = offer.buyer_name_for(viewer)
    rounds = list(offer.rounds.select_related("acting_org", "actor").all())
    for r in rounds:  # the buyer's moves carry its name: hidden like the buyer while it stays anonymous
        r.who = (buyer_name if r.side == Side.BUYER and r.acting_org_id == offer.buyer_org_id
                 else (r.acting_org.legal_name if r.acting_org_id else ""))
    return render(request, "negotiation/offer_detail.html", {
        "offer": offer, "side": side, "acting_mandate": mandate, "expired": expired, "buyer_name": buyer_name,
        "my_turn": offer.is_open and not expired and side == offer.waiting_for,
        "can_withdraw": offer.is_open and not expired and side is not None and side != offer.waiting_for,
        "can_reveal": offer.buyer_anonymous and side == Side.BUYER and offer.is_open,
        "rounds": rounds, "form": form,
    })


@login_required
@require_POST
def offer_action(request, pk, action):
    offer = selectors.offer_for_user(request.user, pk)
    if offer is None:
        raise Http404
    try:
        if action == "accept":
            if request.POST.get("confirm") != "yes":
                messages.error(request, _("Tick the box to confirm the deal: accepting places the escrowed order."))
                return redirect(offer)
            offer = services.offer_accept(offer=offer, actor=request.user)
            messages.success(request, _("Deal agreed: order %(ref)s is placed.") % {"ref": offer.order.reference})
            return redirect(offer.order)
        if action == "reveal":
            services.offer_reveal_buyer(offer=offer, actor=request.user)
            messages.success(request, _("The seller now knows who you are."))
            return redirect(offer)
        if action == "reject":
            services.offer_reject(offer=offer, actor=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, _("The offer was rejected."))
        elif action == "withdraw":
            services.offer_withdraw(offer=offer, actor=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, _("Your proposal was withdrawn."))
        elif action == "counter":
            form = OfferForm(request.POST, listing=offer.listing)
            if not form.is_valid():
                for field, errors in form.errors.items():
                    for error in errors:
                        messages.error(request, f"{form.fields[field].label if field in form.fields else field}: {error}")
                return redirect(offer)
            services.offer_counter(offer=offer, actor=request.user, price_minor=form.cleaned_data["price"],
                                   terms=form.terms(), expires_at=form.expires_at(),
                                   note=form.cleaned_data.get("note") or "")
            messages.success(request, _("Your counter-offer was sent."))
        else:
            raise Http404
    except DomainError as exc:
        _fail(request, exc)
    return redirect(offer)


# --- mandates ----------------------------------------------------------------------------------------

@login_required
def mandate_list(request):
    org = active_organization(request.user)
    if org is None:
        messages.error(request, _("Join or register an organization in your account first."))
        return redirect("/account/")
    form = MandateForm(request.POST or None)
    principal_form = PrincipalForm(request.POST or None, principals=Organization.objects.exclude(pk=org.pk))
    if request.method == "POST" and all([form.is_valid(), principal_form.is_valid()]):
        d = {**form.cleaned_data, **principal_form.cleaned_data}
        today = timezone.localdate()
        try:
            mandate_services.mandate_propose(
                actor=request.user, broker_org=org, principal_org=d["principal"], side=d["side"],
                may_sign=d["may_sign"],
                listing_ids=d["listings"], all_listings=not d["listings"],
                commission_bps=int(d["commission_percent"] * 100), starts_on=today,
                ends_on=today + datetime.timedelta(days=30 * d["months"]))
        except DomainError as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("The mandate was proposed; the principal accepts it on the site."))
            return redirect("negotiation:mandates")
    orgs = list(user_organizations(request.user))
    mandates = [m for o in orgs for m in mandate_services.mandates_of(o)]
    return render(request, "negotiation/mandates.html", {
        "form": form, "mandates": sorted(set(mandates), key=lambda m: -m.pk), "org_ids": {o.pk for o in orgs},
        **_principal_choices(request, org, principal_form)})


def _principal_choices(request, org, form):
    """The principal chooser: the name searched (GET `q`, or kept in the proposal form), at most 20
    organizations of this exchange (verified first), and the one picked (kept after a failed proposal)."""
    q = (request.GET.get("q") or request.POST.get("q") or "").strip()[:100]
    found = mandate_services.principal_candidates(query=q, exclude_org=org)
    picked = form.cleaned_data.get("principal") if form.is_bound else None
    if picked is not None and picked not in found:
        found = [picked, *found][:mandate_services.PRINCIPAL_SEARCH_LIMIT]
    return {"q": q, "principals": found, "picked_id": picked.pk if picked else None,
            "principal_errors": form.errors.get("principal") if form.is_bound else None}


@login_required
def mandate_principals(request):
    """The type-ahead behind the principal search (htmx): the same choices as the page, as a fragment."""
    org = active_organization(request.user)
    if org is None:
        raise Http404
    form = PrincipalForm(principals=Organization.objects.none())
    return render(request, "negotiation/_principal_choices.html", _principal_choices(request, org, form))


@login_required
@require_POST
def mandate_action(request, pk, action):
    mandate = Mandate.objects.filter(pk=pk).select_related("principal_org", "broker_org").first()
    if mandate is None or not (is_member(request.user, mandate.principal_org) or is_member(request.user, mandate.broker_org)):
        raise Http404
    try:
        if action == "accept":
            mandate_services.mandate_accept(mandate=mandate, actor=request.user)
            messages.success(request, _("The mandate is in force."))
        elif action == "decline":
            mandate_services.mandate_decline(mandate=mandate, actor=request.user)
        elif action == "revoke":
            mandate_services.mandate_revoke(mandate=mandate, actor=request.user)
        else:
            raise Http404
    except DomainError as exc:
        _fail(request, exc)
    return redirect("negotiation:mandates")


__all__ = ["Offer"]


# --- private conversations ---------------------------------------------------------------------------

@login_required
def conversation_start(request, pk):
    listing = _listing(request, pk)
    try:
        conversation = conversations.conversation_for(listing=listing, actor=request.user)
    except DomainError as exc:
        _fail(request, exc)
        return redirect("negotiation:listing", pk=pk)
    return redirect(conversation)


@login_required
def conversation_detail(request, pk):
    conversation = Conversation.objects.select_related("listing__seller_org", "buyer_org").filter(pk=pk).first()
    if conversation is None:
        raise Http404
    side, _org = conversations.side_in(request.user, conversation)
    if side is None:
        raise Http404
    if request.method == "POST":
        try:
            conversations.message_send(conversation=conversation, actor=request.user, body=request.POST.get("body", ""),
                                       file=request.FILES.get("file"))
        except DomainError as exc:
            _fail(request, exc)
        return redirect(conversation)
    return render(request, "negotiation/conversation.html", {
        "conversation": conversation, "side": side,
        "messages_list": conversation.messages.select_related("author", "author_org").all()})


@login_required
def message_attachment(request, pk):
    message = Message.objects.select_related("conversation__listing__seller_org", "conversation__buyer_org").filter(
        pk=pk).first()
    if message is None or not message.attachment or conversations.side_in(request.user, message.conversation)[0] is None:
        raise Http404
    return private_file_response(message.attachment, content_type=message.attachment_type, as_attachment=True)


# --- licences and running royalties -----------------------------------------------------------------

def _licence_for(user, pk):
    licence = Licence.objects.select_related("listing", "order", "licensor_org", "licensee_org").filter(pk=pk).first()
    if licence is None or not (is_member(user, licence.licensee_org) or is_member(user, licence.licensor_org)):
        raise Http404
    return licence


@login_required
def licence_detail(request, pk):
    licence = _licence_for(request.user, pk)
    return render(request, "negotiation/licence.html", {
        "licence": licence, "reports": royalties.reports_of(licence),
        "is_licensee": is_member(request.user, licence.licensee_org)})


@login_required
@require_POST
def royalty_report_view(request, pk):
    report = RoyaltyReport.objects.select_related("licence").filter(pk=pk).first()
    if report is None:
        raise Http404
    licence = _licence_for(request.user, report.licence_id)
    from .forms import MoneyField

    try:
        base = MoneyField(currency=licence.currency).clean(request.POST.get("base", ""))
        royalties.royalty_report(report=report, actor=request.user, base_minor=base if base is not None else -1)
    except DomainError as exc:
        _fail(request, exc)
    except Exception as exc:  # noqa: BLE001 - a form error (ValidationError) becomes a message
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("Reported: the royalty due is invoiced."))
    return redirect("negotiation:licence", pk=licence.pk)


@login_required
@require_POST
def royalty_pay_view(request, pk):
    from escrow.payments import get_provider

    report = RoyaltyReport.objects.select_related("licence__order").filter(pk=pk).first()
    if report is None:
        raise Http404
    licence = _licence_for(request.user, report.licence_id)
    try:
        payment = royalties.royalty_pay_start(report=report, actor=request.user, provider="simulated")
    except DomainError as exc:
        _fail(request, exc)
        return redirect("negotiation:licence", pk=licence.pk)
    return redirect(get_provider("simulated").checkout_url(payment, request=request))
