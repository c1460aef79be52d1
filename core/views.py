"""The notification inbox: every signed-in person's list of what they were told."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from .models import Notification


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    items = Notification.objects.filter(user=request.user)[:100]  # type: ignore[misc]  # login_required: a signed-in User
    return render(request, "notifications.html", {"items": items})


@login_required
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    note = get_object_or_404(Notification.objects.filter(user=request.user), pk=pk)  # type: ignore[misc]  # login_required
    if note.read_at is None:
        note.read_at = timezone.now()
        note.save(update_fields=["read_at"])
    return redirect(note.url or "notifications")


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponseRedirect:
    Notification.objects.filter(user=request.user, read_at__isnull=True)  # type: ignore[misc]  # login_required.update(read_at=timezone.now())
    return redirect("notifications")


@require_GET
def tenant_logo(request: HttpRequest) -> FileResponse:
    """The exchange's uploaded logo (public: it is on every page). Cached; the URL changes with the file."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or not tenant.logo_upload:
        raise Http404
    response = FileResponse(tenant.logo_upload.open("rb"))
    response["Cache-Control"] = "public, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    return response
