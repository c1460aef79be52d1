"""Stateless web: two real web processes (gunicorn, each its own memory) behind one round-robin proxy, and
a browser whose every request goes to the other process than the one before. Logging in, a CSRF-protected
form, an upload to the S3 bucket (moto), opening the document, and an htmx watch toggle all work: nothing
one process needs lives only in another's memory."""

import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test.utils import override_settings

from accounts.models import Organization
from core.tenancy import tenant_context
from tests.e2e.conftest import RESULTS, new_page
from tests.factories import PASSWORD, TenantFactory, published_listing, seller_with_org
from tests.scale.conftest import BUCKET, free_port
from tests.scale.proxy import RoundRobinProxy
from tests.transfers.workers import database_url

pytestmark = [pytest.mark.e2e, pytest.mark.scale]
ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class WebProcess:
    def __init__(self, port: int, env: dict, log_path: Path):
        self.port, self.log_path = port, log_path
        self.log = open(log_path, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "marketplace.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--threads", "4", "--worker-class", "gthread", "--timeout", "60", "--graceful-timeout", "1", "--access-logfile", "-"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout=40):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"web process exited:\n{self.log_path.read_text(errors='replace')[-3000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2)  # noqa: S310
                return
            except urllib.error.HTTPError:
                return  # it answers (503 only says the broker is not there)
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"web process never answered:\n{self.log_path.read_text(errors='replace')[-3000:]}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


@pytest.fixture
def two_web_processes(transactional_db, s3_storage, tmp_path):
    """Two gunicorn processes on two loopback ports, the same database, bucket and SECRET_KEY (and nothing
    else in common), behind one round-robin proxy. Yields (proxy, processes)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.scale.web_settings", "DATABASE_URL": database_url(),
           "SECRET_KEY": secrets.token_hex(32), "AWS_STORAGE_BUCKET_NAME": BUCKET,
           "AWS_S3_ENDPOINT_URL": s3_storage["endpoint"], "AWS_S3_REGION_NAME": "us-east-1",
           "AWS_ACCESS_KEY_ID": "moto-test", "AWS_SECRET_ACCESS_KEY": "moto-test",  # noqa: S105
           "PYTHONUNBUFFERED": "1", "DEBUG": "false"}
    env.pop("DATABASE_REPLICA_URLS", None)
    # the processes share the database cache (throttling, login rate limits), as in production
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                                               "LOCATION": "ipex_cache"}}):
        call_command("createcachetable", verbosity=0)
    processes = [WebProcess(free_port(), env, tmp_path / f"web{i}.log") for i in range(2)]
    try:
        for process in processes:
            process.wait_ready()
        with RoundRobinProxy([("127.0.0.1", p.port) for p in processes]) as proxy:
            yield proxy, processes
    finally:
        for process in processes:
            process.stop()


def test_a_browser_session_alternating_between_two_web_processes(two_web_processes, browser, s3_storage):
    proxy, processes = two_web_processes
    # given an exchange served on the proxy's address, a seller of an unverified organization and a listing
    tenant = TenantFactory(slug="stateless", name="无状态交易所", name_en="Stateless Exchange",
                           hosts=["localhost", "127.0.0.1"])
    with tenant_context(tenant):
        seller, org = seller_with_org(verification_status=Organization.Verification.UNVERIFIED)
        listing = published_listing(title="一种固态电解质的制备方法")
    base = f"http://localhost:{proxy.port}"
    folder = RESULTS / "stateless_web"
    folder.mkdir(parents=True, exist_ok=True)
    page = new_page(browser)
    try:
        # when the seller logs in (the form from one process, the POST to the other)
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=login]", seller.email)
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state()
        assert "/accounts/login/" not in page.url, page.content()[:2000]
        # and uploads the business licence on the organization page (a CSRF-protected multipart form)
        page.goto(f"{base}/account/organizations/{org.pk}/")
        page.select_option("select[name=kind]", "business_licence")
        page.set_input_files("input[name=file]", files=[{"name": "licence.pdf", "mimeType": "application/pdf",
                                                         "buffer": PDF}])
        page.locator("form.upload-form button[type=submit]").click()
        page.wait_for_load_state()
        page.screenshot(path=str(folder / "organization-after-upload.png"), full_page=True)
        link = page.locator(".doc-list a").first
        assert link.count() == 1
        # then the document is in the bucket, and opening it (a signed URL from whichever process) gives it back
        objects = s3_storage["client"].list_objects_v2(Bucket=BUCKET).get("Contents", [])
        assert [o["Key"].split("/")[:3] for o in objects] == [[f"t{tenant.pk}", "org", str(org.pk)]]
        fetched = page.request.get(base + link.get_attribute("href"))
        assert fetched.status == 200
        assert fetched.body() == PDF
        # and the htmx watch toggle on the listing swaps its button in place
        page.goto(f"{base}/listings/{listing.pk}/")
        page.locator("form.watch-form button").click()
        page.wait_for_selector("form.watch-form button[aria-pressed=true]")
        page.screenshot(path=str(folder / "listing-watched.png"), full_page=True)
        page.reload()
        assert page.locator("form.watch-form button[aria-pressed=true]").count() == 1
        # and logging out works from the other process too
        page.locator("header form[action*=logout] button, form[action*=logout] button").first.click()
        page.wait_for_load_state()
        page.goto(f"{base}/account/")
        assert "/accounts/login/" in page.url
    finally:
        page.context.close()
    # and every request was answered without an error, and both processes took POSTs, pages and htmx
    log = sorted(proxy.log, key=lambda r: r["seq"])
    assert [r for r in log if r["status"] >= 500] == []
    pages = [r for r in log if not r["path"].startswith("/static/")]
    posts = [r for r in pages if r["method"] == "POST"]
    assert len(posts) >= 4  # login, upload, watch, logout
    assert {r["upstream"] for r in posts} == {0, 1}
    assert {r["upstream"] for r in pages if r["method"] == "GET"} == {0, 1}
    assert any(r["htmx"] for r in posts)
    # the login was posted to one process and the page after it came from the other
    login = next(i for i, r in enumerate(pages) if r["method"] == "POST" and r["path"].startswith("/accounts/login/"))
    assert pages[login + 1]["upstream"] != pages[login]["upstream"]
    assert pages[login + 1]["status"] == 200
    for process in processes:
        assert b"Traceback" not in process.log_path.read_bytes()
