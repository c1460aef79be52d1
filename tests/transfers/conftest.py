import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    """Service messages are checked in English (the default language of the site is Chinese)."""
    with translation.override("en"):
        yield
