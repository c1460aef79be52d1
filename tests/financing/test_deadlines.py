"""Deadlines of pledge loans: a lender's offer stands for its validity; an application expires when no
offer is accepted by its deadline. Beat expires both through the services (audited, notified); an
expired offer cannot be accepted and an application past its deadline takes no offers."""

import datetime

import pytest
from django.utils import timezone

from core.models import AuditEvent, Notification
from financing import services
from financing.models import LoanApplication, LoanOffer, PartnerKind
from financing.tasks import expire_deadlines
from tests.factories import api_headers, finance_partner, make_api_key, open_application, rights_holder

pytestmark = pytest.mark.django_db
PAST = timezone.now() - datetime.timedelta(minutes=1)


@pytest.fixture
def world(tenant, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    org, holder, records = rights_holder(n=1)
    bank, banker = finance_partner(kind=PartnerKind.BANK, legal_name="Bank of Haidian")
    _k, bank_secret = make_api_key(organization=bank.organization)
    _k, holder_secret = make_api_key(organization=org)
    application, _h, _r = open_application(holder=(org, holder, records))
    return {"org": org, "holder": holder, "records": records, "bank": bank, "banker": banker,
            "application": application, "b": {**api_headers(bank_secret), "Accept-Language": "en"},
            "h": {**api_headers(holder_secret), "Accept-Language": "en"}}


def _offer(client, world, **extra):
    return client.post(f"/api/v1/financing/applications/{world['application'].reference}/offers",
                       {"amount_minor": 1_000_000_00, "rate_bps": 400, "term_months": 12, **extra},
                       content_type="application/json", headers=world["b"])


def test_an_application_has_a_deadline_and_an_offer_a_validity(client, world, settings):
    application = world["application"]
    days = (application.offers_due - timezone.now()).days
    assert days in (settings.FINANCING_APPLICATION_DAYS - 1, settings.FINANCING_APPLICATION_DAYS)
    r = _offer(client, world, valid_days=3)
    assert r.status_code == 201, r.content
    offer = LoanOffer.objects.get(pk=r.json()["id"])
    assert 2 <= (offer.expires_at - timezone.now()).days <= 3
    assert r.json()["expires_at"]
    assert _offer(client, world, valid_days=91).status_code == 400
    detail = client.get(f"/api/v1/financing/applications/{application.reference}", headers=world["h"]).json()
    assert detail["offers_due"]


def test_an_expired_offer_cannot_be_accepted_and_beat_expires_it(client, world):
    offer_id = _offer(client, world).json()["id"]
    LoanOffer.objects.filter(pk=offer_id).update(expires_at=PAST)
    r = client.post(f"/api/v1/financing/applications/{world['application'].reference}/offers/{offer_id}/accept",
                    content_type="application/json", headers=world["h"])
    assert r.status_code == 409
    assert "This offer expired on" in r.json()["detail"]
    assert LoanApplication.objects.get().state == "open"
    assert expire_deadlines() == 1
    assert LoanOffer.objects.get().state == "expired"
    assert AuditEvent.objects.filter(action="financing.offer_expired").count() == 1
    for user in (world["banker"], world["holder"]):
        assert Notification.objects.filter(user=user, kind="financing.offer_expired").exists()
    assert expire_deadlines() == 0  # nothing twice
    # the lender may offer again while the application is open
    assert _offer(client, world).status_code == 201


def test_an_application_past_its_deadline_takes_no_offer_and_expires_with_its_offers(client, world):
    offer_id = _offer(client, world).json()["id"]
    LoanApplication.objects.update(offers_due=PAST)
    r = _offer(client, world)
    assert r.status_code == 409
    assert "deadline passed" in r.json()["detail"]
    r = client.post(f"/api/v1/financing/applications/{world['application'].reference}/offers/{offer_id}/accept",
                    content_type="application/json", headers=world["h"])
    assert r.status_code == 409
    assert expire_deadlines() == 1
    application = LoanApplication.objects.get()
    assert application.state == "expired"
    assert LoanOffer.objects.get().state == "expired"
    assert AuditEvent.objects.filter(action="financing.expire", to_state="expired").count() == 1
    for user in (world["banker"], world["holder"]):
        assert Notification.objects.filter(user=user, kind="financing.application_expired").exists()
    # the rights are free for a new application
    again = services.application_create(actor=world["holder"], organization=world["org"],
                                        record_ids=[r.pk for r in world["records"]], amount_minor=1_000_00,
                                        currency="CNY", term_months=12, purpose="Second try")
    assert again.state == "open"
