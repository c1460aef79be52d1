from accounts.models import Organization
from partners.models import Scope, WebhookEndpoint
from partners.services import api_key_issue

from .accounts import OrganizationFactory

__all__ = ["make_api_key", "api_headers", "ALL_SCOPES", "WebhookEndpointFactory"]

ALL_SCOPES = tuple(Scope.values)


def make_api_key(*, organization: Organization | None = None, scopes=ALL_SCOPES, name="test key", **kwargs):
    """An API key of the tenant in context for `organization` (a new verified one if None).
    Returns (key, secret)."""
    organization = organization or OrganizationFactory()
    return api_key_issue(organization=organization, name=name, scopes=scopes, **kwargs)


def api_headers(secret: str, **extra) -> dict:
    """Headers for Django's test client: `client.get(url, headers=api_headers(secret))`."""
    return {"Authorization": f"Api-Key {secret}", **extra}


def WebhookEndpointFactory(*, organization, url, event_types=("order.state_changed",), **kwargs):  # noqa: N802
    return WebhookEndpoint.objects.create(organization=organization, url=url, event_types=list(event_types), **kwargs)
