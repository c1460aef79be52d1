"""A partner's burst of calls reads its key once per API_KEY_CACHE_SECONDS per process, a revoked key is
refused at once in the process that revoked it, and the Redis throttle counts one window per key."""

import os
import time
import uuid

import pytest

from partners.services import api_key_revoke
from tests.factories import api_headers, make_api_key


@pytest.fixture
def cached_keys(settings):
    from core.api import authentication

    settings.API_KEY_CACHE_SECONDS = 60
    settings.API_THROTTLE_RATE = "100000/min"
    authentication._recent.clear()
    yield
    authentication._recent.clear()


def test_a_second_call_reads_no_key(client, org, cached_keys, django_assert_num_queries):
    _key, raw = make_api_key(organization=org)
    assert client.get("/api/v1/me", headers=api_headers(raw)).status_code == 200
    with django_assert_num_queries(0, exact=False) as ctx:
        assert client.get("/api/v1/me", headers=api_headers(raw)).status_code == 200
    assert not [q for q in ctx.captured_queries if "partners_partnerapikey" in q["sql"]]


def test_a_revoked_key_is_refused_at_once(client, org, cached_keys):
    key, raw = make_api_key(organization=org)
    assert client.get("/api/v1/me", headers=api_headers(raw)).status_code == 200
    api_key_revoke(key=key)
    assert client.get("/api/v1/me", headers=api_headers(raw)).status_code == 401


def test_a_wrong_secret_with_a_cached_prefix_is_refused(client, org, cached_keys):
    _key, raw = make_api_key(organization=org)
    assert client.get("/api/v1/me", headers=api_headers(raw)).status_code == 200
    prefix, _dot, secret = raw.partition(".")
    forged = f"{prefix}.{'x' * len(secret)}"
    assert client.get("/api/v1/me", headers=api_headers(forged)).status_code == 401


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")
def test_redis_throttle_counts_a_window_per_key(client, org, settings):
    settings.CACHES = {"default": {"BACKEND": "core.cache.FailSoftRedisCache", "LOCATION": os.environ["REDIS_URL"],
                                   "KEY_PREFIX": f"t{uuid.uuid4().hex[:8]}"}}
    settings.API_THROTTLE_RATE = "2/hour"  # an hour's window: the calls below do not straddle two
    _key, raw = make_api_key(organization=org)
    _other_key, other = make_api_key(organization=org)
    statuses = [client.get("/api/v1/me", headers=api_headers(raw)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = client.get("/api/v1/me", headers=api_headers(raw))
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert response.json()["code"] == "throttled"
    assert client.get("/api/v1/me", headers=api_headers(other)).status_code == 200
    from django.core.cache import cache

    counted = cache._cache.get_client().keys(f"{settings.CACHES['default']['KEY_PREFIX']}:*throttle_partner_key*")
    assert len(counted) == 2  # one window for each key, counted in Redis


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")
def test_processes_share_a_window_through_leases(settings):
    """Two processes (two lease tables) taking slots of one window: never more than the limit in all,
    and a process reserves a lease per 10 calls, not a round trip per call."""
    from django.core.cache import cache

    from core import cache as C

    settings.CACHES = {"default": {"BACKEND": "core.cache.FailSoftRedisCache", "LOCATION": os.environ["REDIS_URL"],
                                   "KEY_PREFIX": f"t{uuid.uuid4().hex[:8]}"}}
    name, taken, tables = f"lease-{uuid.uuid4().hex}", 0, ({}, {})
    try:
        for turn in range(1_500):
            C._leases = tables[turn % 2]
            taken += bool(C.window_take(name, 3600, 1_200))
    finally:
        C._leases = {}
    assert taken == 1_200
    reserved = int(cache._cache.get_client().get(cache.make_key(f"{name}:{int(time.time() // 3600)}")))
    assert 1_200 <= reserved <= 1_200 + 2 * 10  # leases of 10; past the limit a process stops asking
