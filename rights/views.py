"""The holder's portfolio on the website: the page (filters, totals, charts, deadlines), the import
with its progress bar, exports, the private calendar feed, and one click to list a right for sale."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import active_organization
from core.errors import DomainError, ValidationFailed
from core.permissions import is_member

from . import portfolio as pf
from .models import (
    Alert,
    CalendarFeed,
    Holding,
    Jurisdiction,
    LegalStatus,
    PortfolioImport,
    RegisterRecord,
    RightKind,
)


def _org(request):
    org = active_organization(request.user)
    if org is None:
        raise Http404
    return org


def _filters(request) -> pf.PortfolioFilters:
    year = request.GET.get("expiry_year", "")
    return pf.PortfolioFilters(
        kind=request.GET.get("kind", "") if request.GET.get("kind") in RightKind.values else "",
        jurisdiction=request.GET.get("jurisdiction", "") if request.GET.get("jurisdiction") in Jurisdiction.values
        else "",
        status=request.GET.get("status", "") if request.GET.get("status") in LegalStatus.values else "",
        expiry_year=int(year) if year.isdigit() and 1900 < int(year) < 2200 else None,
        sort=request.GET.get("sort", "expiry"))


def _listed(org):
    """Rights of this organization that are in a live listing: {record id: listing id}. listings owns
    listings and answers (rights never imports it)."""
    from core.events import ask

    return ask("rights.listed_records", organization=org)


@login_required
def portfolio_page(request):
    org = _org(request)
    page = request.GET.get("page", "1")
    view = pf.portfolio(org, _filters(request), listed_record_ids=_listed(org),
                        page=int(page) if page.isdigit() and len(page) < 7 else 1)
    from .alerts import member_alerts

    alerts, unread_alerts = member_alerts(user=request.user, organization=org, limit=20)
    charts = {
        "remaining": mark_safe(pf.bar_chart_svg(view.by_remaining)),  # noqa: S308 (numbers and escaped labels)
        "status": mark_safe(pf.bar_chart_svg([  # noqa: S308 (numbers and escaped labels)
            (LegalStatus(s).label if s in LegalStatus.values else "—", n) for s, n in sorted(view.by_status.items())])),
        "fees": {currency: mark_safe(pf.bar_chart_svg([(y, round(amounts.get(currency, 0) / 100))  # noqa: S308
                                                         for y, amounts in view.fees_by_year], unit=f" {currency}"))
                 for currency in sorted({c for _y, a in view.fees_by_year for c in a})},
    }
    return render(request, "rights/portfolio.html", {
        "org": org, "view": view, "alerts": alerts, "unread_alerts": unread_alerts,
        "alerts_through": max((a.pk for a in alerts), default=0), "charts": charts, "filters": _filters(request),
        "kinds": RightKind.choices, "jurisdictions": Jurisdiction.choices, "statuses": LegalStatus.choices,
        "imports": PortfolioImport.objects.filter(organization=org).only("id", "status", "processed", "total",
                                                                         "created_at", "source_name")[:3],
        "feed": CalendarFeed.objects.filter(organization=org).first(),
    })


MAX_SEARCH_RESULTS = 100


@login_required
def portfolio_import(request):
    """Bring in rights: a file or pasted numbers, or a search of the register by owner/applicant name
    whose results the holder picks. Either way the worker imports them (`start_import`)."""
    from .registry import get_register

    org = _org(request)
    error = search_error = ""
    owner = request.GET.get("owner", "").strip()[:200]
    jurisdiction = request.GET.get("jurisdiction", "") if request.GET.get("jurisdiction") in Jurisdiction.values else ""
    results = []
    if request.method == "POST":
        try:
            if "record" in request.POST:  # picked from the search results
                ids = [int(v) for v in request.POST.getlist("record") if v.isdigit() and len(v) < 12]
                records = list(RegisterRecord.objects.filter(pk__in=ids[:pf.MAX_RIGHTS], awaiting_verification=False)
                               .order_by("jurisdiction", "number").only("jurisdiction", "number"))
                if not records:
                    raise ValidationFailed(_("Pick at least one right from the results."))
                numbers, source = [f"{r.jurisdiction} {r.number}" for r in records], _("register search")
            else:
                numbers = pf.read_numbers(upload=request.FILES.get("file"), text=request.POST.get("numbers", ""))
                source = getattr(request.FILES.get("file"), "name", "") or _("pasted list")
            job = pf.start_import(actor=request.user, organization=org, numbers=numbers, source_name=source)
        except DomainError as exc:
            error = exc.message
        else:
            return redirect("rights:import_status", pk=job.pk)
    elif owner:
        if len(owner) < 2:
            search_error = _("Type at least two characters of the name.")
        else:
            try:
                results = get_register().search_owner(name=owner, jurisdiction=jurisdiction or None,
                                                      limit=MAX_SEARCH_RESULTS)
            except DomainError as exc:
                search_error = exc.message
    held = set(Holding.objects.filter(organization=org, ended_at__isnull=True, record__in=[r.pk for r in results])
               .values_list("record_id", flat=True)) if results else set()
    return render(request, "rights/import.html", {
        "org": org, "error": error, "owner": owner, "jurisdiction": jurisdiction, "jurisdictions": Jurisdiction.choices,
        "results": [(r, r.pk in held) for r in results], "search_error": search_error, "searched": bool(owner),
        "max_results": MAX_SEARCH_RESULTS})


def _job(request, pk):
    job = PortfolioImport.objects.filter(pk=pk).first()
    if job is None or not is_member(request.user, job.organization):
        raise Http404
    return job


@login_required
def import_status(request, pk):
    job = _job(request, pk)
    template = "rights/_import_progress.html" if request.headers.get("HX-Request") else "rights/import_status.html"
    return render(request, template, {"job": job})


@login_required
def portfolio_export(request, fmt):
    org = _org(request)
    if fmt == "xlsx":
        response = HttpResponse(pf.export_xlsx(org, _filters(request)),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        response = HttpResponse(pf.export_csv(org, _filters(request)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="portfolio.{"xlsx" if fmt == "xlsx" else "csv"}"'
    return response


@login_required
@require_POST
def calendar_subscribe(request):
    org = _org(request)
    pf.calendar_feed_for(org, renew=request.POST.get("renew") == "1")
    messages.success(request, _("Your calendar address is ready: add it to your calendar application."))
    return redirect("rights:portfolio")


def calendar_feed(request, token):
    """Public by its secret token only (calendar applications cannot log in)."""
    feed = CalendarFeed.objects.filter(token=token).select_related("organization").first()
    if feed is None:
        raise Http404
    return HttpResponse(pf.calendar_ics(feed.organization, name=f"{feed.organization.legal_name} · ipex"),
                        content_type="text/calendar; charset=utf-8")


@login_required
def sell_from_portfolio(request, pk):
    """One click to market: the listing wizard pre-filled with this right (or its live listing)."""
    org = _org(request)
    holding = Holding.objects.filter(pk=pk, organization=org, ended_at__isnull=True).first()
    if holding is None:
        raise Http404
    listing_id = _listed(org).get(holding.record_id)
    if listing_id:
        return redirect(f"/sell/listings/{listing_id}/")
    return redirect(f"/sell/?record={holding.record_id}")


MAX_SELECTION = 50


@login_required
def sell_selection(request):
    """One click to market for a selection: the wizard pre-filled with the chosen rights as one package.
    Rights already in a live listing are left out (and named); none chosen, or only listed ones, says so."""
    org = _org(request)
    ids = [int(v) for v in request.GET.getlist("holding") if v.isdigit() and len(v) < 12][:MAX_SELECTION + 1]
    if len(ids) > MAX_SELECTION:
        messages.error(request, _("Choose at most %(n)s rights for one listing.") % {"n": MAX_SELECTION})
        return redirect("rights:portfolio")
    holdings = list(Holding.objects.filter(pk__in=ids, organization=org, ended_at__isnull=True)
                    .select_related("record").order_by("id"))
    listed = _listed(org)
    free = [h for h in holdings if h.record_id not in listed]
    already = [h for h in holdings if h.record_id in listed]
    if already:
        messages.info(request, _("Already listed, left out: %(numbers)s") % {
            "numbers": ", ".join(f"{h.record.jurisdiction} {h.record.number}" for h in already)})
    if not free:
        if not already:
            messages.error(request, _("Choose the rights to list first."))
        return redirect("rights:portfolio")
    return redirect("/sell/?" + "&".join(f"record={h.record_id}" for h in free))


@login_required
def alert_settings(request):
    """A member chooses which alerts of the organization's rights they get, and how by e-mail."""
    from .alerts import alert_preference_set
    from .models import AlertPreference

    org = _org(request)
    pref = AlertPreference.objects.filter(user=request.user, organization=org).first()
    error = ""
    if request.method == "POST":
        try:
            alert_preference_set(actor=request.user, organization=org, kinds=request.POST.getlist("kinds"),
                                 email=request.POST.get("email", ""))
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("Your alert settings are saved."))
            return redirect("rights:alert_settings")
    chosen = set(pref.kinds) if pref and pref.kinds else set(Alert.Kind.values)
    return render(request, "rights/alert_settings.html", {
        "org": org, "error": error, "kinds": [(v, label, v in chosen) for v, label in Alert.Kind.choices],
        "emails": AlertPreference.Email.choices, "email": pref.email if pref else AlertPreference.Email.URGENT})


@login_required
@require_POST
def alert_read(request, pk):
    """This member has read this alert (their own read state: other members still see it as new)."""
    from .alerts import alert_mark_read

    org = _org(request)
    try:
        found = alert_mark_read(actor=request.user, organization=org, alert_id=pk)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("rights:portfolio")
    if not found:
        raise Http404
    return redirect(reverse("rights:portfolio") + "#alerts")


@login_required
@require_POST
def alerts_read_all(request):
    """Every alert up to the newest this member has seen on the page is read (for this member)."""
    from .alerts import alerts_mark_all_read

    org = _org(request)
    through = request.POST.get("through", "")
    try:
        alerts_mark_all_read(actor=request.user, organization=org,
                             through=int(through) if through.isdigit() and len(through) < 19 else None)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("rights:portfolio") + "#alerts")
