import logging
import time

from django.db import connection
from django.http import JsonResponse

log = logging.getLogger(__name__)


def _check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok", None
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        log.warning("healthz: database down: %s", exc)
        return "down", None


def _check_broker():
    from .celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok", None
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        log.warning("healthz: broker down: %s", exc)
        return "down", None


def healthz(request):
    """200 or 503 JSON with the state of the database and the broker, for load balancers and monitors:
    no tenant needed (the tenant middleware lets it through before any query) and no internals (host,
    port, error text go to the log, not to anonymous callers)."""
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
