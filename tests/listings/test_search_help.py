"""Search that helps: the right check character, an example that finds something, filters as chips,
"did you mean", the newest listings when nothing matches; the newest-first window read by month."""

import datetime

import pytest
from django.utils import timezone

from listings.models import Listing
from listings.search import SearchParams, _window_ids, month_token, vocabulary_refresh
from tests.factories import OrganizationFactory, published_listing, register_record


@pytest.fixture
def battery(tenant):
    org = OrganizationFactory(legal_name="清源大学技术转移中心")
    return published_listing(org=org, records=[register_record(
        owner_name=org.legal_name, title="一种基于深度学习的锂电池健康状态估计方法", number="201210379921.4",
        classes=["H01M 10/48"])], industry_tags=["新能源"])



@pytest.fixture
def trigram(db):
    """"Did you mean" needs pg_trgm: the system PostgreSQL (CI) has it, the embedded pgserver of a bare
    `make test` does not, and then the page simply offers no suggestion."""
    from listings.search import trigram_available

    if not trigram_available():
        pytest.skip("PostgreSQL without the pg_trgm extension: no \"did you mean\" (set DATABASE_URL to a full server)")

def test_a_wrong_check_character_says_the_right_one(client, battery):
    page = client.get("/search/", {"q": "ZL 2012 1 0379921.5"})
    text = page.content.decode()
    assert "0379921.4" in page.context["corrected"]
    assert page.context["number_error"]
    assert "?q=ZL+2012+1+0379921.4" in text
    assert battery.pk in [x.pk for x in client.get("/search/", {"q": page.context["corrected"]})
                          .context["result"].listings]


def test_the_placeholders_example_number_finds_a_listing(client, battery):
    example = client.get("/").context["example_number"]
    assert example == "ZL 2012 1 0379921.4"
    assert [x.pk for x in client.get("/search/", {"q": example}).context["result"].listings] == [battery.pk]


def test_active_filters_are_chips_that_remove_themselves(client, battery):
    page = client.get("/search/", {"q": "锂电池", "kind": "invention", "term": "5"})
    chips = page.context["chips"]
    assert len(chips) == 3
    removed = {chip["url"] for chip in chips}
    assert "?kind=invention&term=5" in removed  # the keyword chip keeps the other filters
    assert "?q=%E9%94%82%E7%94%B5%E6%B1%A0&term=5" in removed
    # the other kinds stay visible next to the chosen one
    assert {f["value"] for f in page.context["facets"]["kind"]} >= {"invention"}


def test_a_misspelt_keyword_gets_did_you_mean_and_the_newest_listings(client, tenant, battery, trigram):
    vocabulary_refresh(tenant)
    page = client.get("/search/", {"q": "锂电地"})
    assert page.context["result"].total == 0
    assert page.context["suggestion"] == "锂电池"
    assert [x.pk for x in page.context["newest"]] == [battery.pk]
    assert client.get("/search/", {"q": page.context["suggestion"]}).context["result"].total == 1


def test_english_typos_are_corrected_too(client, tenant, trigram):
    published_listing(title="Wireless charging coil alignment device")
    vocabulary_refresh(tenant)
    assert client.get("/search/", {"q": "wireles chargng"}).context["suggestion"] == "wireless charging"


def test_no_suggestion_when_the_words_are_known_or_a_number(tenant, battery, trigram):
    from listings.search import suggest

    vocabulary_refresh(tenant)
    assert suggest("锂电池") == ""
    assert suggest("201210379921.4") == ""
    assert suggest("锂电地") == "锂电池"


def test_the_month_of_publication_is_in_the_search_document_whoever_writes(tenant, battery):
    listing = Listing.objects.get(pk=battery.pk)
    stamp = timezone.now().astimezone(datetime.UTC)
    token = month_token(stamp.year, stamp.month)
    assert Listing.objects.filter(pk=listing.pk, search_document=token).exists()
    Listing.objects.filter(pk=listing.pk).update(published_at=datetime.datetime(2020, 5, 3, tzinfo=datetime.UTC))
    assert not Listing.objects.filter(pk=listing.pk, search_document=token).exists()
    assert Listing.objects.filter(pk=listing.pk, search_document="xp202005").exists()


def test_the_newest_window_by_month_is_the_newest_first_order(tenant):
    org = OrganizationFactory()
    now = timezone.now()
    expected = []
    for i in range(70):
        listing = published_listing(org=org, title=f"一种锂电池热管理方法 {i}",
                                    published_at=now - datetime.timedelta(days=i * 23))
        expected.append(listing.pk)
    params = SearchParams(q="锂电池")
    newest = list(Listing.objects.filter(state="published").order_by("-published_at", "-id")
                  .values_list("pk", flat=True)[:60])
    assert _window_ids(params) == newest == expected[:60]


def test_the_nightly_task_rebuilds_the_vocabulary(tenant, battery):
    from listings.models import SearchTerm
    from listings.tasks import refresh_search_vocabulary

    assert refresh_search_vocabulary(tenant_id=tenant.pk)["terms"] > 0
    assert SearchTerm.objects.filter(term="锂电池").exists()
