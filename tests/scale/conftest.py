"""Real servers for the scale-out paths, started by the test session itself (nothing for CI to set up):

- `s3_server`: moto's S3-compatible server (`moto.server.ThreadedMotoServer`) on a free loopback port;
- `s3_storage`: the production storage settings (marketplace/settings/storage.py) pointed at it;
- `pg_cluster` (tests/scale/pgcluster.py): a throwaway PostgreSQL primary and a streaming replica.
"""

import logging
import os
import socket
import subprocess

import pytest

BUCKET = "ipex-test-media"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        pytest.skip("The S3 tests need moto[server] (in requirements.lock).")
    import boto3

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="moto-test", aws_secret_access_key="moto-test")  # noqa: S106
    client.create_bucket(Bucket=BUCKET)
    try:
        yield {"endpoint": endpoint, "client": client, "bucket": BUCKET}
    finally:
        server.stop()


@pytest.fixture
def s3_storage(settings, s3_server, monkeypatch):
    """Django's default storage is the production S3 configuration, against the moto server; the bucket
    is emptied after the test."""
    import environ

    from marketplace.settings.storage import object_storage

    for name, value in {"AWS_STORAGE_BUCKET_NAME": BUCKET, "AWS_S3_ENDPOINT_URL": s3_server["endpoint"],
                        "AWS_S3_REGION_NAME": "us-east-1", "AWS_ACCESS_KEY_ID": "moto-test",
                        "AWS_SECRET_ACCESS_KEY": "moto-test"}.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {**settings.STORAGES, "default": object_storage(environ.Env())}
    yield s3_server
    client = s3_server["client"]
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])


@pytest.fixture(scope="session")
def pg_bin():
    from tests.scale.pgcluster import find_bin

    bin_dir = find_bin()
    if bin_dir is None:
        pytest.skip("These tests need the PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup, pg_dump): "
                    "apt-get install postgresql, or set PG_BIN.")
    return bin_dir


@pytest.fixture(scope="session")
def schema_sql(pg_bin, django_db_setup, django_db_blocker) -> bytes:
    """The schema of the session's test database (pg_dump --schema-only): today's migrations, applied."""
    from django.db import connections
    from django.test.utils import setup_databases

    default = connections["default"]
    if default.settings_dict["NAME"] != default.creation._get_test_db_name():
        # no test of this session asked for a database (e.g. -k picked only these): set up the test one
        with django_db_blocker.unblock():
            setup_databases(verbosity=0, interactive=False, aliases={"default"}, keepdb=True)
    source = default.settings_dict
    return subprocess.run(  # noqa: S603
        [str(pg_bin / "pg_dump"), "--schema-only", "--no-owner", "--no-privileges", "-h", source["HOST"] or "127.0.0.1",
         "-p", str(source["PORT"] or 5432), "-U", source["USER"] or "postgres", source["NAME"]],
        capture_output=True, check=True, env={**os.environ, "PGPASSWORD": source["PASSWORD"] or ""}).stdout


@pytest.fixture(scope="session")
def pg_cluster(pg_bin, schema_sql):
    """A throwaway primary + streaming replica (tests/scale/pgcluster.py) with the test database's schema
    in the database `ipex`, on free loopback ports; stopped and deleted at the end of the session."""
    from tests.scale.pgcluster import Cluster

    cluster = Cluster(pg_bin)
    try:
        cluster.start(schema_sql)
        yield cluster
    finally:
        cluster.stop()
