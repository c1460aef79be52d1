import re
from pathlib import Path

import pytest

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent.parent
CATALOGUES = ["locale", "marketplace/locale", "accounts/locale"]


@pytest.mark.parametrize("folder", CATALOGUES)
def test_catalogue_is_complete_and_compiled(folder):
    po = ROOT / folder / "zh_Hans/LC_MESSAGES/django.po"
    text = po.read_text()
    entries = [e for e in text.split("\n\n") if "msgid" in e and 'msgid ""\nmsgstr ""\n"' not in e]
    empty = [e for e in entries if re.search(r'^msgstr(\[0\])? ""$', e, re.M)]
    assert not empty, f"untranslated in {folder}: {empty[:3]}"
    assert "#, fuzzy" not in text
    assert po.with_suffix(".mo").stat().st_mtime >= po.stat().st_mtime - 5


def test_one_english_phrase_has_one_chinese_translation_across_apps():
    """Django merges the apps' catalogues and the first app wins, so a phrase translated two ways
    shows the winner's words on the other app's pages. A phrase that means different things in two
    places takes a context (pgettext) instead."""
    import gettext

    seen, clashes = {}, []
    for mo in sorted(ROOT.glob("*/locale/zh_Hans/LC_MESSAGES/django.mo")) + [ROOT / "locale/zh_Hans/LC_MESSAGES/django.mo"]:
        with mo.open("rb") as handle:
            catalogue = gettext.GNUTranslations(handle)._catalog
        for msgid, msgstr in catalogue.items():
            if not msgid or not isinstance(msgid, str) or "\x04" in msgid:
                continue
            first = seen.setdefault(msgid, (msgstr, mo.parts[-5]))
            if first[0] != msgstr:
                clashes.append(f"{msgid!r}: {first[1]} {first[0]} / {mo.parts[-5]} {msgstr}")
    assert not clashes, "\n".join(clashes)


def test_language_switch_sets_cookie_and_comes_back(client, tenant):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    assert 'lang="en"' in client.get("/accounts/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = client.get("/accounts/login/").content.decode()
    assert 'lang="zh-Hans"' in page
    assert "登录" in page


def test_language_switch_is_saved_on_the_profile(client, tenant):
    user = UserFactory(language="en")
    client.force_login(user)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/account/"})
    user.refresh_from_db()
    assert user.language == "zh-hans"
    # a new browser (no cookie) gets the saved language after logging in
    client.cookies.clear()
    client.force_login(user)
    assert "我的账户" in client.get("/account/").content.decode()


def test_language_not_offered_by_the_exchange_is_ignored(client, tenant):
    tenant.languages = ["zh-hans"]
    tenant.save()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert 'lang="zh-Hans"' in client.get("/accounts/login/").content.decode()


def test_browser_language_is_used_when_no_choice_was_made(client, tenant):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="en"' in page
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'lang="zh-Hans"' in page  # the exchange's default
