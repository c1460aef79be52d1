"""The notification inbox: every signed-in person's list of what they were told."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .models import Notification


@login_required
def notifications(request):
    items = Notification.objects.filter(user=request.user)[:100]
    return render(request, "notifications.html", {"items": items})


@login_required
@require_POST
def notification_open(request, pk):
    note = get_object_or_404(Notification.objects.filter(user=request.user), pk=pk)
    if note.read_at is None:
        note.read_at = timezone.now()
        note.save(update_fields=["read_at"])
    return redirect(note.url or "notifications")


@login_required
@require_POST
def notifications_read_all(request):
    Notification.objects.filter(user=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("notifications")
