"""Property-based: every operation of the schema, generated requests in-process against the WSGI app
with a valid key (all scopes). Zero server errors, and every response conforms to the schema
(status code, content type, headers, body)."""

import itertools
import os

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from escrow.models import OrderState
from marketplace.wsgi import application
from tests.factories import (
    WebhookEndpointFactory,
    api_headers,
    draft_listing,
    escrow_listing,
    make_api_key,
    make_member,
    order_in_state,
    published_listing,
    transfer_order,
)

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = application

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# ~30-40 s for every operation on a laptop; raise it for a deeper local run: API_FUZZ_EXAMPLES=500
EXAMPLES_PER_OPERATION = int(os.environ.get("API_FUZZ_EXAMPLES", "40"))
_ALTERNATE = itertools.count()


@pytest.fixture
def _keep_db_connection():
    """The WSGI app runs in this thread, on the test's connection and transaction: keep Django from
    closing the connection at the end of each request (as its own test client does)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(tenant, settings, _keep_db_connection):
    """The key's organization is the buyer of a funded order with its papers, the seller of a draft
    listing and of a placed order, and has a webhook endpoint; their ids are used for half the cases,
    so the handlers behind the ids are fuzzed too, not only the 404s."""
    from accounts.models import Role
    from transfers.models import TransferDocument
    from transfers.services import transfer_prepare

    settings.API_THROTTLE_RATE = "1000000/min"
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    funded, _seller, _buyer = transfer_order(state=OrderState.FUNDED)
    transfer_prepare(order=funded)
    org = funded.buyer_org
    key, secret = make_api_key(organization=org)
    seller = make_member(roles=(Role.SELLER,), org=org)
    draft = draft_listing(seller=seller, org=org)
    published_listing(org=org)
    listing = escrow_listing(seller_org=org, created_by=seller)
    order_in_state(OrderState.PLACED, listing=listing, seller=seller, buyer=make_member(roles=(Role.BUYER,)))
    endpoint = WebhookEndpointFactory(organization=org, url="https://partner.example.com/h")
    document = TransferDocument.objects.filter(order=funded, kind="agreement").first()
    ids = {"/api/v1/webhooks/": {"id": endpoint.pk}, "/api/v1/orders/": {"reference": funded.reference,
                                                                         "id": document.pk},
           "/api/v1/seller/": {"id": draft.pk}, "/api/v1/listings/": {"id": draft.pk}}
    return {"headers": api_headers(secret), "ids": ids}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_conforms_to_its_schema(case, world):
    if case.path_parameters and next(_ALTERNATE) % 2:
        for prefix, values in world["ids"].items():
            if case.operation.path.startswith(prefix):
                case.path_parameters = {**case.path_parameters,
                                        **{k: v for k, v in values.items() if k in case.path_parameters}}
    case.call_and_validate(base_url="http://testserver", headers=world["headers"], checks=CHECKS)
