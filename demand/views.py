"""Website of the demand library: wants, answers and tenders, auctions (live page), exchange figures."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.selectors import active_organization
from core.errors import DomainError, ValidationFailed
from core.outbox import enqueue
from escrow.models import Deposit
from escrow.selectors import live_deposit
from listings.models import Listing

from . import auctions as A
from . import classes as C
from . import counteroffers as CO
from . import figures as F
from . import selectors as sel
from . import services as D
from .forms import AnswerForm, AuctionForm, BidForm, CounterOfferForm, PriceForm, TenderForm, WantForm
from .models import Answer, Auction, Match, Tender, TenderOffer, Want


def _fail(request, exc: DomainError, form=None):
    if form is not None:
        for field, errors in (exc.field_errors or {}).items():
            target = field if field in form.fields else None
            for e in errors if isinstance(errors, list) else [errors]:
                form.add_error(target, str(e))
        if not exc.field_errors:
            form.add_error(None, str(exc.message))
    messages.error(request, str(exc.message))


# --- wants -----------------------------------------------------------------------------------------

def want_list(request):
    q, cls, kind = request.GET.get("q", "")[:200], request.GET.get("class", "")[:100], request.GET.get("kind", "")[:20]
    page = Paginator(sel.open_wants(q=q, class_filter=cls, kind=kind), 20).get_page(request.GET.get("page"))
    return render(request, "demand/want_list.html", {"page": page, "q": q, "cls": cls, "kind": kind})


@login_required
def want_new(request):
    form = WantForm(request.POST or None, currency=request.tenant.currency)
    if request.method == "POST" and form.is_valid():
        try:
            want = D.want_create(actor=request.user, data=form.to_input())
        except DomainError as exc:
            _fail(request, exc, form)
        else:
            n = want.matches.count()
            messages.success(request, ngettext("Your want is posted; %(n)s match found so far.",
                                               "Your want is posted; %(n)s matches found so far.", n) % {"n": n})
            return redirect(want.get_absolute_url())
    return render(request, "demand/want_new.html", {"form": form})


def want_detail(request, pk):
    want = get_object_or_404(Want.objects.select_related("buyer_org"), pk=pk)
    is_buyer = sel.is_buyer_of(request.user, want)
    if want.state != Want.State.OPEN and not is_buyer:
        raise Http404
    tender = Tender.objects.filter(want=want).first()
    ctx = {"want": want, "is_buyer": is_buyer, "tender": tender, "now": timezone.now()}
    if is_buyer:
        matches = list(sel.matches_for_buyer(want)[:50])
        answered = set(want.answers.values_list("seller_org_id", flat=True))
        for m in matches:  # a right not for sale, and its holder, stay unnamed until the holder answers
            hidden = m.source == Match.Source.PORTFOLIO and m.holder_org_id not in answered
            m.shown_title = D.buyer_title(m) if hidden else m.title
            m.shown_holder = "" if hidden else m.holder_org.legal_name
        ctx["matches"] = matches
        ctx["answers"] = want.answers.select_related("listing", "seller_org")
        if tender is not None:
            ctx["offers"] = [] if tender.sealed else list(tender.offers.select_related("answer__listing", "seller_org"))
            ctx["offer_count"] = tender.offers.count()
        elif want.answers.exists():
            ctx["tender_form"] = TenderForm(initial={"deadline": (timezone.localtime() + timezone.timedelta(days=3))
                                                     .strftime("%Y-%m-%dT%H:%M")})
    elif request.user.is_authenticated:
        listings = list(sel.holder_listings(request.user))
        ctx["my_matches"] = list(sel.matches_for_holder(request.user, want))
        sel.attach_numbers(ctx["my_matches"])
        ctx["my_answers"] = list(Answer.objects.filter(want=want, seller_org_id__in=sel.user_org_ids(request.user))
                                 .select_related("listing"))
        if listings and want.state == Want.State.OPEN:
            matched = [m.listing_id for m in ctx["my_matches"] if m.listing_id and not m.is_withdrawn]
            ctx["answer_form"] = AnswerForm(listings=listings, currency=want.currency,
                                            initial={"listing": matched[0] if matched else None})
        if tender is not None and ctx["my_answers"]:
            mine = TenderOffer.objects.filter(tender=tender, seller_org_id__in=sel.user_org_ids(request.user)).first()
            ctx["my_offer"] = mine
            if tender.sealed:
                ctx["offer_form"] = PriceForm(currency=want.currency)
    return render(request, "demand/want_detail.html", ctx)


@login_required
@require_POST
def want_answer(request, pk):
    want = get_object_or_404(Want, pk=pk)
    form = AnswerForm(request.POST, listings=sel.holder_listings(request.user), currency=want.currency)
    if form.is_valid():
        try:
            D.answer_create(want=want, actor=request.user, listing=form.cleaned_data["listing"],
                            price_minor=form.cleaned_data["price"], note=form.cleaned_data["note"])
            messages.success(request, _("Your offer was sent to the buyer."))
        except DomainError as exc:
            _fail(request, exc)
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect(want.get_absolute_url())


@login_required
@require_POST
def want_tender(request, pk):
    want = get_object_or_404(Want, pk=pk)
    form = TenderForm(request.POST)
    if form.is_valid():
        try:
            D.tender_open(want=want, actor=request.user, deadline=form.cleaned_data["deadline"])
            messages.success(request, _("The tender is open; holders who answered were invited."))
        except DomainError as exc:
            _fail(request, exc)
    else:
        messages.error(request, _("Give the date and time until which offers are accepted."))
    return redirect(want.get_absolute_url())


@login_required
@require_POST
def tender_offer(request, pk):
    want = get_object_or_404(Want, pk=pk)
    tender = get_object_or_404(Tender, want=want)
    form = PriceForm(request.POST, currency=want.currency)
    answer = Answer.objects.filter(want=want, seller_org_id__in=sel.user_org_ids(request.user)).first()
    if form.is_valid():
        try:
            D.tender_offer_submit(tender=tender, actor=request.user, answer=answer,
                                  price_minor=form.cleaned_data["price"], note=form.cleaned_data["note"])
            messages.success(request, _("Your sealed offer is in. You can improve it until the deadline."))
        except DomainError as exc:
            _fail(request, exc)
    else:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect(want.get_absolute_url())


@login_required
def tender_award(request, pk, offer_id):
    want = get_object_or_404(Want, pk=pk)
    tender = get_object_or_404(Tender, want=want)
    offer = get_object_or_404(TenderOffer.objects.select_related("answer__listing", "seller_org"), pk=offer_id,
                              tender=tender)
    if not sel.is_buyer_of(request.user, want):
        raise Http404
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            order = D.tender_award(tender=tender, actor=request.user, offer=offer)
        except DomainError as exc:
            _fail(request, exc)
            return redirect(want.get_absolute_url())
        messages.success(request, _("Order %(ref)s placed at the tendered price.") % {"ref": order.reference})
        return redirect(order.get_absolute_url())
    return render(request, "demand/tender_confirm.html", {"want": want, "tender": tender, "offer": offer})


@login_required
@require_POST
def want_close(request, pk):
    want = get_object_or_404(Want, pk=pk)
    try:
        D.want_close(want=want, actor=request.user)
        messages.success(request, _("The want is closed."))
    except DomainError as exc:
        _fail(request, exc)
    return redirect(want.get_absolute_url())


# --- auctions --------------------------------------------------------------------------------------

def auction_list(request):
    return render(request, "demand/auction_list.html", {"running": sel.auctions_running()[:50],
                                                          "recent": sel.auctions_recent()[:20]})


@login_required
def auction_new(request, listing_id):
    listing = get_object_or_404(Listing, pk=listing_id)
    form = AuctionForm(request.POST or None, currency=listing.currency)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            auction = A.auction_create(listing=listing, actor=request.user, start_price_minor=d["start_price"],
                                       reserve_minor=d["reserve"], increment_minor=d["increment"],
                                       deposit_minor=d["deposit"], starts_at=d["starts_at"], ends_at=d["ends_at"],
                                       extension_seconds=d["extension_minutes"] * 60)
        except DomainError as exc:
            _fail(request, exc, form)
        else:
            messages.success(request, _("The auction is set up."))
            return redirect(auction.get_absolute_url())
    return render(request, "demand/auction_new.html", {"form": form, "listing": listing})


def _auction_context(request, auction, counter_form=None):
    org = active_organization(request.user) if request.user.is_authenticated else None
    counter = auction.counter_offers.first() if auction.state in (Auction.State.RESERVE_NOT_MET, Auction.State.WON,
                                                                   Auction.State.SOLD, Auction.State.UNSOLD) else None
    deposit = live_deposit(auction.subject, org) if org else None
    now = timezone.now()
    is_seller = org is not None and org.pk == auction.seller_org_id
    return {
        "auction": auction, "now": now, "is_seller": is_seller, "org": org,
        "live": auction.state == Auction.State.OPEN and auction.starts_at <= now < auction.ends_at,
        "not_started": auction.state == Auction.State.OPEN and now < auction.starts_at,
        "time_left": _clock(max(0, int((auction.ends_at - now).total_seconds()))),
        "outbid": org is not None and auction.high_bid_id and auction.high_bid.bidder_org_id != org.pk
                  and auction.bids.filter(bidder_org=org).exists(),
        "deposit": deposit, "deposit_held": deposit is not None and deposit.state in (Deposit.State.HELD,
                                                                                        Deposit.State.APPLIED),
        "blocker": "" if is_seller else A.bidder_blocker(auction, request.user, org),
        "bids": list(auction.bids.select_related("bidder_org").order_by("-amount_minor")[:10]),
        "leading": org is not None and auction.high_bid_id and auction.high_bid.bidder_org_id == org.pk,
        "forfeit_note": _forfeit_note(auction),
        "counter": counter,
        "counter_for_me": counter is not None and org is not None and counter.bidder_org_id == org.pk,
        "counter_form": counter_form or CounterOfferForm(currency=auction.currency, initial={
            "price": _major(auction.current_price_minor, auction.currency)}),
        "form": BidForm(currency=auction.currency, initial={"amount": _major(auction.minimum_bid_minor,
                                                                              auction.currency)}),
    }


def _forfeit_note(auction) -> str:
    """What a winner who does not pay loses, said before a bidder pays the deposit (issue 16)."""
    bps = auction.tenant.deposit_forfeit_share_bps
    if bps is None:
        return _("If you win and do not pay, the deposit is forfeited: the seller receives it, less the exchange's "
                 "commission rate.")
    return _("If you win and do not pay, the deposit is forfeited: %(share)s%% to the exchange, the rest to the "
             "seller.") % {"share": f"{bps / 100:g}"}


def _clock(seconds: int) -> str:
    """1780 → '29:40', 5400 → '1:30:00', 3 days → '3d 0:00:00'."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}" if hours or days else f"{minutes}:{secs:02d}"
    return f"{days}d {clock}" if days else clock


def _major(minor, currency):
    from decimal import Decimal

    from core.money import exponent

    return str(Decimal(minor).scaleb(-exponent(currency)))


def _finish_if_due(auction):
    if auction.state in (Auction.State.OPEN, Auction.State.WON) and timezone.now() >= auction.ends_at:
        A.auction_finish(auction_id=auction.pk)
        auction.refresh_from_db()
    elif auction.state == Auction.State.RESERVE_NOT_MET and auction.counter_offers.filter(
            state="open", deadline__lte=timezone.now()).exists():
        CO.counter_offer_expire(auction_id=auction.pk)
    return auction


def auction_detail(request, pk):
    auction = _finish_if_due(get_object_or_404(Auction.objects.select_related("listing", "high_bid"), pk=pk))
    return render(request, "demand/auction_detail.html", _auction_context(request, auction))


def auction_live(request, pk):
    """The part of the page htmx polls every two seconds."""
    auction = _finish_if_due(get_object_or_404(Auction.objects.select_related("listing", "high_bid"), pk=pk))
    return render(request, "demand/_auction_live.html", _auction_context(request, auction))


@login_required
@require_POST
def auction_deposit(request, pk):
    auction = get_object_or_404(Auction, pk=pk)
    try:
        payment = A.deposit_start(auction=auction, actor=request.user, provider="simulated")
    except DomainError as exc:
        _fail(request, exc)
        return redirect(auction.get_absolute_url())
    if request.POST.get("approve") == "yes" and payment.provider == "simulated":
        # The simulated provider's confirmation, through the same signed webhook path as orders.
        from escrow.payments.simulated import build_event

        with transaction.atomic():
            enqueue("escrow.tasks.simulated_deliver", body=build_event(payment, approved=True),
                    tenant_id=payment.tenant_id)
        messages.success(request, _("Deposit submitted. The provider is confirming it; this page updates by itself."))
    return redirect(auction.get_absolute_url())


@login_required
@require_POST
def auction_bid(request, pk):
    auction = get_object_or_404(Auction, pk=pk)
    form = BidForm(request.POST, currency=auction.currency)
    error = ""
    if form.is_valid():
        try:
            A.bid_place(auction=auction, actor=request.user, amount_minor=form.cleaned_data["amount"])
        except DomainError as exc:
            error = str(exc.message)
    else:
        error = " ".join(str(e) for errs in form.errors.values() for e in errs)
    auction.refresh_from_db()
    if request.htmx:
        ctx = _auction_context(request, auction)
        ctx["error"] = error
        if not error:
            ctx["ok"] = _("Your bid is the highest.")
        return render(request, "demand/_auction_live.html", ctx)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Your bid is the highest."))
    return redirect(auction.get_absolute_url())


@login_required
@require_POST
def auction_decide(request, pk):
    auction = get_object_or_404(Auction, pk=pk)
    try:
        A.seller_accept(auction=auction, actor=request.user, accept=request.POST.get("accept") == "yes")
    except DomainError as exc:
        _fail(request, exc)
    return redirect(auction.get_absolute_url())


@login_required
@require_POST
def auction_counter_offer(request, pk):
    """Below the reserve: the seller proposes a price to the highest bidder."""
    auction = get_object_or_404(Auction.objects.select_related("listing", "high_bid"), pk=pk)
    form = CounterOfferForm(request.POST, currency=auction.currency)
    if form.is_valid():
        try:
            CO.counter_offer_make(auction=auction, actor=request.user, price_minor=form.cleaned_data["price"],
                                  hours=form.cleaned_data["hours"])
        except DomainError as exc:
            # the service names the API's fields (price_minor); the form shows them at its own
            exc.field_errors = {{"price_minor": "price"}.get(k, k): v for k, v in (exc.field_errors or {}).items()}
            _fail(request, exc, form)
        else:
            messages.success(request, _("Your price is sent to the highest bidder."))
            return redirect(auction.get_absolute_url())
    return render(request, "demand/auction_detail.html", _auction_context(request, auction, counter_form=form),
                  status=400)


@login_required
@require_POST
def auction_counter_answer(request, pk):
    """The highest bidder accepts or declines the seller's price."""
    auction = get_object_or_404(Auction, pk=pk)
    accept = request.POST.get("accept") == "yes"
    try:
        CO.counter_offer_answer(auction=auction, actor=request.user, accept=accept)
    except DomainError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("You accepted the seller's price; your escrowed order is placed.") if accept
                         else _("You declined the seller's price."))
    return redirect(auction.get_absolute_url())


# --- exchange figures ------------------------------------------------------------------------------

@login_required
def figures(request):
    if not sel.is_figures_staff(request.user):
        raise Http404
    data = F.collect()
    return render(request, "demand/figures.html", {"f": data, "charts": F.charts(data)})


@login_required
def figures_export(request, fmt):
    if not sel.is_figures_staff(request.user):
        raise Http404
    data = F.collect()
    stamp = timezone.localdate().isoformat()
    if fmt == "csv":
        response = HttpResponse(F.to_csv(data), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="exchange-figures-{stamp}.csv"'
        return response
    if fmt == "xlsx":
        response = HttpResponse(F.to_xlsx(data),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="exchange-figures-{stamp}.xlsx"'
        return response
    raise Http404


@login_required
def open_rights(request):
    """The holder opens rights it holds but does not sell to buyers' wants: each, or all at once. Matched
    buyers do not see who holds them until the holder answers."""
    from rights.wants import holdings_open_to_wants_set

    org, holdings = sel.open_rights_of(request.user)
    if org is None:
        messages.error(request, _("Register the organization you act for in your account first."))
        return redirect("/accounts/")
    if request.method == "POST":
        choice = request.POST.get("open", "")
        ids = None if request.POST.get("all") or "class" in request.POST else request.POST.getlist("holding")
        try:
            classes = C.normalise(request.POST["class"]) if "class" in request.POST else None
            if classes is not None and not classes:
                raise ValidationFailed(_("Name a class, e.g. H01M or Nice class 9."))
            changed = holdings_open_to_wants_set(organization=org, actor=request.user, open_=choice == "1",
                                                 holding_ids=ids, classes=classes)
            found = D.match_open_rights(holding_ids=changed) if choice == "1" and changed else []
        except DomainError as exc:
            _fail(request, exc)
        else:
            n = len(changed)
            messages.success(request, ngettext("%(n)s right changed.", "%(n)s rights changed.", n) % {"n": n})
            if found:
                messages.info(request, ngettext("It matches %(n)s open want; see your notifications.",
                                                "They match %(n)s open wants; see your notifications.",
                                                len({m.want_id for m in found})) % {"n": len({m.want_id for m in found})})
        return redirect("demand:open_rights")
    return render(request, "demand/open_rights.html", {"org": org, "holdings": holdings})
