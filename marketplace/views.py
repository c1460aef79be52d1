import time

from django.db import connection
from django.http import JsonResponse


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
