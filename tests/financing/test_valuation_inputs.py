"""The indicators' inputs read as words on the right's page and the listing page — each input with a
label in the reader's language and its value formatted (money, dates, counts, the register's codes) —
in English and Chinese; the API keeps the machine keys and raw values."""

import re

import pytest

from financing.inputs import input_rows
from financing.valuation import valuate
from tests.factories import published_listing
from tests.financing.test_valuation import PER_YEAR, deals, indicator, target

pytestmark = pytest.mark.django_db

RAW_KEYS = ("median_minor", "p25_minor", "years_left", "fees_paid_through", "low_minor", "restored_lapses",
            "by_right", "status_history", "elsewhere")


def _inputs_html(page: str) -> str:
    return " ".join(re.findall(r'<dl class="fin-inputs">(.*?)</dl>', page, re.S))


def test_inputs_have_labels_and_formatted_values_in_english_and_chinese(client, tenant):
    deals(PER_YEAR[:5])
    record = target()
    en = _inputs_html(client.get(f"/financing/rights/{record.pk}/", headers={"Accept-Language": "en"})
                      .content.decode())
    assert "<dt>Median price</dt><dd>¥2,400,000.00</dd>" in en  # 300k a year × 8 years, as money
    assert "<dt>Comparable deals found</dt><dd>5</dd>" in en
    assert "<dt>Kind of right</dt><dd>Invention patent</dd>" in en or "<dt>Kind of right</dt><dd>Invention</dd>" in en
    assert "<dt>Term ends on</dt>" in en
    assert "<dt>Confidence</dt><dd>low</dd>" in en
    assert "<dt>Legal status in the register</dt><dd>" in en
    for key in RAW_KEYS:
        assert key not in en, key
    zh = _inputs_html(client.get(f"/financing/rights/{record.pk}/", headers={"Accept-Language": "zh-hans"})
                      .content.decode())
    assert "<dt>中位价格</dt><dd>¥2,400,000.00</dd>" in zh
    assert "<dt>找到的可比成交</dt><dd>5</dd>" in zh
    assert "<dt>可信度</dt><dd>" in zh
    for key in RAW_KEYS:
        assert key not in zh, key
    for english in ("Median price", "Comparable deals found", "Legal status in the register", "Term ends on",
                    "Invention", "low</dd>"):
        assert english not in zh, english


def test_the_listing_page_panel_shows_readable_inputs(client, tenant):
    deals(PER_YEAR[:5])
    listing = published_listing(records=[target()])
    zh = _inputs_html(client.get(f"/listings/{listing.pk}/", headers={"Accept-Language": "zh-hans"}).content.decode())
    assert "<dt>中位价格</dt>" in zh
    assert "median_minor" not in zh


def test_a_package_reads_per_right_and_the_api_keeps_machine_keys(client, tenant):
    one, two = target(), target()
    valuation = valuate([one, two], currency="CNY")
    rows = dict(input_rows(indicator(valuation, "legal_status"), "CNY"))
    status = rows["Legal status in the register"]
    assert f"{one.jurisdiction} {one.number}: " in status
    assert f"{two.jurisdiction} {two.number}: " in status
    assert "valid" not in status  # the register's code, read as a word
    assert set(indicator(valuation, "legal_status").inputs) == {"statuses", "restored_lapses", "fees_paid_through"}
