"""A controllable clock for tests of time-shifted sending: no sleeps, time is set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from notifications.selectors import rules as rules_selector


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch) -> Clock:
    """``django.utils.timezone.now`` (used by every service and by ``auto_now``) under control."""
    fake = Clock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    monkeypatch.setattr(timezone, "now", fake)
    # The rule cache is keyed by (count, latest updated_at); with the same frozen
    # start in every test, a previous test's rules would look current.
    monkeypatch.setattr(rules_selector, "_cached", (None, []))
    return fake
