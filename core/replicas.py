"""Read replicas: public pages read from a streaming replica, everything else from the primary.

Set `DATABASE_REPLICA_URLS` (comma-separated) and each URL becomes a database alias `replica_1`, ...
(`marketplace/settings/base.py`). Then:

- Only views wrapped in `replica_reads` (the public pages: home, search, listing detail) may read from a
  replica, and only for safe methods. Everything else — writes, reads inside a transaction, sessions,
  the cache table, and every other page — uses the primary (`default`). Raw SQL of a public selector
  takes its connection from `read_connection(Model)`.
- **Read-your-writes.** A request that wrote (any POST/PUT/PATCH/DELETE, or any write through the ORM)
  gets a cookie that pins its browser to the primary for `DATABASE_REPLICA_PIN_SECONDS`. That must be
  longer than the lag bound below, so what a person wrote is on any replica they are sent to afterwards.
- **Lag bound.** Each process asks a replica for its replay lag at most every
  `DATABASE_REPLICA_CHECK_SECONDS` and skips it while the lag exceeds `DATABASE_REPLICA_MAX_LAG_SECONDS`.
- **Replica down.** A replica that cannot be reached is skipped until the next check; if it fails in the
  middle of a public page, the page is run again on the primary (the page only reads).

The per-process state here (the last health check of each replica) is a cache another process never
needs: every process finds the same answer by asking the replica itself.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router

log = logging.getLogger(__name__)

PIN_COOKIE = "ipex_primary_until"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Never read from a replica: the session (a stale one would log people out) and the database cache.
PRIMARY_ONLY_APPS = frozenset({"sessions", "django_cache"})

_replica_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_allowed", default=False)
_pinned: contextvars.ContextVar[bool] = contextvars.ContextVar("replica_pinned", default=False)
_wrote: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("replica_wrote", default=None)
_used: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("replica_used", default=None)

# SQL run on a replica: is it a standby, is it streaming from the primary (a standby cut off from its
# primary has nothing left to replay and would look fresh), and its replay lag in seconds: 0 when it has
# replayed all it received, else the age of the last replayed commit (unknown age: treated as too old).
LAG_SQL = """
SELECT pg_is_in_recovery(),
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 1e9) END
"""


def replica_aliases() -> list[str]:
    return [alias for alias in connections.settings if alias.startswith("replica_")]


@dataclass
class Health:
    checked_at: float
    up: bool
    lag: float | None = None
    error: str = ""


_health: dict[str, Health] = {}
_health_lock = threading.Lock()
_round_robin = itertools.count()


def check_replica(alias: str) -> Health:
    """Ask the replica for its lag now (and remember the answer for DATABASE_REPLICA_CHECK_SECONDS)."""
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(LAG_SQL)
            in_recovery, streaming, lag = cursor.fetchone()
        health = Health(time.monotonic(), True, float(lag))
        if not in_recovery:  # promoted or misconfigured: it is a primary of its own now, never read it
            health = Health(time.monotonic(), False, None, "not in recovery (promoted?)")
        elif not streaming:
            health = Health(time.monotonic(), False, None, "not streaming from the primary")
    except DatabaseError as exc:
        connections[alias].close()
        health = Health(time.monotonic(), False, None, str(exc).strip().splitlines()[0] if str(exc) else "error")
    with _health_lock:
        previous = _health.get(alias)
        _health[alias] = health
    if previous is None or previous.up != health.up:
        log.log(logging.INFO if health.up else logging.WARNING, "replica %s %s%s", alias,
                "up" if health.up else "down", f": {health.error}" if health.error else "")
    return health


def mark_down(alias: str, error: str) -> None:
    connections[alias].close()
    with _health_lock:
        _health[alias] = Health(time.monotonic(), False, None, error)
    log.warning("replica %s failed during a page: %s", alias, error)


def forget_health() -> None:
    with _health_lock:
        _health.clear()


def usable(alias: str) -> bool:
    with _health_lock:
        health = _health.get(alias)
    if health is None or time.monotonic() - health.checked_at >= settings.DATABASE_REPLICA_CHECK_SECONDS:
        health = check_replica(alias)
    return health.up and health.lag is not None and health.lag <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS


def choose_replica() -> str | None:
    """A usable replica for this read (round robin), or None for the primary."""
    aliases = replica_aliases()
    if not aliases:
        return None
    start = next(_round_robin)
    for i in range(len(aliases)):
        alias = aliases[(start + i) % len(aliases)]
        if usable(alias):
            return alias
    return None


class ReplicaRouter:
    """DATABASE_ROUTERS entry: reads of `replica_reads` pages to a usable replica, the rest to default."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if not _replica_allowed.get() or _pinned.get() or model._meta.app_label in PRIMARY_ONLY_APPS:
            return None
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:  # a transaction reads its own writes
            return None
        alias = choose_replica()
        used = _used.get()
        if alias and used is not None:
            used.add(alias)
        return alias

    def db_for_write(self, model: Any, **hints: Any) -> str:
        wrote = _wrote.get()
        if wrote is not None and model._meta.app_label not in PRIMARY_ONLY_APPS:
            wrote.append(model._meta.label)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # replicas are copies of the primary: every row is related as on the primary

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return not db.startswith("replica_")


@contextlib.contextmanager
def write_without_pinning() -> Iterator[None]:
    """A write nobody reads back at once (a page's view counter): it does not pin the browser to the
    primary, so a public page still sets no cookie and keeps reading the replica."""
    token = _wrote.set(None)
    try:
        yield
    finally:
        _wrote.reset(token)


def read_connection(model: Any) -> Any:
    """The connection a public selector's raw SQL should use (a replica when the router would pick one)."""
    return connections[router.db_for_read(model) or DEFAULT_DB_ALIAS]


def replica_reads(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let a public, read-only page read from a replica (safe methods only). If the replica fails during
    the page, it is marked down and the page runs again on the primary."""

    @functools.wraps(view)
    def wrapped(request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.method not in SAFE_METHODS or not replica_aliases():
            return view(request, *args, **kwargs)
        used: set[str] = set()
        tokens = (_replica_allowed.set(True), _used.set(used))
        try:
            return view(request, *args, **kwargs)
        except DatabaseError as exc:
            if not used:
                raise
            for alias in used:
                mark_down(alias, str(exc).strip().splitlines()[0] if str(exc) else type(exc).__name__)
            _replica_allowed.set(False)
            return view(request, *args, **kwargs)
        finally:
            _used.reset(tokens[1])
            _replica_allowed.reset(tokens[0])

    return wrapped


class ReplicaPinMiddleware:
    """Read-your-writes: after a request that wrote, the browser reads from the primary for
    DATABASE_REPLICA_PIN_SECONDS (a cookie, so every web process honours it)."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        if not replica_aliases():
            return self.get_response(request)
        now = time.time()
        try:
            until = float(request.COOKIES.get(PIN_COOKIE, "0"))
        except ValueError:
            until = 0.0
        # a forged far-future value only costs its sender replica reads; it is capped anyway
        pinned = now < min(until, now + settings.DATABASE_REPLICA_PIN_SECONDS)
        wrote: list[str] = []
        tokens = (_pinned.set(pinned), _wrote.set(wrote))
        try:
            response = self.get_response(request)
        finally:
            _wrote.reset(tokens[1])
            _pinned.reset(tokens[0])
        if request.method not in SAFE_METHODS or wrote:
            seconds = settings.DATABASE_REPLICA_PIN_SECONDS
            response.set_cookie(PIN_COOKIE, f"{now + seconds:.3f}", max_age=seconds, httponly=True,
                                samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
        return response
