"""Browser tests: Playwright for Python driving the system Chromium (never a downloaded browser).

Fixtures:
- `e2e_tenant`: a tenant served on 'localhost' (and the live server's host), active in context.
- `browser`: one Chromium per session; skipped with an install hint when /usr/bin/chromium is missing.
- `page` (desktop 1280x900, English) and `phone_page` (390x844, Chinese): fresh contexts per test;
  `new_page(browser, phone=...)` for more people in one test.
- `shot(page, name)`: saves test-results/<test name>/<name>.png.
- `url(path, host="localhost")`: absolute URL on the live server for a host name of a tenant.
- `login(page, email, password=PASSWORD)`.
"""

import os
import re
from pathlib import Path

import pytest

from core.tenancy import tenant_context
from tests.factories import PASSWORD, TenantFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
RESULTS = Path(__file__).resolve().parent.parent.parent / "test-results"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "en-US"}
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "zh-CN", "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}


def new_page(browser, *, phone=False):
    """A page in a fresh context (its own cookies): one per person in a multi-party journey.
    Desktop is English, phone is Chinese."""
    context = browser.new_context(**(PHONE if phone else DESKTOP))
    context.set_default_timeout(20000)
    return context.new_page()


@pytest.fixture
def page(browser):
    page = new_page(browser)
    yield page
    page.context.close()


@pytest.fixture
def phone_page(browser):
    page = new_page(browser, phone=True)
    yield page
    page.context.close()


@pytest.fixture
def e2e_tenant(transactional_db, live_server):
    tenant = TenantFactory(slug="e2e", name="中关村知识产权交易所", name_en="Zhongguancun IP Exchange",
                           hosts=["localhost", "127.0.0.1"], logo="img/tenants/ipex.svg", currency="CNY")
    with tenant_context(tenant):
        yield tenant


@pytest.fixture
def url(live_server):
    port = live_server.url.rsplit(":", 1)[1]

    def make(path="/", host="localhost"):
        return f"http://{host}:{port}{path}"

    return make


@pytest.fixture
def shot(request):
    folder = RESULTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)

    def take(page, name, full_page=True):
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def login(url):
    def do(page, email, password=PASSWORD, host="localhost"):
        page.goto(url("/accounts/login/", host))
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", password)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state()

    return do
