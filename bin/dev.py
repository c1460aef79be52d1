"""Development runner behind `make run` and `make test`.

    python bin/dev.py run         # database, migrations, demo data, then web + worker + beat until Ctrl-C
    python bin/dev.py test [ARGS] # database, then pytest ARGS
    python bin/dev.py env         # print the DATABASE_URL in use (starting the embedded server if needed)

PostgreSQL: DATABASE_URL when set; otherwise an embedded server from the pgserver package, its
data in .local/pgdata (git-ignored) so it survives restarts. Broker: REDIS_URL when set; otherwise
the filesystem transport in .local/broker (see settings), with a real worker and beat.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
PY = sys.executable
_embedded = None


def database_url() -> str:
    global _embedded
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    import pgserver

    LOCAL.mkdir(exist_ok=True)
    print("DATABASE_URL not set: starting the embedded PostgreSQL in .local/pgdata ...", flush=True)
    _embedded = pgserver.get_server(LOCAL / "pgdata", cleanup_mode="stop")
    exists = _embedded.psql("SELECT 1 FROM pg_database WHERE datname = 'ipex';")
    if "(1 row)" not in exists:
        _embedded.psql("CREATE DATABASE ipex;")
    # The server listens on a Unix socket in the data folder; django-environ passes `?host=` through.
    return f"postgres://postgres@/ipex?host={quote(str(LOCAL / 'pgdata'), safe='/')}"


def stop_embedded():
    """Stop the embedded PostgreSQL if this process started it (idempotent)."""
    global _embedded
    if _embedded is not None:
        server, _embedded = _embedded, None
        server.cleanup()


def environment() -> dict:
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url()
    env.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings.local")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if not env.get("REDIS_URL"):
        for sub in ("queue", "processed", "control"):
            (LOCAL / "broker" / sub).mkdir(parents=True, exist_ok=True)
    return env


def manage(env, *args):
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def run():
    env = environment()
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    port = env.get("PORT", "8000")
    procs = {
        "web": [PY, "manage.py", "runserver", f"0.0.0.0:{port}"],
        "worker": [PY, "-m", "celery", "-A", "marketplace", "worker", "--loglevel=INFO", "--concurrency=2"],
        "beat": [PY, "-m", "celery", "-A", "marketplace", "beat", "--loglevel=INFO"],
    }
    running = {name: subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True) for name, cmd in procs.items()}
    print(f"""
  ipex is running. Press Ctrl-C to stop web, worker, beat{" and the embedded PostgreSQL" if _embedded else ""}.
    Zhongguancun IP Exchange:      http://localhost:{port}/
    Greater Bay Area IP Exchange:  http://gba.localhost:{port}/
    Back-office (admin):           http://localhost:{port}/admin/
    Health:                        http://localhost:{port}/healthz
  Demo logins (password demo-pass-2026): admin@ipex.local (platform), staff@zgc.ipex.local,
    verifier@zgc.ipex.local, escrow@zgc.ipex.local, seller@zgc.ipex.local, buyer@zgc.ipex.local,
    staff@gba.ipex.local, seller@gba.ipex.local, buyer@gba.ipex.local; applicant@zgc.ipex.local and
    applicant@gba.ipex.local have organizations waiting in the verification queue
""", flush=True)

    def stop(*_):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for name, proc in running.items():
            if proc.poll() is None:
                # Celery's main process shuts its pool down itself (warm shutdown); runserver's
                # autoreloader child lives in the same process group.
                if name == "web":
                    os.killpg(proc.pid, signal.SIGTERM)
                else:
                    proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in running.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of its group
        stop_embedded()
        print("\n  stopped.", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while True:
        for name, proc in running.items():
            if proc.poll() is not None:
                print(f"  {name} exited with {proc.returncode}; stopping the rest.", flush=True)
                stop()
        time.sleep(1)


def test(args):
    env = environment()
    env["DJANGO_SETTINGS_MODULE"] = "marketplace.settings.test"
    code = subprocess.call([PY, "-m", "pytest", *args], cwd=ROOT, env=env)
    stop_embedded()
    sys.exit(code)


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else "run"
    try:
        if command == "run":
            run()
        elif command == "test":
            test(sys.argv[2:])
        elif command == "env":
            print(database_url())
        else:
            sys.exit(__doc__)
    except (subprocess.CalledProcessError, KeyboardInterrupt) as exc:
        if isinstance(exc, subprocess.CalledProcessError):
            print(f"\n  {' '.join(exc.cmd[1:])} failed (exit {exc.returncode}); see above.", flush=True)
        sys.exit(1)
    finally:
        if command != "env":
            stop_embedded()


if __name__ == "__main__":
    main()
