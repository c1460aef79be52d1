"""Issue 10: a Content-Security-Policy on every page, no inline handler or inline script left."""

import re
from pathlib import Path

import pytest

from tests.factories import make_member

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


@pytest.mark.parametrize("url", ["/", "/search/", "/accounts/login/", "/admin/login/", "/sell/", "/orders/",
                                 "/api/v1/docs/", "/nowhere/"])
def test_every_page_carries_the_policy(client, tenant, url):
    client.force_login(make_member())
    response = client.get(url)
    policy = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy, (url, policy)
    assert "object-src 'none'" in policy
    script = re.search(r"script-src ([^;]*)", policy).group(1)
    assert "'unsafe-inline'" not in script
    assert "'unsafe-eval'" not in script


@pytest.mark.parametrize("url", ["/", "/search/", "/accounts/login/", "/api/v1/docs/"])
def test_pages_have_no_inline_script_or_handler(client, tenant, url):
    html = client.get(url).content.decode()
    assert not INLINE_HANDLER.findall(re.sub(r"<!--.*?-->", "", html, flags=re.S)), url
    assert not INLINE_SCRIPT.findall(html), url


def test_no_template_has_an_inline_handler_or_script():
    found = []
    for path in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in path.parts:
            continue
        text = path.read_text()
        if INLINE_HANDLER.search(text) or INLINE_SCRIPT.search(text):
            found.append(str(path.relative_to(ROOT)))
    assert found == []
