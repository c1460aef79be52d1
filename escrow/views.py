"""Website of the escrow app: order start, order page, payment pages, dashboards, provider webhooks.
Views parse, call a selector or a service, and render; domain errors become messages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.selectors import active_organization
from core.audit import audit_trail
from core.errors import DomainError
from core.events import ask
from core.outbox import enqueue
from core.permissions import has_role, is_member
from listings.models import Listing
from listings.selectors import conflicting_encumbrances, listing_for_viewer

from . import fees, ledger, selectors, services
from .forms import DisputeForm, PayForm, PlaceOrderForm, ReasonForm
from .models import DISPUTABLE_STATES, LIVE_STATES, Disbursement, Payment
from .payments import available_providers, get_provider
from .payments.bank_transfer import bank_details
from .payments.simulated import build_event
from .services.common import order_payment
from .services.payouts import payout_destination
from .webhooks import handle


def _fail(request, exc: DomainError):
    messages.error(request, str(exc.message))


# --- placing an order -----------------------------------------------------------------------------

@login_required
def order_new(request, listing_id):
    listing = listing_for_viewer(pk=listing_id, user=request.user)  # drafts are 404 to other organizations
    buyer_org = active_organization(request.user)
    live = listing.orders.filter(state__in=LIVE_STATES).first()
    if live and is_member(request.user, live.buyer_org):
        return redirect(live)
    form = PlaceOrderForm(request.POST or None)
    problem = ""
    if buyer_org is None:
        problem = _("Join or register an organization in your account before ordering.")
    elif listing.seller_org_id == buyer_org.pk:
        problem = _("You cannot buy a listing of your own organization.")
    elif listing.state != Listing.State.PUBLISHED:
        problem = _("Someone else ordered this a moment ago.") if listing.state == Listing.State.RESERVED \
            else _("All %(n)s licences of this listing are taken.") % {"n": listing.licence_cap} \
            if listing.state == Listing.State.SOLD_OUT else _("This listing is not for sale right now.")
    elif encumbered := conflicting_encumbrances(listing):
        problem = " ".join(str(m) for m in encumbered)
    elif (hold := ask("listing.sale_hold", listing=listing, via="")) is not None:
        problem = str(hold.message)  # e.g. demand: the listing is being auctioned
    if request.method == "POST" and not problem and form.is_valid():
        try:
            order = services.order_place(listing=listing, buyer=request.user, terms_accepted=True)
        except DomainError as exc:
            _fail(request, exc)
            # a fresh copy (the state field is protected: refresh_from_db on it was a 500 for the losers)
            listing = listing_for_viewer(pk=listing_id, user=request.user)
        else:
            messages.success(request, _("Order %(ref)s placed. The seller has been asked to confirm.")
                             % {"ref": order.reference})
            return redirect(order)
    tenant = request.tenant
    quote = fees.quote_listing(listing)
    return render(request, "escrow/order_new.html", {
        "listing": listing, "quote": quote, "form": form, "problem": problem, "buyer_org": buyer_org,
        "rights": list(listing.rights.all()), "tenant": tenant,
    }, status=200)


# --- the order page -----------------------------------------------------------------------------

@login_required
def order_detail(request, reference):
    order, role = selectors.order_for_viewer(request.user, reference)
    if role == "broker":
        return render(request, "escrow/order_broker.html", {
            "order": order, "role": role, "listing": order.listing,
            "steps": selectors.timeline(order, order.disbursements.filter(
                kind=Disbursement.Kind.PAYOUT, recipient_org=order.seller_org_id).first()),
            "waiting": selectors.waiting_for(order, role),
            "broker": selectors.broker_view(order, selectors.user_org_ids(request.user)),
        })
    payout = order.disbursements.filter(kind=Disbursement.Kind.PAYOUT).first()
    pending = selectors.pending_payment(order)
    # a decision was made on the provider's page (or the buyer came back from Stripe): the outcome is on its way
    processing = bool(pending and (pending.provider_ref.startswith("submitted") or request.GET.get("paid")))
    action = selectors.viewer_action(order, role)
    providers = available_providers(request.tenant, currency=order.currency)
    dispute = selectors.open_dispute(order)
    disbursements = list(order.disbursements.select_related("recipient_org"))
    context = {
        "order": order, "role": role, "listing": order.listing,
        "steps": selectors.timeline(order, payout),
        "action": action, "waiting": selectors.waiting_for(order, role),
        "statement": ledger.order_statement(order),
        "disbursements": disbursements,
        "seller_money": selectors.seller_money(order, disbursements),
        "payments": list(order.payments.all()),
        "events": list(audit_trail(order)),
        "dispute": dispute,
        "can_answer": bool(dispute and role in ("buyer", "seller") and dispute.party != role
                           and not any(st.party == role for st in dispute.statements.all())
                           and (dispute.answer_due is None or dispute.answer_due > timezone.now())),
        "disputes": list(order.disputes.all()),
        "pending_payment": pending, "processing": processing,
        "pay_form": PayForm(providers=providers),
        "reason_form": ReasonForm(), "dispute_form": DisputeForm(),
        "can_dispute": role in ("buyer", "seller") and order.state in DISPUTABLE_STATES,
        "can_cancel": role == "buyer" and order.state in ("placed", "seller_confirmed"),
        "can_decline": role == "seller" and order.state == "placed",
    }
    return render(request, "escrow/order_detail.html", context)


@login_required
@require_POST
def stripe_connect(request, org_pk):
    """Organization page button: start or resume Stripe Connect onboarding (managers only)."""
    from accounts.models import Membership

    from .payments.stripe_provider import StripeProvider

    membership = Membership.objects.filter(user=request.user, organization_id=org_pk, is_admin=True) \
        .select_related("organization").first()
    if membership is None:
        raise Http404
    provider = StripeProvider()
    back = f"/account/organizations/{org_pk}/"
    if not provider.available(request.tenant):
        messages.error(request, _("This exchange does not take card payments through Stripe."))
        return redirect(back)
    try:
        url = provider.connect_onboarding_url(
            membership.organization, email=request.user.email,
            return_url=request.build_absolute_uri(back + "?stripe=return"),
            refresh_url=request.build_absolute_uri(back + "?stripe=refresh"))
    except DomainError as exc:
        _fail(request, exc)
        return redirect(back)
    return redirect(url)


@login_required
def order_statement(request, reference, fmt):
    """The party's money statement of one order as CSV or PDF."""
    from django.http import HttpResponse

    from .statements import statement_csv, statement_pdf

    order, role = selectors.order_for_viewer(request.user, reference)
    if role not in ("buyer", "seller") or fmt not in ("csv", "pdf"):
        raise Http404
    if fmt == "csv":
        response = HttpResponse(statement_csv(order, role), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(statement_pdf(order, role), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{order.reference}-statement-{role}.{fmt}"'
    return response


@login_required
def order_confirm_release(request, reference):
    """The summary before the buyer confirms the certificate: how much the seller receives, which
    organization, to which account, and that it cannot be undone. The form posts to order_act with the
    amount shown, which the service checks."""
    order, role = selectors.order_for_viewer(request.user, reference)
    if role != "buyer" or order.state != "transfer_approved":
        messages.error(request, _("There is nothing to confirm on this order now."))
        return redirect(order)
    payment = order_payment(order)
    destination = payout_destination(order.seller_org, payment.provider if payment else "")
    return render(request, "escrow/confirm_release.html", {
        "order": order, "destination": destination, "payment": payment,
    })


@login_required
@require_POST
def order_act(request, reference, action):
    order, role = selectors.order_for_viewer(request.user, reference)
    user = request.user
    try:
        if action == "confirm":
            services.order_seller_confirm(order=order, actor=user)
            messages.success(request, _("Order confirmed. The buyer has been asked to pay."))
        elif action == "decline":
            form = ReasonForm(request.POST)
            form.is_valid()
            services.order_seller_decline(order=order, actor=user, reason=form.cleaned_data.get("reason", ""))
            messages.success(request, _("Order declined; the listing is published again."))
        elif action == "cancel":
            form = ReasonForm(request.POST)
            form.is_valid()
            services.order_buyer_cancel(order=order, actor=user, reason=form.cleaned_data.get("reason", ""))
            messages.success(request, _("Order cancelled."))
        elif action == "certificate":
            if request.POST.get("confirmed") != "1" or not request.POST.get("understood"):  # irreversible: summary first
                return redirect("escrow:order_confirm_release", order.reference)
            try:
                expected = int(request.POST.get("expected_amount_minor", ""))
            except ValueError:
                return redirect("escrow:order_confirm_release", order.reference)
            services.order_confirm_certificate(order=order, actor=user, expected_amount_minor=expected)
            messages.success(request, _("Thank you. The trade is complete and the seller is being paid."))
        elif action == "dispute":
            form = DisputeForm(request.POST, request.FILES)
            if not form.is_valid():
                for errors in form.errors.values():
                    for error in errors:
                        messages.error(request, error)
                return redirect(order)
            services.order_dispute_open(order=order, actor=user, reason=form.cleaned_data["reason"],
                                        files=form.cleaned_data["files"])
            messages.success(request, _("Dispute opened. The other side is asked for its answer; escrow staff "
                                        "decide after hearing both. The payment stays held."))
        elif action == "answer":
            files = request.FILES.getlist("files")
            services.order_dispute_answer(order=order, actor=user, statement=request.POST.get("statement", ""),
                                          files=files)
            messages.success(request, _("Your answer is with escrow staff; both sides are now heard."))
        else:
            raise Http404
    except DomainError as exc:
        _fail(request, exc)
    return redirect(order)


# --- paying -------------------------------------------------------------------------------------

@login_required
@require_POST
def order_pay(request, reference):
    order, role = selectors.order_for_viewer(request.user, reference)
    form = PayForm(request.POST, providers=available_providers(request.tenant, currency=order.currency))
    if not form.is_valid():
        messages.error(request, _("Choose a payment method."))
        return redirect(order)
    try:
        payment = services.payment_start(order=order, actor=request.user, provider=form.cleaned_data["provider"])
        url = get_provider(payment.provider).checkout_url(payment, request=request)
    except DomainError as exc:
        _fail(request, exc)
        return redirect(order)
    return redirect(url)


def _payment_for_payer(request, reference) -> Payment:
    payment_ref = request.GET.get("payment") or request.POST.get("payment") or reference
    if "\x00" in payment_ref:  # PostgreSQL rejects NUL in a text literal: a 404, not a 500
        raise Http404
    payment = (Payment.objects.select_related("order", "listing", "payer_org", "deposit")
               .filter(reference=payment_ref).first())
    if payment is None or not is_member(request.user, payment.payer_org):
        raise Http404
    if payment.order_id and payment.order.reference != reference:
        raise Http404
    return payment


def _back(payment):
    if payment.order_id:
        return payment.order.get_absolute_url()
    if payment.deposit_id:
        return payment.deposit.back_url or "/"
    return f"/sell/listings/{payment.listing_id}/"


@login_required
def pay_simulated(request, reference):
    """The simulated provider's own payment page: approve or decline. The outcome reaches the order
    asynchronously through the webhook path (a task delivers the signed event)."""
    payment = _payment_for_payer(request, reference)
    if payment.provider != "simulated" or not get_provider("simulated").available():
        raise Http404
    if request.method == "POST":
        if payment.state != Payment.State.PENDING or payment.provider_ref.startswith("submitted"):
            messages.info(request, _("This payment was already submitted."))
            return redirect(_back(payment))
        approved = request.POST.get("decision") == "approve"
        with transaction.atomic():
            locked = Payment.objects.select_for_update(of=("self",)).get(pk=payment.pk)
            locked.provider_ref = "submitted:" + ("approve" if approved else "decline")
            locked.submitted_at = timezone.now()
            locked.save(update_fields=["provider_ref", "submitted_at"])
            enqueue("escrow.tasks.simulated_deliver", body=build_event(locked, approved=approved),
                    tenant_id=locked.tenant_id)
        if approved:
            messages.success(request, _("Payment submitted. The provider is confirming it; this page updates by itself."))
        else:
            messages.warning(request, _("You declined the payment. You can pay again before the deadline."))
        return redirect(_back(payment))
    return render(request, "escrow/pay_simulated.html", {"payment": payment, "order": payment.order,
                                                         "deposit": payment.deposit,
                                                         "listing": payment.order.listing if payment.order_id
                                                         else payment.listing})


@login_required
def pay_bank(request, reference):
    payment = _payment_for_payer(request, reference)
    if payment.provider != "bank_transfer":
        raise Http404
    return render(request, "escrow/pay_bank.html", {"payment": payment, "order": payment.order,
                                                    "deposit": payment.deposit, "back": _back(payment),
                                                    "bank": bank_details(request.tenant, payment.currency)})


@login_required
@require_POST
def margin_pay(request, listing_id):
    listing = get_object_or_404(Listing, pk=listing_id)
    providers = available_providers(request.tenant)
    form = PayForm(request.POST, providers=providers)
    provider = form.cleaned_data["provider"] if form.is_valid() else "simulated"
    try:
        payment = services.margin_pay_start(listing=listing, actor=request.user, provider=provider)
        url = get_provider(payment.provider).checkout_url(payment, request=request)
    except DomainError as exc:
        _fail(request, exc)
        return redirect(f"/sell/listings/{listing.pk}/")
    return redirect(url)


# --- dashboards ---------------------------------------------------------------------------------

@login_required
def order_list(request):
    data = selectors.dashboard(request.user)
    data["show_selling"] = bool(data["sold"]) or has_role(request.user, Role.SELLER)
    data["show_buying"] = bool(data["bought"]) or not data["show_selling"]
    return render(request, "escrow/order_list.html", data)


# --- webhooks -----------------------------------------------------------------------------------

@csrf_exempt
@require_POST
def webhook(request, provider):
    status, body = handle(provider, request.body, request.headers)
    return JsonResponse(body, status=status)
