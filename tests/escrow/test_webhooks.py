"""Provider webhooks: the simulated provider and Stripe, through the one webhook endpoint.

Stripe payloads are signed with the library's own signing helper; the Stripe client's HTTP layer is
replaced by a fake, so no network is used."""

import json
import time

import pytest
import stripe

from core.models import OutboxMessage
from escrow import ledger
from escrow import services as s
from escrow.models import Disbursement, OrderState, Payment, WebhookEvent
from escrow.payments import simulated, stripe_provider
from tests.factories import escrow_staff, order_in_state

pytestmark = pytest.mark.django_db
WHSEC = "whsec_test_secret_123"


@pytest.fixture
def stripe_on(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_123"
    settings.STRIPE_WEBHOOK_SECRET = WHSEC
    fake = FakeStripeHTTP()
    old = stripe_provider.HTTP_CLIENT
    stripe_provider.HTTP_CLIENT = fake
    yield fake
    stripe_provider.HTTP_CLIENT = old


class FakeStripeHTTP(stripe.HTTPClient):
    """Answers Stripe API calls from memory and records them (method, path, form body, headers)."""

    name = "fake"

    def __init__(self):
        super().__init__()
        self.calls = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        from urllib.parse import parse_qs, urlparse

        path = urlparse(url).path
        form = {k: v[0] for k, v in parse_qs(post_data or "").items()}
        self.calls.append((method, path, form, dict(headers or {})))
        n = len(self.calls)
        if path.endswith("/checkout/sessions"):
            body = {"id": f"cs_test_{n}", "object": "checkout.session", "url": f"https://checkout.stripe.test/{n}"}
        elif path.endswith("/refunds"):
            body = {"id": f"re_test_{n}", "object": "refund", "status": "succeeded", "amount": int(form["amount"])}
        elif path.endswith("/transfers"):
            body = {"id": f"tr_test_{n}", "object": "transfer", "amount": int(form["amount"])}
        else:
            return json.dumps({"error": {"message": "not faked"}}), 404, {}
        return json.dumps(body), 200, {"request-id": f"req_{n}"}

    def close(self):
        pass


def stripe_event(payment, *, event_id="evt_1", kind="payment_intent.succeeded", amount=None):
    return json.dumps({
        "id": event_id, "object": "event", "type": kind,
        "data": {"object": {
            "id": "pi_test_1", "object": "payment_intent", "amount": amount or payment.amount_minor,
            "amount_received": amount or payment.amount_minor, "currency": payment.currency.lower(),
            "metadata": {"tenant_id": str(payment.tenant_id), "payment_id": str(payment.pk)},
        }},
    })


def post_stripe(client, body, header):
    headers = {"HTTP_STRIPE_SIGNATURE": header} if header is not None else {}
    return client.post("/orders/webhooks/stripe/", data=body, content_type="application/json", **headers)


def test_stripe_checkout_charges_the_platform_with_transfer_group(tenant, stripe_on):
    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    payment = s.payment_start(order=order, actor=buyer, provider="stripe")
    url = stripe_provider.StripeProvider().checkout_url(payment)
    assert url.startswith("https://checkout.stripe.test/")
    method, path, form, headers = stripe_on.calls[0]
    assert path == "/v1/checkout/sessions"
    assert form["payment_intent_data[transfer_group]"] == f"t{order.tenant_id}-{order.reference}"
    assert form["line_items[0][price_data][unit_amount]"] == str(order.total_minor)
    assert headers["Idempotency-Key"] == f"ipex-checkout-{tenant.pk}-{payment.pk}"


def test_stripe_webhook_funds_once_and_rejects_forged_stale_unsigned(tenant, client, stripe_on):
    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    payment = s.payment_start(order=order, actor=buyer, provider="stripe")
    body = stripe_event(payment)
    good = stripe.WebhookSignature.generate_signature_header(body, WHSEC)
    forged = stripe.WebhookSignature.generate_signature_header(body, "whsec_someone_else")
    stale = stripe.WebhookSignature.generate_signature_header(body, WHSEC, timestamp=int(time.time()) - 3600)
    # forged, stale, unsigned: 400 and nothing happens
    assert post_stripe(client, body, forged).status_code == 400
    assert post_stripe(client, body, stale).status_code == 400
    assert post_stripe(client, body, None).status_code == 400
    assert post_stripe(client, body.replace("pi_test_1", "pi_evil"), good).status_code == 400  # tampered body
    order.refresh_from_db()
    assert order.state == OrderState.SELLER_CONFIRMED
    # the genuine event funds the order
    response = post_stripe(client, body, good)
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "funded"}
    # the same event again (Stripe retries): processed once
    again = post_stripe(client, body, stripe.WebhookSignature.generate_signature_header(body, WHSEC))
    assert again.json() == {"status": "duplicate"}
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.state == OrderState.FUNDED
    assert payment.provider_ref == "pi_test_1"
    assert ledger.escrow_balance(order) == order.total_minor
    assert WebhookEvent.objects.filter(provider="stripe").count() == 1


def test_stripe_failure_after_success_changes_nothing(tenant, client, stripe_on):
    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    payment = s.payment_start(order=order, actor=buyer, provider="stripe")
    ok = stripe_event(payment, event_id="evt_ok")
    failed = stripe_event(payment, event_id="evt_fail", kind="payment_intent.payment_failed")
    assert post_stripe(client, ok, stripe.WebhookSignature.generate_signature_header(ok, WHSEC)).json()["status"] == "funded"
    late = post_stripe(client, failed, stripe.WebhookSignature.generate_signature_header(failed, WHSEC))
    assert late.json()["status"] == "ignored"
    payment.refresh_from_db()
    assert payment.state == Payment.State.SUCCEEDED


def test_stripe_unrelated_events_are_acknowledged(tenant, client, stripe_on):
    body = json.dumps({"id": "evt_x", "object": "event", "type": "customer.created", "data": {"object": {"id": "cus_1"}}})
    response = post_stripe(client, body, stripe.WebhookSignature.generate_signature_header(body, WHSEC))
    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}


def test_stripe_refund_and_transfer_use_idempotency_keys(tenant, client, stripe_on):
    # given a Stripe-funded order whose seller has a connected account
    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    order.seller_org.stripe_account_id = "acct_seller_1"
    order.seller_org.save()
    payment = s.payment_start(order=order, actor=buyer, provider="stripe")
    body = stripe_event(payment)
    post_stripe(client, body, stripe.WebhookSignature.generate_signature_header(body, WHSEC))
    # when staff refund it
    s.order_refund(order=order, actor=escrow_staff(), reason="Seller withdrew")
    refund = Disbursement.objects.get(order=order, kind="refund")
    assert s.disbursement_execute(disbursement_id=refund.pk) == "paid"
    method, path, form, headers = stripe_on.calls[-1]
    # then Stripe is asked for a Refund of that PaymentIntent, keyed by our id
    assert path == "/v1/refunds"
    assert form["payment_intent"] == "pi_test_1"
    assert form["amount"] == str(order.total_minor)
    assert headers["Idempotency-Key"] == refund.idempotency_key
    assert ledger.totals_by_kind()[("provider_clearing", order.currency)] == 0


def test_stripe_release_transfers_to_connected_account(tenant, client, stripe_on):
    from django.db import transaction

    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    order.seller_org.stripe_account_id = "acct_seller_2"
    order.seller_org.stripe_payouts_enabled = True
    order.seller_org.save()
    payment = s.payment_start(order=order, actor=buyer, provider="stripe")
    body = stripe_event(payment)
    post_stripe(client, body, stripe.WebhookSignature.generate_signature_header(body, WHSEC))
    for step in ("file_transfer", "approve_transfer"):
        with transaction.atomic():
            s.order_step(s.lock_order(order.pk), step)
    s.order_confirm_certificate(order=order, actor=buyer)
    payout = Disbursement.objects.get(order=order, kind="payout")
    assert s.disbursement_execute(disbursement_id=payout.pk) == "paid"
    method, path, form, headers = stripe_on.calls[-1]
    assert path == "/v1/transfers"
    assert form["destination"] == "acct_seller_2"
    assert form["transfer_group"] == f"t{order.tenant_id}-{order.reference}"
    assert form["amount"] == str(order.payout_minor)
    assert headers["Idempotency-Key"] == payout.idempotency_key


def test_stripe_payout_without_connected_account_waits_with_a_reason(tenant, client, stripe_on):
    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    payment = s.payment_start(order=order, actor=buyer, provider="stripe")
    body = stripe_event(payment)
    post_stripe(client, body, stripe.WebhookSignature.generate_signature_header(body, WHSEC))
    from django.db import transaction

    for step in ("file_transfer", "approve_transfer"):
        with transaction.atomic():
            s.order_step(s.lock_order(order.pk), step)
    s.order_confirm_certificate(order=order, actor=buyer)
    payout = Disbursement.objects.get(order=order, kind="payout")
    assert payout.state == "held"  # nothing is sent to Stripe while the seller has no connected account
    assert s.disbursement_execute(disbursement_id=payout.pk) == "held"
    assert "connected a Stripe account" in payout.last_error
    assert not [c for c in stripe_on.calls if c[1] == "/v1/transfers"]


def test_stripe_not_offered_without_keys(tenant, settings, monkeypatch):
    from escrow.payments import available_providers

    settings.STRIPE_SECRET_KEY = ""
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    assert "stripe" not in [p.name for p in available_providers(tenant)]


# --- the simulated provider ----------------------------------------------------------------------

def test_simulated_page_approval_reaches_the_order_through_the_webhook(tenant, client):

    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    client.force_login(buyer)
    response = client.post(f"/orders/{order.reference}/pay/", {"provider": "simulated"})
    assert response.status_code == 302
    assert "/pay/simulated/" in response["Location"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Approve" in page.content.decode() or "批准" in page.content.decode()
    payment = Payment.objects.get(order=order)
    client.post(response["Location"], {"decision": "approve", "payment": payment.reference})
    order.refresh_from_db()
    assert order.state == OrderState.SELLER_CONFIRMED  # asynchronous: not yet
    message = OutboxMessage.objects.get(task_name="escrow.tasks.simulated_deliver")
    # the worker runs the task: it signs the event and hands it to the webhook path
    assert simulated.deliver(message.kwargs['body']) == 200
    assert simulated.deliver(message.kwargs['body']) == 200  # delivered twice: applied once
    order.refresh_from_db()
    assert order.state == OrderState.FUNDED
    assert ledger.escrow_balance(order) == order.total_minor


def test_simulated_failures_can_be_switched_on(tenant, settings):

    settings.ESCROW_SIMULATED_FAIL_PAYMENTS = True
    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    payment = s.payment_start(order=order, actor=buyer, provider="simulated")
    simulated.deliver(simulated.build_event(payment, approved=True))
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.state == Payment.State.FAILED
    assert order.state == OrderState.SELLER_CONFIRMED
    settings.ESCROW_SIMULATED_FAIL_PAYMENTS = False
    settings.ESCROW_SIMULATED_FAIL_DISBURSEMENTS = True
    funded, seller, buyer = order_in_state(OrderState.FUNDED)
    s.order_refund(order=funded, actor=escrow_staff(), reason="test")
    refund = Disbursement.objects.get(order=funded)
    assert s.disbursement_execute(disbursement_id=refund.pk) == "failed"
    settings.ESCROW_SIMULATED_FAIL_DISBURSEMENTS = False
    assert s.disbursement_execute(disbursement_id=refund.pk) == "paid"


def test_simulated_webhook_endpoint_rejects_bad_signatures(tenant, client):
    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    payment = s.payment_start(order=order, actor=buyer, provider="simulated")
    body = simulated.build_event(payment, approved=True)
    url = "/orders/webhooks/simulated/"
    assert client.post(url, body, content_type="application/json").status_code == 400
    bad = {"HTTP_X_SIMULATED_SIGNATURE": "t=1,v1=deadbeef"}
    assert client.post(url, body, content_type="application/json", **bad).status_code == 400
    stale = {"HTTP_X_SIMULATED_SIGNATURE": simulated.sign(body, int(time.time()) - 3600)}
    assert client.post(url, body, content_type="application/json", **stale).status_code == 400
    good = {"HTTP_X_SIMULATED_SIGNATURE": simulated.sign(body)}
    assert client.post(url, body, content_type="application/json", **good).json() == {"status": "funded"}


def test_late_payment_on_a_cancelled_order_goes_back(tenant):
    from tests.factories import deliver_payment

    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    payment = s.payment_start(order=order, actor=buyer, provider="simulated")
    s.order_buyer_cancel(order=order, actor=buyer)
    assert deliver_payment(payment) == "returned"
    refund = Disbursement.objects.get(payment=payment, kind="refund")
    assert refund.amount_minor == payment.amount_minor
    s.disbursement_execute(disbursement_id=refund.pk)
    assert ledger.totals_by_kind()[("provider_clearing", order.currency)] == 0
    assert ledger.escrow_balance(order) == 0


def test_bank_transfer_receipt_by_finance_with_amount_check(tenant):
    from core.errors import NotAllowed, ValidationFailed

    order, seller, buyer = order_in_state(OrderState.SELLER_CONFIRMED)
    payment = s.payment_start(order=order, actor=buyer, provider="bank_transfer")
    finance = escrow_staff()
    with pytest.raises(NotAllowed):
        s.bank_transfer_record_receipt(payment=payment, actor=buyer, amount_minor=payment.amount_minor)
    with pytest.raises(ValidationFailed, match="is due"):
        s.bank_transfer_record_receipt(payment=payment, actor=finance, amount_minor=payment.amount_minor - 1)
    assert s.bank_transfer_record_receipt(payment=payment, actor=finance, amount_minor=payment.amount_minor,
                                          bank_reference="BOC-7781") == "funded"
    order.refresh_from_db()
    assert order.state == OrderState.FUNDED
    # a refund of a bank payment waits for finance to pay it by hand
    s.order_refund(order=order, actor=finance, reason="Deal off")
    refund = Disbursement.objects.get(order=order)
    assert s.disbursement_execute(disbursement_id=refund.pk) == "pending"
    s.disbursement_mark_paid(disbursement=refund, actor=finance, bank_reference="BOC-RET-1")
    refund.refresh_from_db()
    assert refund.state == "paid"
    assert ledger.totals_by_kind()[("provider_clearing", order.currency)] == 0
