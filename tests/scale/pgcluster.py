"""A throwaway PostgreSQL primary and streaming replica, on free loopback ports under a temporary folder.

Built from the Debian server binaries (`/usr/lib/postgresql/<version>/bin`: initdb, pg_ctl,
pg_basebackup; `PG_BIN` overrides), never touching the system cluster. The replica is a real
`pg_basebackup -R` standby streaming from the primary. When the tests run as root, the servers run as
the `postgres` system user (PostgreSQL refuses root). Durability is off (fsync, full pages): the data is
thrown away.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")


def find_bin() -> Path | None:
    candidates = [os.environ["PG_BIN"]] if os.environ.get("PG_BIN") else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for folder in candidates:
        if all((Path(folder) / tool).exists() for tool in TOOLS):
            return Path(folder)
    found = [shutil.which(tool) for tool in TOOLS]
    if all(found):
        return Path(found[0]).parent
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """`primary_port` and `replica_port` take connections as user postgres, database `ipex`, no password."""

    DBNAME = "ipex"

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="ipex-pgcluster-"))
        self.primary_dir, self.replica_dir = self.root / "primary", self.root / "replica"
        self.primary_port, self.replica_port = free_port(), free_port()
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("postgres")
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)

    # -- running the tools -------------------------------------------------------------------------
    def run(self, tool: str, *args: str, input: bytes | None = None, timeout: float = 60) -> str:
        kwargs = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        done = subprocess.run([str(self.bin / tool), *args], input=input, capture_output=True, timeout=timeout,  # noqa: S603
                              cwd=self.root, env={**os.environ, "PGUSER": "postgres", "LC_ALL": "C.UTF-8"}, **kwargs)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {done.stderr.decode(errors='replace')[-2000:]}")
        return done.stdout.decode()

    def psql(self, port: int, sql: str, dbname: str | None = None) -> str:
        return self.run("psql", "-h", "127.0.0.1", "-p", str(port), "-d", dbname or self.DBNAME, "-X", "-q", "-tA",
                        "-v", "ON_ERROR_STOP=1", "-c", sql).strip()

    # -- life cycle --------------------------------------------------------------------------------
    def start(self, schema_sql: bytes = b"") -> Cluster:
        self.run("initdb", "-D", str(self.primary_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync")
        with open(self.primary_dir / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {self.primary_port}\n"
                f"unix_socket_directories = '{self.root}'\n"
                "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
                "fsync = off\nfull_page_writes = off\n"
                "shared_buffers = 16MB\nmax_connections = 40\nwal_sender_timeout = 5s\n"
                "wal_receiver_status_interval = 1s\nhot_standby_feedback = on\n")
        with open(self.primary_dir / "pg_hba.conf", "a") as hba:
            hba.write("\nhost replication all 127.0.0.1/32 trust\n")
        self.pg_ctl(self.primary_dir, "start")
        self.psql(self.primary_port, f"CREATE DATABASE {self.DBNAME}", dbname="postgres")
        if schema_sql:
            self.run("psql", "-h", "127.0.0.1", "-p", str(self.primary_port), "-d", self.DBNAME, "-X", "-q",
                     "-v", "ON_ERROR_STOP=1", input=schema_sql)
        self.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-D", str(self.replica_dir),
                 "-R", "-X", "stream", "--checkpoint=fast", "--no-sync")
        with open(self.replica_dir / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.replica_port}\n")
        self.start_replica()
        return self

    def pg_ctl(self, data_dir: Path, action: str, *extra: str) -> None:
        self.run("pg_ctl", "-D", str(data_dir), "-l", str(data_dir.parent / f"{data_dir.name}.log"), "-w",
                 "-t", "30", action, *extra)

    def start_replica(self) -> None:
        self.pg_ctl(self.replica_dir, "start")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if self.psql(self.replica_port, "SELECT pg_is_in_recovery()") == "t":
                    return
            except RuntimeError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the replica did not come up")

    def stop_replica(self) -> None:
        self.pg_ctl(self.replica_dir, "stop", "-m", "immediate")

    def replica_running(self) -> bool:
        return (self.replica_dir / "postmaster.pid").exists()

    def pause_replay(self) -> None:
        self.psql(self.replica_port, "SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self.psql(self.replica_port, "SELECT pg_wal_replay_resume()")

    def wait_caught_up(self, timeout: float = 10) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        target = self.psql(self.primary_port, "SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.psql(self.replica_port, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")
            if done == "t":
                return
            time.sleep(0.05)
        raise RuntimeError("the replica did not catch up")

    def stop(self) -> None:
        for data_dir in (self.replica_dir, self.primary_dir):
            if (data_dir / "postmaster.pid").exists():
                try:
                    self.pg_ctl(data_dir, "stop", "-m", "immediate")
                except (RuntimeError, subprocess.TimeoutExpired):
                    pass
        shutil.rmtree(self.root, ignore_errors=True)

    def database(self, port: int) -> dict:
        """A Django DATABASES entry for one of the two servers."""
        return {"ENGINE": "django.db.backends.postgresql", "NAME": self.DBNAME, "USER": "postgres", "PASSWORD": "",
                "HOST": "127.0.0.1", "PORT": str(port), "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": False,
                "OPTIONS": {"connect_timeout": 2}, "ATOMIC_REQUESTS": False, "AUTOCOMMIT": True,
                "TIME_ZONE": None, "TEST": {"MIRROR": "default"}}
