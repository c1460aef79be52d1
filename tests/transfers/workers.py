"""Helpers to run a REAL Celery worker process against the test database and the real Redis
(used by test_worker.py and the browser test of the whole trade)."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/4"
# A queue of this test session only: several test runs may share one Redis database (other helpers, CI
# jobs); a worker started here consumes only this queue and publishes its own follow-up work to it.
QUEUE = f"ipex-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def client_app(name="ipex-test-client", broker=None):
    """A Celery app for the test process that publishes to this session's queue."""
    from celery import Celery

    app = Celery(name, broker=broker or REDIS_URL)
    app.conf.task_default_queue = QUEUE
    app.conf.broker_connection_timeout = 2
    return app


def redis_up() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


def database_url() -> str:
    """The URL of the database this test process uses (pytest-django's test_<name>)."""
    from urllib.parse import quote

    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="") + (f":{quote(s['PASSWORD'], safe='')}" if s.get("PASSWORD") else "")
    host = s.get("HOST") or (s.get("OPTIONS") or {}).get("host") or "127.0.0.1"
    if host.startswith("/"):  # the embedded PostgreSQL listens on a socket in a folder (bin/dev.py)
        return f"postgres://{auth}@/{s['NAME']}?host={quote(host, safe='/')}"
    return f"postgres://{auth}@{host}:{s.get('PORT') or 5432}/{s['NAME']}"


class Worker:
    def __init__(self, log_path: Path, media_root: Path, **env):
        self.log_path = log_path
        environment = dict(os.environ, DATABASE_URL=database_url(), REDIS_URL=REDIS_URL,
                           DJANGO_SETTINGS_MODULE="tests.transfers.worker_settings", MEDIA_ROOT=str(media_root),
                           SIMULATION_TIME_SCALE="0", PYTHONUNBUFFERED="1", CELERY_TASK_DEFAULT_QUEUE=QUEUE, **env)
        self.log = open(log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "marketplace", "worker", "--loglevel=INFO", "--concurrency=1",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"w{time.monotonic_ns()}@test"],
            cwd=ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for("ready", timeout=30)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited:\n{self.output()[-3000:]}")
            time.sleep(0.1)
        raise AssertionError(f"worker never logged {text!r}:\n{self.output()[-3000:]}")

    def kill(self):
        """SIGKILL the whole process group (main process and pool child): a lost machine."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log.close()

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def wait_until(check, timeout=20, every=0.2, what="condition", workers=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    logs = "\n".join(f"--- {w.log_path.name}:\n{w.output()[-4000:]}" for w in workers)
    raise AssertionError(f"timed out waiting for {what}\n{broker_state()}\n{logs}")


def broker_state() -> str:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        keys = sorted(k.decode() for k in client.keys("*"))
        return f"redis keys: {keys}; queue {QUEUE}: {client.llen(QUEUE)} messages"
    except Exception as exc:  # noqa: BLE001
        return f"redis: {exc}"


