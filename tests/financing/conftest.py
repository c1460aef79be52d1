import pytest

from tests.factories import throwaway_ca


@pytest.fixture
def appraisers_ca(tmp_path, settings):
    """The authority the exchange trusts for appraisers' signing certificates (throwaway, per test)."""
    cert, key = throwaway_ca(tmp_path)
    settings.APPRAISAL_TRUST_ROOTS = [str(cert)]
    return cert, key
