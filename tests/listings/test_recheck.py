import datetime

from core.models import Notification
from listings.models import Listing, RegisterRecord
from listings.tasks import recheck_published
from tests.factories import published_listing, register_record, seller_with_org


def test_daily_recheck_lapses_listings_whose_rights_lapsed_or_expired(tenant, client):
    seller, org = seller_with_org()
    fine = published_listing(org=org, created_by=seller)
    lapsed_right = register_record(owner_name=org.legal_name, title="一种年费未缴的专利")
    lapsed = published_listing(org=org, created_by=seller, records=[lapsed_right])
    expired_right = register_record(owner_name=org.legal_name, title="一种已到期的专利")
    expired = published_listing(org=org, created_by=seller, records=[expired_right])
    RegisterRecord.objects.filter(pk=lapsed_right.pk).update(legal_status="lapsed")
    RegisterRecord.objects.filter(pk=expired_right.pk).update(expiry_date=datetime.date.today())

    result = recheck_published(tenant_id=tenant.pk)

    assert result == {"checked": 3, "lapsed": 2}
    states = dict(Listing.objects.values_list("pk", "state"))
    assert states == {fine.pk: "published", lapsed.pk: "lapsed", expired.pk: "lapsed"}
    assert "Lapsed" in Listing.objects.get(pk=lapsed.pk).lapsed_reason
    assert lapsed.rights.get().legal_status == "lapsed"  # snapshot refreshed
    assert Notification.objects.filter(user=seller, kind="listing.lapsed").count() == 2
    assert [r.pk for r in client.get("/search/").context["result"].listings] == [fine.pk]
    # Running it again changes nothing.
    assert recheck_published(tenant_id=tenant.pk) == {"checked": 1, "lapsed": 0}
