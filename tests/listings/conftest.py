import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English; the Chinese catalogue is exercised by the page tests."""
    with translation.override("en"):
        yield
