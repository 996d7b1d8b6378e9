"""Fixtures for the provider tests: local stand-ins for the services, and clean state."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.notifications.providers.fake_service import service  # noqa: F401 — fixture
from tests.notifications.providers.twilio_mock import prism, twilio_contract  # noqa: F401


@pytest.fixture(autouse=True)
def _clean_state(settings):
    # Resolved aliases and throttle counters live in the cache; each test starts empty.
    cache.clear()
    settings.DELIVERY_RETRY_BASE_SECONDS = 0
    yield
    cache.clear()


@pytest.fixture
def allow_loopback(settings):
    """Staff-entered URLs on this machine (the stand-ins) pass the address policy."""
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
