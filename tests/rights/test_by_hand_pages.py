"""The seller enters a software copyright from its certificate on the website; a register that is down
says so and offers entry by hand."""

import pytest
from django.urls import reverse

from rights.models import RegisterRecord
from tests.factories.listings import seller_with_org

pytestmark = pytest.mark.django_db


def test_seller_enters_a_software_copyright_and_gets_a_draft_with_it(client, tenant):
    seller, org = seller_with_org()
    client.force_login(seller)
    page = client.get(reverse("listings:sell"))
    assert b'href="/sell/by-hand/"' in page.content
    bad = client.post(reverse("listings:sell_by_hand"), {"kind": "software_copyright", "number": "2020SR01",
                                                         "title": "x", "completion_date": "2020-01-01"})
    assert bad.status_code == 200
    assert "2020SR0123456" in bad.content.decode()  # the message shows the expected form
    assert not RegisterRecord.objects.exists()
    response = client.post(reverse("listings:sell_by_hand"), {
        "kind": "software_copyright", "number": "2020SR0123456", "certificate_number": "软著登字第5123456号",
        "title": "储能电池管理系统软件", "title_en": "Energy storage battery management software", "version": "V3.1",
        "owner_name": org.legal_name, "completion_date": "2019-11-02", "publication_date": "2020-01-15"})
    record = RegisterRecord.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/sell/?record={record.pk}"
    wizard = client.get(response["Location"]).content.decode()
    assert "2020SR0123456" in wizard
    assert f'name="certificate_{record.pk}"' in wizard


def test_another_seller_cannot_pull_a_record_awaiting_verification(client, tenant):
    seller, org = seller_with_org()
    other, _other_org = seller_with_org()
    client.force_login(seller)
    client.post(reverse("listings:sell_by_hand"), {
        "kind": "software_copyright", "number": "2020SR0123456", "title": "储能电池管理系统软件",
        "completion_date": "2019-11-02"})
    record = RegisterRecord.objects.get()
    client.force_login(other)
    wizard = client.get(f"/sell/?record={record.pk}").content.decode()
    assert f'name="certificate_{record.pk}"' not in wizard


def test_register_down_says_try_later_and_offers_entry_by_hand(client, tenant, settings):
    settings.LISTINGS_REGISTER_FAIL = True
    seller, _org = seller_with_org()
    client.force_login(seller)
    response = client.get(reverse("listings:sell_lookup"), {"number": "ZL 2012 1 0379921.4"},
                          HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#lookup-result"
    assert b"by-hand-link" in response.content
