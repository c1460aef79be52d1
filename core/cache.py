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
