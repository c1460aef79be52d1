"""The whole pledge flow through the partner API, the bank acting with its own key: application →
offer → accept → both sign → staff file → simulated office records the pledge (the right carries it
and refuses a sale) → disbursement (service fee in the ledger) → repayment → release filed and
recorded (the pledge leaves the right). And the bad input of the issue: clear messages, nothing changed."""

import datetime

import pytest
from django.utils import timezone

from core.errors import InvalidTransition, ValidationFailed
from escrow import ledger
from escrow.models import AccountKind, JournalEntry, Order
from escrow.services import order_place
from financing import services
from financing.models import ApplicationState, LoanApplication, LoanOffer, PartnerKind
from rights.models import RegisterRecord
from tests.factories import (
    api_headers,
    finance_partner,
    finance_staff,
    held_record,
    make_api_key,
    make_member,
    open_application,
    published_listing,
    register_record,
    rights_holder,
)
from transfers.models import RecordalFiling
from transfers.services import recordal_poll_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    org, holder, records = rights_holder(n=2)
    bank, banker = finance_partner(kind=PartnerKind.BANK, legal_name="Bank of Beijing Zhongguancun Branch")
    _k, holder_secret = make_api_key(organization=org)
    _k, bank_secret = make_api_key(organization=bank.organization)
    return {"org": org, "holder": holder, "records": records, "bank": bank, "banker": banker,
            "h": {**api_headers(holder_secret), "Accept-Language": "en"},
            "b": {**api_headers(bank_secret), "Accept-Language": "en"}, "staff": finance_staff()}


def post(client, url, headers, data=None):
    return client.post(url, data or {}, content_type="application/json", headers=headers)


def test_the_whole_pledge_flow_through_the_api(client, world):
    records = world["records"]
    # the holder applies
    r = post(client, "/api/v1/financing/applications", world["h"],
             {"rights": [rec.pk for rec in records], "amount_minor": 3_000_000_00, "term_months": 12,
              "purpose": "Working capital"})
    assert r.status_code == 201, r.content
    ref = r.json()["reference"]
    base = f"/api/v1/financing/applications/{ref}"
    # the bank sees it in its list, with the data pack
    listed = client.get("/api/v1/financing/applications", headers=world["b"]).json()["results"]
    assert [a["reference"] for a in listed] == [ref]
    pack = client.get(base, headers=world["b"]).json()
    assert {row["id"] for row in pack["rights"]} == {rec.pk for rec in records}
    assert any(i["code"] == "remaining_term" for i in pack["valuation"]["indicators"])
    # the bank offers
    r = post(client, f"{base}/offers", world["b"], {"amount_minor": 2_500_000_00, "rate_bps": 385, "term_months": 12,
                                                    "conditions": "Quarterly interest"})
    assert r.status_code == 201, r.content
    offer_id = r.json()["id"]
    # the holder accepts; the contract is generated
    r = post(client, f"{base}/offers/{offer_id}/accept", world["h"])
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["state"] == "accepted"
    sha = body["contract"]["sha256"]
    pdf = client.get(f"{base}/contract", headers=world["b"])
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    # a late offer is refused, nothing changes
    _other, other_banker = finance_partner(kind=PartnerKind.GUARANTOR)
    with pytest.raises(Exception) as late:
        services.offer_make(actor=other_banker, organization=_other.organization,
                            application=LoanApplication.objects.get(reference=ref), amount_minor=1, rate_bps=1,
                            term_months=1)
    assert "closed to offers" in str(late.value)
    assert LoanOffer.objects.filter(application__reference=ref).count() == 1
    # both sign
    r = post(client, f"{base}/contract/sign", world["h"], {"typed_name": "Li Wei", "consent": True, "sha256": sha})
    assert r.status_code == 200, r.content
    r = post(client, f"{base}/contract/sign", world["b"], {"typed_name": "Zhang Min", "consent": True, "sha256": sha})
    assert r.json()["state"] == "signed"
    # staff file the pledge; the simulated office records it at the next poll
    services.pledge_file(actor=world["staff"], application=LoanApplication.objects.get(reference=ref))
    filing = RecordalFiling.objects.get(subject=f"financing.application:{ref}", kind="pledge")
    assert filing.office == "cnipa_patent"
    assert filing.status == "filed"
    assert filing.reference.startswith("CNZL-")
    assert recordal_poll_due()["approved"] == 1
    detail = client.get(base, headers=world["b"]).json()
    assert detail["state"] == "pledged"
    assert detail["pledge_filing"]["status"] == "approved"
    # the right shows the pledge …
    for rec in records:
        rec.refresh_from_db()
        assert [(e["type"], e["holder"], e["reference"]) for e in rec.encumbrances] == [
            ("pledge", "Bank of Beijing Zhongguancun Branch", filing.reference)]
    page = client.get(f"/financing/rights/{records[0].pk}/", headers={"Accept-Language": "en"}).content.decode()
    assert "Pledged to Bank of Beijing Zhongguancun Branch" in page
    # … and a sale of it is refused
    listing = published_listing(org=world["org"], records=[records[0]])
    buyer = make_member()
    with pytest.raises(ValidationFailed) as refused:
        order_place(listing=listing, buyer=buyer, terms_accepted=True)
    assert "cannot be sold" in refused.value.message
    assert not Order.objects.filter(listing=listing).exists()
    # the bank confirms the disbursement: the exchange's fee (0.5%) is charged through the ledger
    r = post(client, f"{base}/disbursement", world["b"], {"on": str(timezone.localdate()),
                                                          "amount_minor": 2_500_000_00, "reference": "BJ-778"})
    assert r.status_code == 200, r.content
    assert r.json()["service_fee_minor"] == 1_250_000
    receivable = ledger.account(AccountKind.RECEIVABLE, "CNY", organization=world["org"])
    assert ledger.balance(receivable) == 1_250_000
    assert ledger.entries_unbalanced() == []
    # a second confirmation changes nothing
    r = post(client, f"{base}/disbursement", world["b"], {"on": str(timezone.localdate()), "amount_minor": 5})
    assert r.status_code == 409
    assert JournalEntry.objects.filter(kind="service_fee_charged").count() == 1
    # repayment → release filed → recorded: the pledge leaves the right
    r = post(client, f"{base}/repayment", world["b"], {"on": str(timezone.localdate()), "reference": "BJ-990"})
    assert r.status_code == 200
    # the release agreement is generated; staff cannot file before both sides signed it
    release = client.get(base, headers=world["h"]).json()["release_agreement"]
    assert release["signatures"] == []
    agreement = client.get(f"{base}/release-agreement", headers=world["b"])
    assert b"".join(agreement.streaming_content).startswith(b"%PDF")
    with pytest.raises(InvalidTransition, match="release agreement"):
        services.release_file(actor=world["staff"], application=LoanApplication.objects.get(reference=ref))
    assert not RecordalFiling.objects.filter(kind="pledge_release").exists()
    r = post(client, f"{base}/release-agreement/sign", world["h"],
             {"typed_name": "Li Wei", "consent": True, "sha256": release["sha256"]})
    assert r.status_code == 200, r.content
    assert post(client, f"{base}/release-agreement/sign", world["h"],
                {"typed_name": "Li Wei", "consent": True}).status_code == 409  # once per side
    r = post(client, f"{base}/release-agreement/sign", world["b"], {"typed_name": "Zhang Min", "consent": True})
    assert [s["party"] for s in r.json()["release_agreement"]["signatures"]] == ["pledgor", "pledgee"]
    services.release_file(actor=world["staff"], application=LoanApplication.objects.get(reference=ref))
    assert recordal_poll_due()["approved"] == 1
    detail = client.get(base, headers=world["h"]).json()
    assert detail["state"] == "released"
    assert detail["release_filing"]["kind"] == "pledge_release"
    for rec in records:
        rec.refresh_from_db()
        assert rec.encumbrances == []


def test_an_office_refusal_sends_the_pledge_back_to_staff(client, world):
    application, holder, _records = open_application(holder=(world["org"], world["holder"], world["records"]))
    offer = services.offer_make(actor=world["banker"], organization=world["bank"].organization,
                                application=application, amount_minor=10_00, rate_bps=400, term_months=6)
    services.offer_accept(actor=holder, offer=offer)
    for user in (holder, world["banker"]):
        services.contract_sign(actor=user, application=application, typed_name="X", consent=True)
    services.pledge_file(actor=world["staff"], application=application, outcome="reject")
    assert recordal_poll_due()["rejected"] == 1
    application.refresh_from_db()
    assert application.state == ApplicationState.SIGNED
    assert all(r.encumbrances == [] for r in RegisterRecord.objects.filter(pk__in=[x.pk for x in world["records"]]))


def _apply(client, world, record_ids, term_months=12):
    return post(client, "/api/v1/financing/applications", world["h"],
                {"rights": record_ids, "amount_minor": 1_000_00, "term_months": term_months, "purpose": "x"})


def test_an_already_pledged_right_is_refused(client, world):
    record = world["records"][0]
    RegisterRecord.objects.filter(pk=record.pk).update(
        encumbrances=[{"type": "pledge", "holder": "ICBC Beijing", "until": "2099-12-31"}])
    r = _apply(client, world, [record.pk])
    assert r.status_code == 400
    assert "already pledged to ICBC Beijing" in r.json()["detail"]
    assert not LoanApplication.objects.exists()


def test_a_right_in_another_live_application_is_refused(client, world):
    assert _apply(client, world, [world["records"][0].pk]).status_code == 201
    r = _apply(client, world, [world["records"][0].pk, world["records"][1].pk])
    assert r.status_code == 400
    assert "already offered as security" in r.json()["detail"]
    assert LoanApplication.objects.count() == 1


def test_a_right_lapsing_within_the_loan_term_is_refused(client, world):
    soon = held_record(world["org"],
                           expiry_date=timezone.localdate() + datetime.timedelta(days=200))
    r = _apply(client, world, [soon.pk], term_months=12)
    assert r.status_code == 400
    assert "lapses on" in r.json()["detail"]
    assert "within the loan term" in r.json()["detail"]
    assert not LoanApplication.objects.exists()


def test_a_right_not_owned_by_the_applicant_is_refused(client, world):
    foreign = register_record(owner_name="Somebody Else Co., Ltd.")
    r = _apply(client, world, [foreign.pk])
    assert r.status_code == 400
    assert "is not owned by" in r.json()["detail"]
    assert "Somebody Else" in r.json()["detail"]
    assert not LoanApplication.objects.exists()


def test_ownership_is_the_current_holding_not_the_name_in_the_register(client, world):
    from rights.models import Holding
    from rights.services import owner_record_transfer
    from tests.factories import OrganizationFactory

    # the register names the applicant, but another organization of the exchange holds the right
    other = OrganizationFactory()
    named_but_held_elsewhere = held_record(other)
    RegisterRecord.objects.filter(pk=named_but_held_elsewhere.pk).update(owner_name=world["org"].legal_name)
    r = _apply(client, world, [named_but_held_elsewhere.pk])
    assert r.status_code == 400
    assert "held by another organization" in r.json()["detail"]
    # the applicant sold a right it held: the office recorded the transfer
    sold = world["records"][1]
    owner_record_transfer(record=sold, from_org=world["org"], to_org=other, reference="ORD-1 / CN-REC-9")
    assert not Holding.objects.filter(record=sold, organization=world["org"], ended_at__isnull=True).exists()
    r = _apply(client, world, [sold.pk])
    assert r.status_code == 400
    assert "no longer holds" in r.json()["detail"]
    assert not LoanApplication.objects.exists()
    # a right it holds is accepted
    assert _apply(client, world, [world["records"][0].pk]).status_code == 201


def test_an_offer_after_the_application_closed_is_refused_over_the_api(client, world):
    application, holder, _r = open_application(holder=(world["org"], world["holder"], world["records"]))
    url = f"/api/v1/financing/applications/{application.reference}/offers"
    assert post(client, url, world["b"], {"amount_minor": 100, "rate_bps": 300, "term_months": 6}).status_code == 201
    guarantor, guarantor_user = finance_partner(kind=PartnerKind.GUARANTOR)
    chosen = services.offer_make(actor=guarantor_user, organization=guarantor.organization, application=application,
                                 amount_minor=200, rate_bps=250, term_months=6)
    services.offer_accept(actor=holder, offer=chosen)

    r = post(client, url, world["b"], {"amount_minor": 150, "rate_bps": 200, "term_months": 6})

    assert r.status_code == 409
    assert "closed to offers" in r.json()["detail"]
    assert sorted(LoanOffer.objects.values_list("amount_minor", "state")) == [(100, "declined"), (200, "accepted")]


def test_an_organization_that_is_not_a_listed_lender_cannot_offer(client, world):
    application, _h, _r = open_application(holder=(world["org"], world["holder"], world["records"]))
    _k, secret = make_api_key()
    r = post(client, f"/api/v1/financing/applications/{application.reference}/offers", api_headers(secret),
             {"amount_minor": 100, "rate_bps": 300, "term_months": 6})
    assert r.status_code == 404  # it cannot even see the application
    assert not LoanOffer.objects.exists()


def test_listed_banks_are_told_of_new_applications_by_webhook(client, world, settings):
    from partners.models import WebhookDelivery
    from tests.factories import WebhookEndpointFactory

    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    endpoint = WebhookEndpointFactory(organization=world["bank"].organization, url="https://bank.example.com/hooks",
                                      event_types=("financing.application_opened",
                                                   "financing.application_state_changed"))
    r = _apply(client, world, [world["records"][0].pk])
    assert r.status_code == 201
    deliveries = list(WebhookDelivery.objects.filter(endpoint=endpoint))
    assert [d.event_type for d in deliveries] == ["financing.application_opened"]
    assert deliveries[0].payload["data"]["application"] == r.json()["reference"]
