"""A whole trade as two partners' clients would run it, through the API only: bulk import → staff
verification (their service) → search → order → confirm → pay by bank transfer (finance records the
receipt with their service) → papers signed by both sides → filed by the escrow officer (service) →
the office answers (the transfers poll service) → the buyer confirms the certificate → payout
(finance marks it paid). Webhooks are delivered to both partners along the way."""

import pytest
from django.utils import timezone

from accounts.models import Organization, Role
from escrow.models import Disbursement, Payment
from escrow.services import bank_transfer_record_receipt, disbursement_mark_paid
from listings.models import Listing
from listings.selectors import verification_checklist
from listings.services import listing_decide
from partners.models import WebhookDelivery
from partners.webhooks import deliver_in_tenant
from tests.factories import api_headers, make_api_key, make_member, register_record
from transfers.services import transfer_file, transfer_poll_due, transfer_prepare

from .test_webhooks import Receiver

pytestmark = pytest.mark.django_db


class Partner:
    def __init__(self, client, secret):
        self.client, self.headers = client, api_headers(secret)

    def get(self, url, **params):
        response = self.client.get(url, params, headers=self.headers)
        assert response.status_code == 200, (url, response.status_code, response.content[:500])
        return response

    def post(self, url, data=None, status=200, key=None, **kwargs):
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        response = self.client.post(url, data or {}, content_type=kwargs.pop("content_type", "application/json"),
                                    headers=headers)
        assert response.status_code == status, (url, response.status_code, response.content[:800])
        return response.json()


def test_a_whole_trade_through_the_api(client, tenant, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    settings.API_THROTTLE_RATE = "100000/min"
    receiver = Receiver()
    try:
        _run_trade(client, tenant, receiver)
    finally:
        receiver.close()


def _run_trade(client, tenant, receiver):
    # given: two partner organizations with keys issued by the exchange
    university = Organization.objects.create(
        legal_name="清源大学技术转移中心", legal_name_en="Qingyuan University TTO", country="CN",
        registration_number="12100000400000624D", address="北京市海淀区清华园1号",
        verification_status=Organization.Verification.VERIFIED,
        # where it is paid, verified by the exchange's finance team (issue 11: payouts wait for this)
        payout_bank_name="中国银行北京海淀支行", payout_account_name="清源大学", payout_bank_account="6217 0000 1234 5678",
        payout_cnaps="104100004465", payout_verified_at=timezone.now())
    company = Organization.objects.create(
        legal_name="北京星河智能科技有限公司", legal_name_en="Starriver Smart Tech", country="CN",
        registration_number="91110108MA01R2QF9G", address="北京市海淀区中关村大街1号",
        verification_status=Organization.Verification.VERIFIED)
    _, seller_secret = make_api_key(organization=university, name="TTO portfolio system")
    _, buyer_secret = make_api_key(organization=company, name="Starriver procurement")
    seller, buyer = Partner(client, seller_secret), Partner(client, buyer_secret)
    records = [register_record(owner_name=university.legal_name, title=f"一种锂电池热管理方法 {i}")
               for i in range(3)]
    for partner in (seller, buyer):
        partner.post("/api/v1/webhooks/endpoints", {"url": receiver.url, "event_types": [
            "listing.verified", "listing.rejected", "order.state_changed", "transfer.notice_received"]}, status=201)

    # 1. the university imports its portfolio (CSV) and submits it for verification
    csv_text = "number,price,deal_type,industry_tags\n" + "".join(
        f"{r.number},{100000 + i * 1000}.00,assignment,batteries;energy\n" for i, r in enumerate(records))
    imported = client.post("/api/v1/seller/listings/import?submit=true", csv_text, content_type="text/csv",
                           headers={**seller.headers, "Idempotency-Key": "import-2026-11"})
    assert imported.status_code == 201, imported.json()
    assert imported.json()["count"] == 3
    listing_id = imported.json()["listings"][0]["id"]

    # 2. the exchange's verifier approves (their service)
    verifier = make_member(roles=(Role.VERIFIER,), org=False)
    listing = Listing.objects.get(pk=listing_id)
    listing_decide(listing=listing, actor=verifier, approve=True,
                   confirmed={c["code"]: True for c in verification_checklist(listing)})
    assert seller.get(f"/api/v1/seller/listings/{listing_id}").json()["state"] == "published"

    # 3. the company finds it and orders it
    found = buyer.get("/api/v1/listings", q=records[0].number).json()["results"]
    assert [row["id"] for row in found] == [listing_id]
    order = buyer.post("/api/v1/orders", {"listing_id": listing_id, "terms_accepted": True}, status=201,
                       key="order-listing-1")
    ref = order["reference"]
    assert order["next_action"] == ""  # waiting for the seller

    # 4. the university confirms
    assert seller.get(f"/api/v1/orders/{ref}").json()["next_action"] == "confirm"
    assert seller.post(f"/api/v1/orders/{ref}/confirm", key="confirm-1")["state"] == "seller_confirmed"

    # 5. the company pays by bank transfer; finance records the receipt (their service)
    assert buyer.get(f"/api/v1/orders/{ref}").json()["next_action"] == "pay"
    paid = buyer.post(f"/api/v1/orders/{ref}/pay", {"method": "bank_transfer"}, key="pay-1")
    instructions = paid["instructions"]
    finance = make_member(roles=(Role.FINANCE,), org=False)
    payment = Payment.objects.get(reference=instructions["reference"])
    bank_transfer_record_receipt(payment=payment, actor=finance, amount_minor=int(instructions["amount_minor"]),
                                 bank_reference="BOC-20261122-0001")
    detail = buyer.get(f"/api/v1/orders/{ref}").json()
    assert detail["state"] == "funded"
    assert detail["statement"]["held"] == detail["money"]["total_minor"]

    # 6. the worker prepares the papers; both sides sign every paper through the API
    transfer_prepare(order=payment.order)
    # a signature belongs to a person: the key names the member who signs, whose profile name is typed
    chen = make_member(roles=(Role.SELLER,), org=university, full_name="陈静 Chen Jing", email="chen@tto.example")
    liu = make_member(roles=(Role.BUYER,), org=company, full_name="刘洋 Liu Yang", email="liu@starriver.example")
    documents = seller.get(f"/api/v1/orders/{ref}/documents").json()
    first = next(d for d in documents if d["needs_signatures"])
    seller.post(f"/api/v1/orders/{ref}/documents/{first['id']}/sign",  # the key itself is no person
                {"typed_name": "陈静", "signer_email": "", "consent": True}, status=400)
    key_itself = client.post(f"/api/v1/orders/{ref}/documents/{first['id']}/sign",
                             {"typed_name": "陈静", "consent": True, "signer_email": "nobody@tto.example"},
                             content_type="application/json", headers=seller.headers)
    assert key_itself.status_code == 400
    seller.post(f"/api/v1/orders/{ref}/documents/{first['id']}/sign",  # someone else's name
                {"typed_name": "刘洋", "signer_email": chen.email, "consent": True}, status=400)
    for partner, name, person in ((seller, "陈静", chen), (buyer, "Liu Yang", liu)):
        documents = partner.get(f"/api/v1/orders/{ref}/documents").json()
        to_sign = [d for d in documents if d["needs_signatures"]]
        assert len(to_sign) == 3
        for document in to_sign:
            pdf = client.get(document["download_url"], headers=partner.headers)
            assert pdf["Content-Type"] == "application/pdf"
            assert b"".join(pdf.streaming_content).startswith(b"%PDF")
        if partner is seller:
            for document in to_sign:
                signed = partner.post(f"/api/v1/orders/{ref}/documents/{document['id']}/sign",
                                      {"typed_name": name, "signer_email": person.email, "consent": True,
                                       "sha256": document["sha256"]})
                assert signed["signatures"]
        else:  # all papers in one step
            signed = partner.post(f"/api/v1/orders/{ref}/documents/sign-all",
                                  {"typed_name": name, "signer_email": person.email, "consent": True,
                                   "sha256": {d["kind"]: d["sha256"] for d in to_sign}})
            assert all(d["signatures"] for d in signed)
    transfer = buyer.get(f"/api/v1/orders/{ref}").json()["transfer"]
    assert transfer["signatures_missing"] == {"seller": [], "buyer": []}

    # 7. the escrow officer files (their service); the office answers (the poll service)
    officer = make_member(roles=(Role.ESCROW_OFFICER,), org=False)
    transfer_file(order=payment.order, actor=officer)
    assert buyer.get(f"/api/v1/orders/{ref}").json()["state"] == "transfer_filed"
    transfer_poll_due()
    detail = buyer.get(f"/api/v1/orders/{ref}").json()
    assert detail["state"] == "transfer_approved"
    assert detail["transfer"]["notice_number"]
    assert detail["next_action"] == "certificate"
    notice = [d for d in detail["transfer"]["documents"] if d["kind"] == "notice"]
    if notice:  # the office's notice is downloadable like the papers
        assert client.get(notice[0]["download_url"], headers=buyer.headers).status_code == 200

    # 8. the company confirms the certificate: completed, payout queued; finance pays it (their service)
    # the amount must be the one shown: a different one is refused and nothing changes
    refused = client.post(f"/api/v1/orders/{ref}/confirm-certificate",
                          {"expected_amount_minor": detail["money"]["payout_minor"] + 1}, content_type="application/json",
                          headers={**buyer.headers, "Idempotency-Key": "certificate-0"})
    assert refused.status_code == 409, refused.content
    assert buyer.get(f"/api/v1/orders/{ref}").json()["state"] == "transfer_approved"
    done = buyer.post(f"/api/v1/orders/{ref}/confirm-certificate", {"expected_amount_minor": detail["money"]["payout_minor"]},
                      key="certificate-1")
    assert done["state"] == "completed"
    payout = Disbursement.objects.get(order__reference=ref, kind=Disbursement.Kind.PAYOUT)
    if payout.state != Disbursement.State.PAID:
        disbursement_mark_paid(disbursement=payout, actor=finance, bank_reference="BOC-PAYOUT-0001")
    final = seller.get(f"/api/v1/orders/{ref}").json()
    assert final["timeline"][-1]["status"] == "done"
    assert final["statement"]["held"] == 0
    assert final["statement"]["paid_out"] == final["money"]["payout_minor"]
    assert [d["state"] for d in final["disbursements"] if d["kind"] == "payout"] == ["paid"]

    # 9. both partners got signed webhooks for every step
    for delivery in WebhookDelivery.objects.order_by("id"):
        deliver_in_tenant(delivery_id=delivery.pk, tenant_id=tenant.pk)
    events = [(d.endpoint.organization_id, d.event_type, d.payload["data"].get("to", ""))
              for d in WebhookDelivery.objects.select_related("endpoint").order_by("id")]
    seller_states = [to for org, kind, to in events if org == university.pk and kind == "order.state_changed"]
    assert seller_states == ["placed", "seller_confirmed", "funded", "transfer_filed", "transfer_approved",
                             "completed"]
    assert (university.pk, "listing.verified", "") in events
    assert (company.pk, "transfer.notice_received", "") in events
    assert WebhookDelivery.objects.exclude(status="succeeded").count() == 0
    assert len(receiver.requests) == len(events)
