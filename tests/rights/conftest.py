import pathlib

import pytest
from django.core.cache import cache

RECORDED = pathlib.Path(__file__).parent / "recorded"


def recorded(name: str) -> bytes:
    return (RECORDED / name).read_bytes()


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def register_keys(monkeypatch):
    monkeypatch.setenv("USPTO_ODP_API_KEY", "test-odp-key")
    monkeypatch.setenv("USPTO_TSDR_API_KEY", "test-tsdr-key")
    monkeypatch.setenv("EPO_OPS_KEY", "test-ops-key")
    monkeypatch.setenv("EPO_OPS_SECRET", "test-ops-secret")


@pytest.fixture
def captured_events():
    from core import events

    seen = []

    def receiver(**kwargs):
        seen.append(kwargs)

    events._receivers.append(receiver)
    yield seen
    events._receivers.remove(receiver)
