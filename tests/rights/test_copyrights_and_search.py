"""Copyright numbers and terms; rights entered from certificates join the register once verified;
bilingual search and titles in the reader's language."""

import datetime

import pytest
from django.utils import translation

from core.errors import ValidationFailed
from listings.search import SearchParams, search_listings
from listings.services import listing_decide, listing_submit
from rights.expiry import statutory_term
from rights.numbers import NumberError, parse_candidates, search_keys
from rights.registry import get_register
from rights.services import record_from_certificate
from tests.factories.listings import (
    draft_listing,
    published_listing,
    register_record,
    seller_with_org,
    verifier,
)


@pytest.mark.parametrize(("text", "normalized", "kind"), [
    ("2020SR0123456", "2020SR0123456", "software_copyright"),
    ("2011 SR 012345", "2011SR012345", "software_copyright"),
    ("软著登字第1234567号", "1234567", "software_copyright"),
    ("国作登字-2020-F-01234567", "国作登字-2020-F-01234567", "works_copyright"),
    ("京作登字—2019—A—00123456", "京作登字-2019-A-00123456", "works_copyright"),
])
def test_copyright_numbers(text, normalized, kind):
    [p] = parse_candidates(text)
    assert (p.jurisdiction, p.normalized, p.kind) == ("CN", normalized, kind)


@pytest.mark.parametrize(("text", "message"), [
    ("2099SR0123456", "not a year"),
    ("国作登字-2020-Z-01234567", "A to L"),
    ("国作登字-2020-F-0123", "国作登字-2020-F-01234567"),
    ("软著登字第12号", "软著登字第1234567号"),
])
def test_bad_copyright_numbers_say_why(text, message):
    with pytest.raises(NumberError) as exc:
        parse_candidates(text)
    assert message in exc.value.message


def test_copyright_term_for_legal_persons():
    published = statutory_term(kind="software_copyright", jurisdiction="CN",
                               publication_date=datetime.date(2020, 3, 15), completion_date=datetime.date(2019, 12, 1))
    assert published.expiry == datetime.date(2070, 12, 31)
    unpublished = statutory_term(kind="works_copyright", jurisdiction="CN", completion_date=datetime.date(2018, 5, 2))
    assert unpublished.expiry == datetime.date(2068, 12, 31)


@pytest.mark.django_db
def test_software_copyright_from_certificate_joins_the_register_when_verified(tenant):
    seller, org = seller_with_org()
    record = record_from_certificate(actor=seller, organization=org, data={
        "kind": "software_copyright", "number": "2021SR0456789", "certificate_number": "软著登字第7654321号",
        "title": "锂电池管理系统软件 V2.0", "title_en": "Lithium battery management system software V2.0",
        "version": "V2.0", "completion_date": "2021-01-10", "publication_date": "2021-02-01"})
    assert record.awaiting_verification
    assert record.expiry_date == datetime.date(2071, 12, 31)
    assert "CN:SWC:7654321" in record.keys
    assert "CN:SWR:2021SR0456789" in record.keys
    # Others cannot find it until a verifier has seen the certificate.
    assert not get_register().lookup("2021SR0456789").found
    listing = draft_listing(seller=seller, org=org, records=[record], title="锂电池管理软件著作权转让")
    listing_submit(listing=listing, actor=seller)
    checks = {c: True for c in ("owner", "status", "term", "renewal", "encumbrances")}
    listing = listing_decide(listing=listing, actor=verifier(), approve=True, confirmed=checks)
    record.refresh_from_db()
    assert not record.awaiting_verification
    assert get_register().lookup("2021SR0456789").record.pk == record.pk
    assert get_register().lookup("软著登字第7654321号").record.pk == record.pk


@pytest.mark.django_db
def test_certificate_entry_with_bad_input_says_what_and_writes_nothing(tenant):
    seller, org = seller_with_org()
    with pytest.raises(ValidationFailed) as exc:
        record_from_certificate(actor=seller, organization=org, data={
            "kind": "software_copyright", "number": "2021SR", "title": "", "completion_date": "2021-13-01"})
    assert set(exc.value.field_errors) >= {"number", "title", "completion_date"}
    from rights.models import RegisterRecord

    assert not RegisterRecord.objects.exists()


@pytest.mark.django_db
def test_english_word_finds_a_chinese_listing_and_titles_follow_the_reader(tenant):
    record = register_record(title="一种锂电池热管理装置", title_en="Thermal management device for a lithium battery",
                             abstract="电池组温度控制", abstract_en="Controls the temperature of a battery pack.")
    listing = published_listing(records=[record], title="锂电池热管理专利")
    found = search_listings(SearchParams(q="battery"))
    assert [item.pk for item in found.listings] == [listing.pk]
    assert [item.pk for item in search_listings(SearchParams(q="锂电池")).listings] == [listing.pk]
    right = listing.rights.select_related("register_record").get()
    with translation.override("en"):
        assert right.display_title == "Thermal management device for a lithium battery"
    with translation.override("zh-hans"):
        assert right.display_title == "一种锂电池热管理装置"


@pytest.mark.django_db
def test_copyright_listing_found_by_its_number(tenant):
    record = register_record(kind="software_copyright", number="2020SR0123456", title="数据压缩软件",
                             title_en="Data compression software")
    listing = published_listing(records=[record])
    assert search_keys("2020SR0123456") == ["CN:SWR:2020SR0123456"]
    assert [item.pk for item in search_listings(SearchParams(q="2020SR0123456")).listings] == [listing.pk]
    assert [item.pk for item in search_listings(SearchParams(q="compression")).listings] == [listing.pk]
