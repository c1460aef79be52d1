"""deploy/nginx.conf run for real, without docker: nginx (Debian's package with the brotli modules) in
front of gunicorn on loopback, then checks what the configuration promises and prints each check.

    apt-get install -y nginx libnginx-mod-http-brotli-filter libnginx-mod-http-brotli-static
    DATABASE_URL=postgres://... REDIS_URL=redis://... python deploy/nginx_local.py
    python deploy/nginx_local.py --load 10     # and 10 s of wrk per page through nginx and straight to gunicorn
    python deploy/nginx_local.py --serve       # leave both running until Ctrl-C (prints the port)

Uses the bench tenant of bench/search.py (host bench-search.test; `python bench/search.py --quick` makes
one) and gunicorn as bench/pages.py starts it (production settings, 2 sync workers). The configuration is
deploy/nginx.conf itself with only its paths rewritten: the upstream (web:8000 -> the local gunicorn), the
listen port, the static directory (/srv/static -> STATIC_ROOT), the cache directory and the logs (a
temporary directory). Checks:

- anonymous home, search and listing pages: a MISS, then a HIT served by nginx (gunicorn not asked: the
  access log shows no upstream), for the same language;
- the language cookie is part of the key: `django_language=en` is a separate entry, in English, while the
  Chinese copy stays Chinese;
- a session cookie or an API key bypasses the cache and is never stored;
- HTML, CSS and JSON go out brotli-compressed to a client sending `Accept-Encoding: br`, gzip to one
  sending `gzip`, with `Vary: Accept-Encoding`;
- static files come from disk (no upstream in the access log) with `Cache-Control: public, immutable`.

Exits non-zero when a check fails. Writes bench/results/nginx.json.
"""

import argparse
import gzip
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from pages import HOST, env_for, free_port, setup, start_gunicorn, stop  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "nginx.json"


def render(conf: str, *, upstream_port: int, listen_port: int, static_root: Path, workdir: Path) -> str:
    """deploy/nginx.conf with its container paths replaced by local ones (nothing else changes)."""
    replacements = [
        ("server web:8000;", f"server 127.0.0.1:{upstream_port};"),
        ("listen 80;", f"listen 127.0.0.1:{listen_port};"),
        ("alias /srv/static/;", f"alias {static_root}/;"),
        ("/var/cache/nginx/ipex", str(workdir / "cache")),
        ("access_log /dev/stdout cache;", f"access_log {workdir / 'access.log'} cache;"),
    ]
    for old, new in replacements:
        if old not in conf:
            sys.exit(f"deploy/nginx.conf no longer contains {old!r}: update deploy/nginx_local.py")
        conf = conf.replace(old, new)
    # Temporary files of proxied bodies in the work directory too (the package's default is /var/lib/nginx).
    temp = f"http {{\n  client_body_temp_path {workdir / 'body'};\n  proxy_temp_path {workdir / 'proxy'};\n"
    conf = conf.replace("http {", temp, 1)
    return conf


def start_nginx(conf_path: Path, workdir: Path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    globals_ = f"pid {workdir / 'nginx.pid'}; error_log {workdir / 'error.log'}; daemon off;"
    if os.geteuid() == 0:
        globals_ += " user root;"  # a local run: workers read the checkout and write the temporary directory
    test = subprocess.run([nginx, "-t", "-c", str(conf_path), "-g", globals_], capture_output=True, text=True)
    if test.returncode:
        sys.exit(f"nginx -t failed:\n{test.stderr}")
    return subprocess.Popen([nginx, "-c", str(conf_path), "-g", globals_], start_new_session=True)


def get(port, path, headers=None, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers={"Host": HOST, **(headers or {})})
        response = conn.getresponse()
        body = response.read()
        headers: dict[str, str] = {}
        for k, v in response.getheaders():  # repeated headers (two Vary lines) joined as one
            headers[k.lower()] = f"{headers[k.lower()]}, {v}" if k.lower() in headers else v
        return response.status, headers, body
    finally:
        conn.close()


def decoded(headers, body):
    encoding = headers.get("content-encoding", "")
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":  # the brotli command-line tool (Debian package "brotli")
        return subprocess.run(["brotli", "-d", "-c"], input=body, capture_output=True, check=True).stdout
    return body


def log_lines(workdir: Path) -> list[str]:
    path = workdir / "access.log"
    return path.read_text().splitlines() if path.exists() else []


def last_log(workdir: Path, path: str) -> str:
    time.sleep(0.05)
    lines = [line for line in log_lines(workdir) if f" {path} HTTP" in line]
    return lines[-1] if lines else ""


def html_lang(body: bytes) -> str:
    match = re.search(rb'<html[^>]*lang="([^"]+)"', body)
    return match.group(1).decode() if match else ""


def checks(port: int, workdir: Path, info: dict, static_path: str) -> list[tuple[str, bool, str]]:
    out: list[tuple[str, bool, str]] = []

    def check(name, ok, detail):
        out.append((name, bool(ok), detail))
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}", flush=True)

    zh = {"Accept-Language": "zh-CN,zh;q=0.9", "Accept-Encoding": "identity"}
    pages = {"home": "/", "search": "/search/?q=%E9%94%82%E7%94%B5%E6%B1%A0",
             "listing": f"/listings/{info['listing_ids'][0]}/"}
    for name, path in pages.items():
        first = get(port, path, zh)
        second = get(port, path, zh)
        log = last_log(workdir, path)
        check(f"{name}: anonymous page cached", first[1].get("x-cache") in ("MISS", "EXPIRED", "HIT")
              and second[1].get("x-cache") == "HIT" and "upstream=-" in log and "set-cookie" not in second[1],
              f"X-Cache {first[1].get('x-cache')} then {second[1].get('x-cache')}; "
              f"Cache-Control {second[1].get('cache-control')!r}; log: …{log[-40:]}")

    path = pages["home"]
    en = get(port, path, {"Accept-Language": "zh-CN", "Cookie": "django_language=en", "Accept-Encoding": "identity"})
    en2 = get(port, path, {"Accept-Language": "zh-CN", "Cookie": "django_language=en", "Accept-Encoding": "identity"})
    zh_again = get(port, path, zh)
    check("language cookie is part of the key",
          en[1].get("x-cache") in ("MISS", "EXPIRED") and en2[1].get("x-cache") == "HIT"
          and html_lang(en2[2]).startswith("en") and html_lang(zh_again[2]).startswith("zh")
          and zh_again[1].get("x-cache") == "HIT",
          f"en: {en[1].get('x-cache')} then {en2[1].get('x-cache')} lang={html_lang(en2[2])}; "
          f"zh: {zh_again[1].get('x-cache')} lang={html_lang(zh_again[2])}")

    session = get(port, path, {**zh, "Cookie": "sessionid=not-a-session"})
    session2 = get(port, path, {**zh, "Cookie": "sessionid=not-a-session"})
    check("session cookie bypasses the cache", session[1].get("x-cache") == "BYPASS"
          and session2[1].get("x-cache") == "BYPASS" and "upstream=127.0.0.1" in last_log(workdir, path),
          f"X-Cache {session[1].get('x-cache')}, {session2[1].get('x-cache')}")

    api_path = "/api/v1/listings?q=battery"
    api = get(port, api_path, {"Authorization": f"Api-Key {info['api_secret']}", "Accept-Encoding": "identity"})
    anon_api = get(port, api_path, {"Accept-Encoding": "identity"})
    check("API key bypasses the cache, nothing stored for others", api[0] == 200
          and api[1].get("x-cache") == "BYPASS" and anon_api[0] in (401, 403),
          f"with key: {api[0]} {api[1].get('x-cache')}; without: {anon_api[0]} {anon_api[1].get('x-cache')}")

    manifest = json.loads((Path(static_path) / "staticfiles.json").read_text())["paths"]
    css = "/static/" + next(v for k, v in sorted(manifest.items()) if k.endswith(".css"))
    for label, target, headers in (("HTML", pages["search"], zh), ("CSS", css, {}),
                                   ("JSON (API)", api_path, {"Authorization": f"Api-Key {info['api_secret']}"})):
        for encoding in ("br", "gzip"):
            status, h, body = get(port, target, {**headers, "Accept-Encoding": encoding})
            plain = get(port, target, {**headers, "Accept-Encoding": "identity"})[2]
            ok_body = decoded(h, body) == plain
            check(f"{label} {encoding}", status == 200 and h.get("content-encoding") == encoding
                  and "accept-encoding" in h.get("vary", "").lower() and ok_body,
                  f"Content-Encoding {h.get('content-encoding')!r}, {len(body):,} of {len(plain):,} bytes, "
                  f"Vary {h.get('vary')!r}")

    # /static/ is not logged (access_log off) and has no X-Cache header (added only where nginx proxies):
    # its absence, and nginx's Expires (30 days), show the file came from disk, not through gunicorn.
    status, h, _ = get(port, css, {"Accept-Encoding": "gzip"})
    check("static file from disk", status == 200 and "x-cache" not in h and "expires" in h
          and "immutable" in h.get("cache-control", ""),
          f"{css}: {status}, no X-Cache, Expires {h.get('expires')!r}, Cache-Control {h.get('cache-control')!r}")
    return out


def wrk(port, path, seconds, headers=None):
    args = ["wrk", "-t2", "-c8", f"-d{max(1, int(seconds))}s", "--latency", "-H", f"Host: {HOST}"]
    for k, v in (headers or {}).items():
        args += ["-H", f"{k}: {v}"]
    done = subprocess.run([*args, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", done.stdout)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", done.stdout)

    def ms(m):
        return round(float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)], 2) if m else None

    return {"rps": rps, "p50_ms": ms(p50), "p99_ms": ms(p99)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load", type=float, default=0, help="seconds of wrk per page (0: checks only)")
    parser.add_argument("--serve", action="store_true", help="keep nginx and gunicorn running until Ctrl-C")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    python = sys.executable
    info = setup(ROOT, python, count=False)
    if not info.get("listing_ids"):
        sys.exit("No bench listings: run `python bench/search.py --quick` (or --n N) first")
    gunicorn, gport = start_gunicorn(ROOT, python, args.workers)
    workdir = Path(tempfile.mkdtemp(prefix="ipex-nginx-"))
    nginx = None
    try:
        static_root = subprocess.run(
            [python, "-c", "import django; django.setup(); from django.conf import settings; print(settings.STATIC_ROOT)"],
            cwd=ROOT, env=env_for(ROOT), capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        nport = free_port()
        conf = render((ROOT / "deploy" / "nginx.conf").read_text(), upstream_port=gport, listen_port=nport,
                      static_root=Path(static_root), workdir=workdir)
        conf_path = workdir / "nginx.conf"
        conf_path.write_text(conf)
        nginx = start_nginx(conf_path, workdir)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                get(nport, "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        print(f"nginx on 127.0.0.1:{nport} -> gunicorn 127.0.0.1:{gport}; config and logs in {workdir}", flush=True)
        if args.serve:
            print("Ctrl-C to stop", flush=True)
            try:
                nginx.wait()
            except KeyboardInterrupt:
                pass
            return
        results = checks(nport, workdir, info, static_root)
        load = {}
        if args.load:
            zh = {"Accept-Language": "zh-CN"}
            for name, path in (("home", "/"), ("search", "/search/?q=%E9%94%82%E7%94%B5%E6%B1%A0"),
                               ("listing", f"/listings/{info['listing_ids'][0]}/")):
                load[name] = {"nginx": wrk(nport, path, args.load, zh), "gunicorn": wrk(gport, path, args.load, zh)}
                print(f"  wrk {name:<8} nginx {load[name]['nginx']['rps']:>9.1f} req/s   "
                      f"gunicorn {load[name]['gunicorn']['rps']:>7.1f} req/s", flush=True)
        failed = [name for name, ok, _ in results if not ok]
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps({
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "loadavg": Path("/proc/loadavg").read_text().split()[:3],
            "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip(),
            "checks": [{"check": n, "ok": ok, "detail": d} for n, ok, d in results], "load": load,
        }, indent=2, ensure_ascii=False) + "\n")
        print(f"\n{len(results) - len(failed)} of {len(results)} checks passed; wrote {RESULTS}")
        if failed:
            sys.exit(1)
    finally:
        if nginx is not None:
            stop(nginx)
        stop(gunicorn)


if __name__ == "__main__":
    main()
