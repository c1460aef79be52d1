import pytest

from tests.factories import OrganizationFactory, api_headers, make_api_key


@pytest.fixture(autouse=True)
def _api_settings(settings):
    settings.API_THROTTLE_RATE = "100000/min"
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True


@pytest.fixture
def org(tenant):
    return OrganizationFactory(legal_name="Partner Law Firm LLP")


@pytest.fixture
def key_and_secret(org):
    return make_api_key(organization=org)


@pytest.fixture
def headers(key_and_secret):
    return api_headers(key_and_secret[1])


@pytest.fixture
def api(client, headers):
    """A test client that sends the key on every request: api.get(url), api.post(url, data)."""

    class Api:
        def get(self, url, data=None, **extra):
            return client.get(url, data, headers={**headers, **extra.pop("headers", {})}, **extra)

        def post(self, url, data=None, content_type="application/json", **extra):
            return client.post(url, data, content_type=content_type,
                               headers={**headers, **extra.pop("headers", {})}, **extra)

        def patch(self, url, data=None, **extra):
            return client.patch(url, data, content_type="application/json",
                                headers={**headers, **extra.pop("headers", {})}, **extra)

        def delete(self, url, **extra):
            return client.delete(url, headers={**headers, **extra.pop("headers", {})}, **extra)

    return Api()
