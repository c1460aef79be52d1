"""Partners' `right.alert` webhooks carry the alert's message and what to do in the endpoint's chosen
language (default: the exchange's), whatever language the monitoring worker runs in."""

import pytest
from django.utils import translation

from partners.models import WebhookDelivery
from partners.services import webhook_endpoint_create, webhook_endpoint_update
from rights.monitoring import monitor_due
from tests.factories import OrganizationFactory, WebhookEndpointFactory

from .test_alerts_language import EN_OVERDUE, ZH_OVERDUE, _overdue_right

pytestmark = pytest.mark.django_db


def test_each_endpoint_reads_the_alert_in_its_language(tenant, django_capture_on_commit_callbacks):
    org = OrganizationFactory()
    english = WebhookEndpointFactory(organization=org, url="https://en.example.com/h", event_types=["right.alert"],
                                     language="en")
    chinese = WebhookEndpointFactory(organization=org, url="https://zh.example.com/h", event_types=["right.alert"],
                                     language="zh-hans")
    default = WebhookEndpointFactory(organization=org, url="https://d.example.com/h", event_types=["right.alert"])
    _overdue_right(org)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):  # the worker's language
        monitor_due()                                                                   # must not matter
    data = {d.endpoint_id: d.payload["data"] for d in WebhookDelivery.objects.filter(event_type="right.alert")}
    assert EN_OVERDUE in data[english.pk]["message"]
    assert ZH_OVERDUE not in data[english.pk]["message"]
    assert data[english.pk]["language"] == "en"
    assert ZH_OVERDUE in data[chinese.pk]["message"]
    assert EN_OVERDUE not in data[chinese.pk]["message"]
    assert data[chinese.pk]["action"]
    assert not any(word in data[chinese.pk]["action"] for word in ("Pay", "fee", "the"))
    assert tenant.default_language == "zh-hans"
    assert data[default.pk]["language"] == "zh-hans"  # no choice: the exchange's language
    assert data[default.pk]["message"] == data[chinese.pk]["message"]


def test_the_endpoint_language_is_chosen_from_the_list(tenant, settings):
    from core.errors import ValidationFailed

    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True  # no name resolution in tests
    org = OrganizationFactory()
    endpoint = webhook_endpoint_create(organization=org, url="http://127.0.0.1:9/h", event_types=["right.alert"],
                                       language="en")
    assert endpoint.language == "en"
    assert webhook_endpoint_update(endpoint=endpoint, language="").language == ""
    with pytest.raises(ValidationFailed):
        webhook_endpoint_update(endpoint=endpoint, language="fr")
    with pytest.raises(ValidationFailed):
        webhook_endpoint_create(organization=org, url="http://127.0.0.1:9/h", event_types=["right.alert"],
                                language="xx")
