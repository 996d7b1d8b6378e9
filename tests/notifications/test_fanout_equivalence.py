"""The set-based fan-out writes exactly the rows the row-by-row fan-out writes.

Randomised audiences — missing addresses, bounced e-mail, muted categories,
quiet hours in many time zones, explicit recipients overlapping the group,
critical and ordinary categories, delays — are processed once each way, in
small chunks so the keyset walk is exercised, and the rows are compared.
"""

from __future__ import annotations

import random
from datetime import time

import pytest
from django.db import connection
from django.utils import timezone

from inbox.models import Preference, QuietHours
from notifications.models import Delivery, Event
from notifications.services.events import event_ingest
from tests.factories import CategoryFactory, RecipientGroupFactory, RuleFactory, SubscriberFactory

pytestmark = [pytest.mark.django_db(transaction=False),
              pytest.mark.skipif(connection.vendor != "postgresql",
                                 reason="the set-based fan-out is PostgreSQL's")]

CHANNELS = ["email", "sms", "inapp", "matrix"]
ZONES = ["UTC", "Europe/Vienna", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]


def _audience(rng: random.Random, category, size: int):
    group = RecipientGroupFactory()
    people = []
    for i in range(size):
        subscriber = SubscriberFactory(
            email="" if rng.random() < 0.1 else f"p{i}-{rng.random():.6f}@example.com",
            phone="" if rng.random() < 0.5 else f"+4312345{i:04d}",
            channel_addresses={"matrix": f"@p{i}:example.org"} if rng.random() < 0.3 else {},
            email_undeliverable_at=timezone.now() if rng.random() < 0.1 else None)
        people.append(subscriber)
        if rng.random() < 0.8:
            group.members.add(subscriber)
        if rng.random() < 0.2:
            Preference.objects.create(subscriber=subscriber, category=category,
                                      channel=rng.choice(CHANNELS), enabled=False)
        if rng.random() < 0.15:
            QuietHours.objects.create(subscriber=subscriber, enabled=rng.random() < 0.8,
                                      start=time(rng.randrange(24)), end=time(rng.randrange(24)),
                                      timezone=rng.choice(ZONES))
    return group, people


def _rows(event: Event) -> list[tuple]:
    return sorted((d.subscriber_id, d.channel, d.address, d.recipient_key, d.status, d.skip_reason,
                   d.next_attempt_at is None, d.last_error.split(" until ")[0])
                  for d in Delivery.objects.filter(event=event))


def _holds(event: Event) -> dict:
    return {(d.subscriber_id, d.channel): d.next_attempt_at
            for d in Delivery.objects.filter(event=event, next_attempt_at__isnull=False)}


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_set_based_and_row_by_row_fan_out_write_the_same_rows(
        seed, settings, monkeypatch, django_capture_on_commit_callbacks):
    rng = random.Random(seed)
    settings.FANOUT_CHUNK_SIZE = rng.choice([7, 23, 50])
    category = CategoryFactory(critical=rng.random() < 0.3)
    group, people = _audience(rng, category, size=120)
    rule = RuleFactory(channels=rng.sample(CHANNELS, rng.randint(1, 4)), category=category,
                       audience="both", delay_seconds=rng.choice([0, 0, 90]))
    rule.groups.add(group)
    named = [p.external_id for p in rng.sample(people, 30)]
    # Sending is not under test: keep every delivery as the fan-out wrote it.
    monkeypatch.setattr("notifications.handoff._send_after_commit", lambda ids, lane: None)

    results = []
    for set_based in (True, False):
        settings.FANOUT_SET_BASED = set_based
        with django_capture_on_commit_callbacks(execute=True):
            event, _ = event_ingest(event_type="order.shipped", recipients=named,
                                    data={"n": seed})
        event.refresh_from_db()
        assert event.status == "processed"
        results.append((_rows(event), _holds(event)))

    (set_rows, set_holds), (row_rows, row_holds) = results
    assert set_rows == row_rows
    assert len(set_rows) > 0
    assert set_holds.keys() == row_holds.keys()
    for key, held in set_holds.items():  # the two runs started moments apart
        assert abs((held - row_holds[key]).total_seconds()) < 30
