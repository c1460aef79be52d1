import os
import shutil

import pytest

from core.models import Tenant
from core.tenancy import tenant_context
from tests.factories import TenantFactory


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Messages raised outside a request (services, validators) are asserted in English."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with an empty cache (cached counts, examples, throttle histories)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _clear_host_cache():
    Tenant.clear_host_cache()
    yield
    Tenant.clear_host_cache()


@pytest.fixture
def tenant(db):
    """The tenant served on 'testserver' (Django's test client host), active in context for the test."""
    t = TenantFactory(slug="alpha", name="阿尔法交易所", name_en="Alpha Exchange", hosts=["testserver", "alpha.test"])
    with tenant_context(t):
        yield t


@pytest.fixture
def other_tenant(db):
    """A second tenant on 'beta.test'. Not active: use `with tenant_context(other_tenant):`."""
    return TenantFactory(slug="beta", name="贝塔交易所", name_en="Beta Exchange", hosts=["beta.test"], currency="HKD")


def chromium_path():
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    return path if shutil.which(path) else None


CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session (Playwright's sync API allows one loop per process): every
    browser test, e2e/ and scale/, takes its pages from it."""
    path = chromium_path()
    if not path:
        pytest.skip("Browser tests need Chromium: apt-get install chromium fonts-noto-cjk (or set CHROMIUM_PATH).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
