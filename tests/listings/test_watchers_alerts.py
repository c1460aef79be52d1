"""A buyer watching a listing hears when monitoring finds something about the right it offers."""

import pytest
from django.utils import timezone

from core.models import Notification
from listings.models import Watch
from rights.models import Holding, RegisterRecord
from rights.monitoring import monitor_due
from rights.services import holding_ensure
from tests.factories import OrganizationFactory, make_member
from tests.factories.listings import published_listing, register_record

pytestmark = pytest.mark.django_db


def test_watchers_of_a_listing_hear_that_its_right_lapsed_once(tenant, django_capture_on_commit_callbacks):
    seller_org = OrganizationFactory()
    record = register_record(owner_name=seller_org.legal_name)
    listing = published_listing(org=seller_org, records=[record])
    holding_ensure(organization=seller_org, record=record)
    watcher, bystander = make_member(), make_member()
    Watch.objects.create(user=watcher, listing=listing)
    other = published_listing(records=[register_record()])
    Watch.objects.create(user=bystander, listing=other)
    with django_capture_on_commit_callbacks(execute=True):
        monitor_due()  # the baseline
    RegisterRecord.objects.filter(pk=record.pk).update(legal_status="lapsed")
    for _ in range(2):  # the cycle runs twice: one alert, one notice
        Holding.objects.update(next_check_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            monitor_due()
    notes = list(Notification.objects.filter(user=watcher))
    assert len(notes) == 1
    assert notes[0].kind == "listing.watched_right.lapse"
    assert notes[0].url == listing.get_absolute_url()
    assert record.number in notes[0].subject
    assert not Notification.objects.filter(user=bystander).exists()


def test_a_watcher_reads_the_alert_in_their_language_not_the_workers(tenant, django_capture_on_commit_callbacks):
    from django.utils import translation

    seller_org = OrganizationFactory()
    record = register_record(owner_name=seller_org.legal_name)
    listing = published_listing(org=seller_org, records=[record])
    holding_ensure(organization=seller_org, record=record)
    watcher = make_member(language="zh-hans")
    Watch.objects.create(user=watcher, listing=listing)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        monitor_due()  # the baseline
    RegisterRecord.objects.filter(pk=record.pk).update(legal_status="lapsed")
    Holding.objects.update(next_check_at=timezone.now())
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        monitor_due()  # the worker speaks English
    [note] = Notification.objects.filter(user=watcher)
    with translation.override("zh-hans"):
        body = note.display_body
    assert "登记簿现显示" in body
    assert "is now" not in body
    with translation.override("en"):
        assert "is now “Lapsed (fees unpaid)” in the register" in note.display_body
