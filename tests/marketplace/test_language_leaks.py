"""No English on Chinese pages, no Chinese on English ones: texts Django and allauth bring, the kind
letter, known industry tags."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import translation

from listings.tags import tag_label
from listings.templatetags.listings_tags import kind_icon


def test_password_rules_speak_chinese():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        validate_password("123")
    assert error.value.messages[0] == "密码太短，至少需要 8 个字符。"
    assert not any("password" in m.lower() for m in error.value.messages)


def test_email_greeting_is_chinese_in_chinese():
    class Site:
        name, domain = "中关村知识产权交易所", "zgc.example"

    with translation.override("zh-hans"):
        text = render_to_string("account/email/base_message.txt", {"current_site": Site()})
    assert "Hello" not in text
    assert "中关村知识产权交易所" in text


@pytest.mark.parametrize(("language", "letters"), [("zh-hans", "发实外"), ("en", "IUD")])
def test_kind_letter_follows_the_language(language, letters):
    with translation.override(language):
        assert "".join(kind_icon(k) for k in ("invention", "utility_model", "design")) == letters


@pytest.mark.parametrize(("tag", "language", "shown"), [
    ("新能源", "en", "New energy"), ("新能源", "zh-hans", "新能源"), ("new energy", "zh-hans", "新能源"),
    ("量子通信", "en", "量子通信"),  # not a known industry: as the seller typed it
])
def test_known_industry_tags_are_translated(tag, language, shown):
    with translation.override(language):
        assert tag_label(tag) == shown
