import time

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .models import Notification


def _check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok", None
    except Exception as exc:
        return "down", str(exc)[:200]


def _check_broker():
    from .celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok", None
    except Exception as exc:
        return "down", str(exc)[:200]


def healthz(request):
    started = time.monotonic()
    db, db_error = _check_database()
    broker, broker_error = _check_broker()
    ok = db == "ok" and broker == "ok"
    body = {
        "status": "ok" if ok else "degraded",
        "database": db,
        "broker": broker,
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }
    errors = {k: v for k, v in {"database": db_error, "broker": broker_error}.items() if v}
    if errors:
        body["errors"] = errors
    return JsonResponse(body, status=200 if ok else 503)


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
