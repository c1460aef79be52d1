"""Cache helpers: a Redis backend that fails soft, and short-lived cached values.

With REDIS_URL set the default cache is Redis (settings.base). A Redis outage must not turn pages
into 500s: reads answer "not cached" and writes are skipped (logged once a minute), so throttling
lets requests through, cached_db sessions fall back to the database, cached counts are recomputed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)
_last_warning = [0.0]


def _warn(exc: Exception) -> None:
    if time.monotonic() - _last_warning[0] > 60:
        _last_warning[0] = time.monotonic()
        logger.warning("cache unavailable, carrying on without it: %s", exc)


def _soft(default: Any = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        def inner(self: Any, *args: Any, **kwargs: Any) -> Any:
            from redis.exceptions import RedisError

            try:
                return method(self, *args, **kwargs)
            except (RedisError, OSError) as exc:
                _warn(exc)
                return default() if callable(default) else default

        inner.__name__ = method.__name__
        return inner

    return wrap


class FailSoftRedisCache(RedisCache):
    get = _soft()(RedisCache.get)
    get_many = _soft(dict)(RedisCache.get_many)
    has_key = _soft(False)(RedisCache.has_key)
    set = _soft()(RedisCache.set)
    add = _soft(False)(RedisCache.add)
    touch = _soft(False)(RedisCache.touch)
    set_many = _soft(list)(RedisCache.set_many)
    delete = _soft(False)(RedisCache.delete)
    delete_many = _soft()(RedisCache.delete_many)
    incr = _soft(0)(RedisCache.incr)
    clear = _soft()(RedisCache.clear)


def cached(key: str, compute: Callable[[], Any], *, timeout: int) -> Any:
    """`compute()` cached under `key` for `timeout` seconds (for estimates and counts that may be a little
    stale: the home page's counts, search suggestions)."""
    if timeout <= 0:
        return compute()
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout)
    return value


def _redis_for(name: str) -> tuple[Any, str] | None:
    """(redis client, full key) when the default cache is Redis, else None."""
    from django.core.cache import caches

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    key = backend.make_key(name)
    client = backend._cache  # type: ignore[attr-defined]  # Django's RedisCacheClient (private, stable since 4.0)
    return client.get_client(key, write=True), key


def counter_add(name: str, member: int | str, amount: int = 1) -> bool:
    """Add `amount` to `member` of the counter hash `name` in Redis (one HINCRBY, no database write).
    False when the cache is not Redis or Redis is down: the caller then writes the figure itself."""
    from redis.exceptions import RedisError

    target = _redis_for(name)
    if target is None:
        return False
    client, key = target
    try:
        client.hincrby(key, str(member), amount)
    except (RedisError, OSError) as exc:
        _warn(exc)
        return False
    return True


def counter_drain(name: str) -> dict[str, int]:
    """Take every member of the counter hash `name` and reset it, atomically (RENAME, then read): an
    increment during the drain lands in a new hash, counted next time. {} when there is nothing."""
    import uuid

    from redis.exceptions import RedisError, ResponseError

    target = _redis_for(name)
    if target is None:
        return {}
    client, key = target
    draining = f"{key}:draining:{uuid.uuid4().hex}"
    try:
        client.rename(key, draining)
    except ResponseError:  # no such key: nothing counted
        return {}
    except (RedisError, OSError) as exc:
        _warn(exc)
        return {}
    values = client.hgetall(draining)
    client.delete(draining)
    return {k.decode() if isinstance(k, bytes) else str(k): int(v) for k, v in values.items()}


# name → [window, slots granted to this process, slots used, all slots given out] (see window_take)
_leases: dict[str, list[int]] = {}


def window_take(name: str, seconds: int, limit: int) -> bool | None:
    """Take one of `limit` slots of the current fixed window of `seconds` for `name`, shared by every
    process through one Redis counter. A process reserves its slots in leases (INCRBY, one pipelined
    round trip per lease of up to 10 slots, 1 for limits under 200), so a busy caller costs a round trip
    per lease, not per request; a process may refuse up to a lease's worth early while another holds
    unused slots. None when the cache is not Redis or Redis is down (the caller decides)."""
    from redis.exceptions import RedisError

    window = int(time.time() // seconds)
    lease = _leases.get(name)
    if lease is not None and lease[0] == window and lease[2] >= lease[1] and lease[3]:
        return False  # the window's slots are all given out: no call to Redis until the next window
    if lease is None or lease[0] != window or lease[2] >= lease[1]:
        size = max(1, min(10, limit // 100))
        target = _redis_for(f"{name}:{window}")
        if target is None:
            return None
        client, key = target
        try:
            pipe = client.pipeline(transaction=False)
            pipe.incrby(key, size)
            pipe.expire(key, seconds + 1)
            total, _expiry = pipe.execute()
        except (RedisError, OSError) as exc:
            _warn(exc)
            return None
        if len(_leases) > 10_000:
            _leases.clear()
        total = int(total)
        lease = _leases[name] = [window, max(0, min(total, limit) - (total - size)), 0, int(total >= limit)]
    if lease[2] >= lease[1]:
        return False
    lease[2] += 1
    return True
