"""Property-based: every operation of the schema, generated requests in-process against the WSGI app
with a valid key (all scopes). Zero server errors, and every response conforms to the schema
(status code, content type, headers, body)."""

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
    escrow_parties,
    make_api_key,
    order_in_state,
    published_listing,
    register_record,
)

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
schema.app = application

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# ~30-40 s for every operation on a laptop; raise it for a deeper local run: API_FUZZ_EXAMPLES=500
EXAMPLES_PER_OPERATION = int(os.environ.get("API_FUZZ_EXAMPLES", "40"))


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
    """Data for the key's organization: listings, orders as buyer and seller, a webhook endpoint."""
    settings.API_THROTTLE_RATE = "1000000/min"
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    listing, seller, _buyer = escrow_parties()
    key, secret = make_api_key(organization=seller.memberships.first().organization)
    org = key.organization
    register_record(owner_name=org.legal_name)
    published_listing(org=org)
    order_in_state(OrderState.PLACED, listing=listing, seller=seller, buyer=make_buyer())
    WebhookEndpointFactory(organization=org, url="https://partner.example.com/h")
    return api_headers(secret)


def make_buyer():
    from accounts.models import Role
    from tests.factories import make_member

    return make_member(roles=(Role.BUYER,))


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_conforms_to_its_schema(case, world):
    case.call_and_validate(base_url="http://testserver", headers=world, checks=CHECKS)
