"""The seller's side: the listing wizard (type a number → register record → price and terms → preview →
submit), "My listings", edit/resubmit and withdraw."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import active_organization, seller_blockers
from core.errors import DomainError
from core.fees import seller_commission_minor, seller_margin_minor
from core.permissions import is_member
from core.uploads import DOCUMENTS, validate_upload
from rights.registry import get_register
from rights.routes import EP_STATES

from .. import services
from ..forms import ByHandForm, ListingForm, LookupForm
from ..models import Listing, RegisterRecord
from ..selectors import seller_listings, similar_marks_not_in_package, verification_checklist


def _entered_by(org, ids):
    """Records this organization entered by hand (awaiting verification) or already in the register."""
    records = _records_from(ids)
    return [r for r in records if not r.awaiting_verification or (r.raw or {}).get("organization") == org.pk]


def _records_from(ids):
    clean = []
    for value in ids:
        try:
            pk = int(value)
        except (TypeError, ValueError):
            continue
        if pk not in clean:
            clean.append(pk)
    by_id = RegisterRecord.objects.in_bulk(clean)
    return [by_id[pk] for pk in clean if pk in by_id]


def _seller_listing(request, pk):
    listing = Listing.objects.select_related("seller_org").filter(pk=pk).first()
    if listing is None or not is_member(request.user, listing.seller_org):
        raise Http404
    return listing


def _owner_note(record, org):
    from ..selectors import owner_matches

    return None if owner_matches(record.owner_name, org) else _(
        "The register names %(owner)s as owner, not %(org)s: the exchange will only approve rights your "
        "organization owns of record.") % {"owner": record.owner_name, "org": org.legal_name}


def _card_context(records, org):
    return [{"record": r, "owner_note": _owner_note(r, org)} for r in records]


def _wizard(request, *, listing=None):
    org = listing.seller_org if listing else active_organization(request.user)
    blockers = seller_blockers(request.user, org)
    if blockers:
        return render(request, "listings/sell/blocked.html", {"blockers": blockers, "org": org})
    currency = request.tenant.currency
    lookup_form = LookupForm(request.POST or None) if request.method == "POST" else LookupForm()
    if request.method == "POST":
        action = request.POST.get("action", "save")
        records = _records_from(request.POST.getlist("record"))
        if action.startswith("remove-"):
            records = [r for r in records if str(r.pk) != action[7:]]
        lookup_error = ""
        if action == "lookup":  # without JavaScript: look up, then show the form again
            try:
                result = get_register().lookup(request.POST.get("number", ""), jurisdiction=request.POST.get(
                    "jurisdiction") or None, kind=request.POST.get("kind") or None)
            except DomainError as exc:  # the office's register is down: say so, offer entry by hand
                lookup_error = exc.message
            else:
                if result.found and result.record not in records:
                    records.append(result.record)
                lookup_error = result.error
        if action != "save":
            initial = {k: request.POST.get(k, "") for k in ListingForm.base_fields}
            if not initial.get("title") and records:
                initial["title"] = records[0].title
            form = ListingForm(initial=initial, currency=currency)
            return _render_wizard(request, form, lookup_form, records, org, listing, lookup_error=lookup_error)
        form = ListingForm(request.POST, currency=currency)
        certificates = {}
        file_errors = []
        for record in records:
            upload = request.FILES.get(f"certificate_{record.pk}")
            if upload:
                try:
                    validate_upload(upload, allowed=DOCUMENTS)
                    certificates[record.pk] = upload
                except ValidationError as exc:
                    file_errors.append(f"{record.jurisdiction} {record.number}: {exc.messages[0]}")
        if not records:
            file_errors.insert(0, _("Add at least one right: type its number and press “Look up”."))
        if form.is_valid() and not file_errors:
            try:
                if listing is None:
                    listing = services.listing_create_from_register(
                        actor=request.user, organization=org, records=records, data=form.to_input())
                else:
                    listing = services.listing_update(listing=listing, actor=request.user, data=form.to_input(),
                                                      records=records)
                for right in listing.rights.all():
                    if right.register_record_id in certificates:
                        services.listing_attach_certificate(right=right, actor=request.user,
                                                            file=certificates[right.register_record_id])
            except DomainError as exc:
                for field, errors in exc.field_errors.items():
                    if field in form.fields:
                        for error in errors:
                            form.add_error(field, error)
                file_errors.append(exc.message)
            else:
                messages.success(request, _("Draft saved. Check the preview, then submit it for verification."))
                return redirect("listings:sell_listing", pk=listing.pk)
        return _render_wizard(request, form, lookup_form, records, org, listing, errors=file_errors)
    if listing is not None:
        form = ListingForm(initial=ListingForm.initial_for(listing), currency=currency)
        records = [r.register_record for r in listing.rights.select_related("register_record") if r.register_record]
    else:
        form = ListingForm(currency=currency)
        records = []
        entered = _entered_by(org, request.GET.getlist("record"))
        if entered:  # back from entering a right by hand
            records = entered
            form = ListingForm(initial={"title": entered[0].title}, currency=currency)
        elif request.GET.get("number"):
            lookup_form = LookupForm(request.GET)
            try:
                result = get_register().lookup(request.GET["number"])
            except DomainError as exc:
                return _render_wizard(request, form, lookup_form, records, org, listing, lookup_error=exc.message)
            if result.found:
                records = [result.record]
                form = ListingForm(initial={"title": result.record.title}, currency=currency)
            else:
                return _render_wizard(request, form, lookup_form, records, org, listing, lookup_error=result.error)
    return _render_wizard(request, form, lookup_form, records, org, listing)


def _render_wizard(request, form, lookup_form, records, org, listing, *, lookup_error="", errors=()):
    return render(request, "listings/sell/wizard.html", {
        "form": form, "lookup_form": lookup_form, "cards": _card_context(records, org), "org": org,
        "listing": listing, "lookup_error": lookup_error, "errors": errors,
        "similar": similar_marks_not_in_package(records=records), "currency": request.tenant.currency,
    })


@login_required
def sell_new(request):
    return _wizard(request)


@login_required
def sell_by_hand(request):
    """Enter a right from its certificate (CN copyrights have no public register; any CN right the
    register cannot find): validated, then added to a new draft where the seller attaches the scan."""
    from rights.services import record_from_certificate

    org = active_organization(request.user)
    blockers = seller_blockers(request.user, org)
    if blockers:
        return render(request, "listings/sell/blocked.html", {"blockers": blockers, "org": org})
    form = ByHandForm(request.POST or None, initial={"kind": request.GET.get("kind") or "software_copyright",
                                                     "number": request.GET.get("number", ""),
                                                     "owner_name": org.legal_name if org else ""})
    if request.method == "POST" and form.is_valid():
        try:
            record = record_from_certificate(actor=request.user, organization=org, data=form.cleaned_data)
        except DomainError as exc:
            for field, errors in exc.field_errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, _("Attach the certificate scan, set the price and save: the verifier checks the "
                                        "certificate before the listing is published."))
            return redirect(f"/sell/?record={record.pk}")
    return render(request, "listings/sell/by_hand.html", {"form": form, "org": org})


@login_required
def sell_edit(request, pk):
    listing = _seller_listing(request, pk)
    if listing.state not in services.EDITABLE_STATES:
        messages.error(request, _("Only drafts and rejected listings can be changed."))
        return redirect("listings:sell_listing", pk=pk)
    return _wizard(request, listing=listing)


@login_required
def sell_lookup(request):
    """htmx: look a number up in the register and answer with a card for the package (or the problem)."""
    org = active_organization(request.user)
    existing = _records_from(request.GET.getlist("record"))
    try:
        result = get_register().lookup(request.GET.get("number", ""),
                                       jurisdiction=request.GET.get("jurisdiction") or None,
                                       kind=request.GET.get("kind") or None)
    except DomainError as exc:  # the office's register is down or not configured
        response = render(request, "listings/sell/_lookup_error.html", {"error": exc.message, "by_hand": True})
        response["HX-Retarget"] = "#lookup-result"
        response["HX-Reswap"] = "innerHTML"
        return response
    if not result.found:
        response = render(request, "listings/sell/_lookup_error.html", {"error": result.error, "by_hand": True})
        response["HX-Retarget"] = "#lookup-result"
        response["HX-Reswap"] = "innerHTML"
        return response
    if result.record in existing:
        response = render(request, "listings/sell/_lookup_error.html",
                          {"error": _("%(number)s is already in the package.") % {"number": result.best.display}})
        response["HX-Retarget"] = "#lookup-result"
        response["HX-Reswap"] = "innerHTML"
        return response
    records = existing + [result.record]
    return render(request, "listings/sell/_lookup_ok.html", {
        "card": _card_context([result.record], org)[0] if org else {"record": result.record},
        "parsed": result.best, "similar": similar_marks_not_in_package(records=records),
    })


MINE_PER_PAGE = 50


@login_required
def sell_mine(request):
    """The organization's listings, most recently changed first, MINE_PER_PAGE a page: one more row is read
    to know whether a next page exists (no COUNT over an exchange-sized seller's listings); served by
    listing_seller_recent_idx."""
    org = active_organization(request.user)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    start = (page - 1) * MINE_PER_PAGE
    # The rights as a plain list per row (to_attr): `l.rights.all` in the template built a tenant-filtered
    # queryset per row just to return the prefetched rows (~14 % of the page in a profile).
    listings = list(seller_listings(org).prefetch_related(None).prefetch_related(
        Prefetch("rights", to_attr="rights_list"))[start:start + MINE_PER_PAGE + 1]) if org else []
    has_next = len(listings) > MINE_PER_PAGE
    return render(request, "listings/sell/mine.html", {
        "org": org, "listings": listings[:MINE_PER_PAGE], "blockers": seller_blockers(request.user, org),
        "page": page, "has_next": has_next, "has_previous": page > 1})


@login_required
def sell_listing(request, pk):
    listing = _seller_listing(request, pk)
    rights = list(listing.rights.select_related("register_record"))
    records = [r.register_record for r in rights if r.register_record]
    commission = seller_commission_minor(tenant=request.tenant, price_minor=listing.price_minor,
                                         currency=listing.currency)
    proceeds = {"commission": commission, "net": listing.price_minor - commission,
                "percent": f"{request.tenant.seller_commission_bps / 100:g}",
                "minimum": int(request.tenant.min_fee_minor or 0),
                "margin": seller_margin_minor(tenant=request.tenant, price_minor=listing.price_minor,
                                              currency=listing.currency)}
    editable = listing.state in services.EDITABLE_STATES
    # Granted European patents: the seller names the validation states whose offices record the transfer.
    route_rights = [{"right": r, "named": r.filing_route.replace(" ", "").split(","), "missing": services.needs_filing_route(r)}
                    for r in rights if editable and r.jurisdiction == "EP" and r.kind == "invention"
                    and r.legal_status != "pending"]
    return render(request, "listings/sell/listing.html", {
        "listing": listing, "rights": rights, "checklist": verification_checklist(listing), "proceeds": proceeds,
        "route_rights": route_rights, "ep_states": sorted(EP_STATES.items(), key=lambda item: str(item[1])),
        "similar": similar_marks_not_in_package(records=records),
        "editable": listing.state in services.EDITABLE_STATES,
        "can_submit": listing.state in services.EDITABLE_STATES,
        "can_withdraw": listing.state in (Listing.State.DRAFT, Listing.State.SUBMITTED, Listing.State.REJECTED,
                                          Listing.State.AWAITING_MARGIN, Listing.State.PUBLISHED),
    })


@login_required
@require_POST
def sell_filing_route(request, pk, right_pk):
    listing = _seller_listing(request, pk)
    right = listing.rights.filter(pk=right_pk).first()
    if right is None:
        raise Http404
    try:
        right = services.listing_name_filing_route(right=right, actor=request.user,
                                                   route=", ".join(request.POST.getlist("states")))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Saved: the transfer of %(number)s will be recorded in %(states)s.") % {
            "number": f"{right.jurisdiction} {right.number}", "states": right.filing_route})
    return redirect("listings:sell_listing", pk=pk)


@login_required
@require_POST
def sell_submit(request, pk):
    listing = _seller_listing(request, pk)
    try:
        services.listing_submit(listing=listing, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Submitted. The exchange's verifiers check it against the register; you will be "
                                    "told the outcome."))
    return redirect("listings:sell_listing", pk=pk)


@login_required
@require_POST
def sell_withdraw(request, pk):
    listing = _seller_listing(request, pk)
    try:
        services.listing_withdraw(listing=listing, actor=request.user, reason=request.POST.get("reason", "")[:500])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The listing is withdrawn."))
    return redirect("listings:sell_mine")
