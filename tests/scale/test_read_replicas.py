"""Public pages read from a real PostgreSQL streaming replica; the person who just wrote reads the primary;
a lagging or unreachable replica is skipped. The primary and the replica are a throwaway cluster started by
the session (tests/scale/pgcluster.py) with the test database's schema; the test points Django's `default`
at that primary and adds the replica as `replica_1`, as DATABASE_REPLICA_URLS would."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client

from core import replicas
from core.replicas import PIN_COOKIE, choose_replica, replica_aliases
from core.tenancy import tenant_context
from listings.models import Listing
from tests.factories import TenantFactory, make_member, published_listing
from tests.scale.pgcluster import Cluster

pytestmark = pytest.mark.scale
ROOT = Path(__file__).resolve().parents[2]
OLD, NEW = "压缩算法专利 Old title", "压缩算法专利 New title"


TRUNCATE_ALL = """DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE 'TRUNCATE TABLE ' || quote_ident(r.tablename) || ' RESTART IDENTITY CASCADE';
  END LOOP; END $$"""


@pytest.fixture
def routed(pg_cluster, django_db_blocker, settings):
    """`default` is the throwaway primary and `replica_1` its replica, for this test (no transaction wraps
    it: the rows are on the throwaway cluster, emptied afterwards)."""
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 30
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0
    settings.DATABASE_REPLICA_PIN_SECONDS = 15
    with django_db_blocker.unblock():
        default = connections["default"]
        default.close()
        saved = dict(default.settings_dict)
        default.settings_dict.update(HOST="127.0.0.1", PORT=str(pg_cluster.primary_port), NAME=Cluster.DBNAME,
                                     USER="postgres", PASSWORD="")
        connections.settings["replica_1"] = connections.configure_settings(
            {"default": dict(saved), "replica_1": pg_cluster.database(pg_cluster.replica_port)})["replica_1"]
        replicas.forget_health()
        try:
            yield pg_cluster
        finally:
            for alias in ("replica_1", "default"):
                connections[alias].close()
            del connections["replica_1"]
            connections.settings.pop("replica_1")
            replicas.forget_health()
            if not pg_cluster.replica_running():
                pg_cluster.start_replica()
            pg_cluster.resume_replay()
            pg_cluster.psql(pg_cluster.primary_port, TRUNCATE_ALL)
            default.settings_dict.clear()
            default.settings_dict.update(saved)


def _market():
    tenant = TenantFactory(slug="replica", hosts=["testserver"])
    with tenant_context(tenant):
        listing = published_listing(title=OLD)
        buyer = make_member()
    return tenant, listing, buyer


def _retitle(tenant, listing, title):
    with tenant_context(tenant):
        Listing.objects.filter(pk=listing.pk).update(title=title)


def _page(client, listing) -> str:
    response = client.get(f"/listings/{listing.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def test_public_pages_read_the_replica_and_a_writer_reads_their_own_writes(routed, settings):
    # given a published listing that the replica has, and the replica's replay paused
    tenant, listing, buyer = _market()
    routed.wait_caught_up()
    routed.pause_replay()
    # when the primary changes the title (the replica does not have it yet)
    _retitle(tenant, listing, NEW)
    # then a visitor's listing page and search come from the replica (the old title)
    visitor = Client()
    assert OLD in _page(visitor, listing)
    assert NEW not in _page(visitor, listing)
    search = visitor.get("/search/", {"q": "压缩算法"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert OLD in search
    assert NEW not in search
    # when a buyer writes (watches the listing), their browser is pinned to the primary
    buyer_client = Client()
    buyer_client.force_login(buyer)
    settings.DATABASE_REPLICA_PIN_SECONDS = 2
    response = buyer_client.post(f"/listings/{listing.pk}/watch/")
    assert response.status_code == 302
    assert PIN_COOKIE in response.cookies
    assert response.cookies[PIN_COOKIE]["max-age"] == 2
    # then the buyer sees what they wrote, and the primary's title, while the visitor still sees the replica
    page = _page(buyer_client, listing)
    assert "On your watchlist" in page
    assert NEW in page
    assert OLD in _page(visitor, listing)
    # and once the pin has passed, the buyer reads the replica again
    time.sleep(2.1)
    buyer_client.cookies.pop(PIN_COOKIE, None)  # the browser drops it at max-age
    page = _page(buyer_client, listing)
    assert OLD in page
    assert "On your watchlist" not in page
    # and when replay resumes, everybody sees the new title from the replica
    routed.resume_replay()
    routed.wait_caught_up()
    assert NEW in _page(visitor, listing)
    assert choose_replica() == "replica_1"


def test_a_replica_lagging_past_the_bound_is_skipped(routed, settings):
    tenant, listing, _buyer = _market()
    routed.wait_caught_up()
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 1
    routed.pause_replay()
    _retitle(tenant, listing, NEW)
    time.sleep(1.3)  # the replica's last replayed commit is now older than the bound
    health = replicas.check_replica("replica_1")
    assert health.up
    assert health.lag > 1
    assert choose_replica() is None
    visitor = Client()
    assert NEW in _page(visitor, listing)  # from the primary
    # back within the bound, the replica is used again
    routed.resume_replay()
    routed.wait_caught_up()
    assert replicas.check_replica("replica_1").lag == 0
    assert choose_replica() == "replica_1"


def test_a_replica_that_goes_down_is_skipped_even_in_the_middle_of_a_page(routed, settings):
    tenant, listing, _buyer = _market()
    routed.wait_caught_up()
    visitor = Client()
    # the replica is known good and will not be checked again for a minute
    settings.DATABASE_REPLICA_CHECK_SECONDS = 60
    assert choose_replica() == "replica_1"
    assert OLD in _page(visitor, listing)
    # when it stops (crash) and the primary moves on
    routed.stop_replica()
    _retitle(tenant, listing, NEW)
    # then the page's first read on the replica fails, and the page is served from the primary
    assert NEW in _page(visitor, listing)
    assert replicas.check_replica("replica_1").up is False
    assert NEW in _page(visitor, listing)
    # and with checks on every read, an unreachable replica is never chosen
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0
    assert choose_replica() is None
    search = visitor.get("/search/", {"q": "压缩算法"}, HTTP_ACCEPT_LANGUAGE="en")
    assert search.status_code == 200
    assert NEW in search.content.decode()
    # once it is back and streaming, it is used again
    routed.start_replica()
    routed.wait_caught_up()
    deadline = time.monotonic() + 10
    while choose_replica() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert choose_replica() == "replica_1"


def test_replica_urls_become_aliases_that_never_migrate_and_mirror_default_in_tests():
    code = ("import json, django; django.setup(); from django.conf import settings; "
            "from django.db import router; "
            "print(json.dumps({a: [d['HOST'], d['PORT'], d['TEST'].get('MIRROR'), "
            "router.allow_migrate(a, 'listings')] for a, d in settings.DATABASES.items()}))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.settings.test",
           "DATABASE_REPLICA_URLS": "postgres://ipex@10.0.0.2:5432/ipex,postgres://ipex@10.0.0.3:6432/ipex"}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,  # noqa: S603
                         check=True).stdout
    databases = json.loads(out.strip().splitlines()[-1])
    assert databases["replica_1"] == ["10.0.0.2", 5432, "default", False]
    assert databases["replica_2"] == ["10.0.0.3", 6432, "default", False]
    assert databases["default"][3] is True


def test_without_replicas_nothing_changes(client, tenant):
    assert replica_aliases() == []
    listing = published_listing(title=OLD)
    response = client.post(f"/listings/{listing.pk}/watch/")
    assert PIN_COOKIE not in response.cookies
    assert OLD in _page(client, listing)
