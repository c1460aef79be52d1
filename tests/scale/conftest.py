"""Real servers for the scale-out paths, started by the test session itself (nothing for CI to set up):

- `s3_server`: moto's S3-compatible server (`moto.server.ThreadedMotoServer`) on a free loopback port;
- `s3_storage`: the production storage settings (marketplace/settings/storage.py) pointed at it;
- `pg_cluster` (tests/scale/pgcluster.py): a throwaway PostgreSQL primary and a streaming replica.
"""

import logging
import socket

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
