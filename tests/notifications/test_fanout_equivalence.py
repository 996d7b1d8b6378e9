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
    monkeypatch.setattr("notifications.handoff._send_after_commit", lambda *args: None)

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


def _inbox(event: Event) -> list[tuple]:
    from inbox.models import Notification

    return sorted((n.subscriber_id, n.title, n.body, n.action_url, n.level, n.category_id)
                  for n in Notification.objects.filter(delivery__event=event))


def _outcomes(event: Event) -> list[tuple]:
    return sorted((d.subscriber_id, d.channel, d.status, d.rendered, d.attempts,
                   d.last_error.split(":")[0]) for d in Delivery.objects.filter(event=event))


@pytest.mark.parametrize("seed", [5, 6])
def test_personal_inbox_words_written_by_the_fan_out_match_the_send_path(
        seed, settings, django_capture_on_commit_callbacks):
    from notifications.models import MessageTemplate

    rng = random.Random(seed)
    settings.FANOUT_CHUNK_SIZE = rng.choice([7, 23])
    category = CategoryFactory()
    group, people = _audience(rng, category, size=60)
    for person in people:  # some greet by name, some cannot be greeted (the template fails)
        person.first_name = rng.choice(["Ada", "Grace", "Linus"])
        person.data = {"team": "ops"} if rng.random() < 0.8 else {}
        person.save()
    rule = RuleFactory(channels=["inapp", "email"], category=category, audience="groups")
    rule.groups.add(group)
    MessageTemplate.objects.create(
        rule=rule, channel="inapp", inapp_title="Hi {{ subscriber.first_name }}",
        inapp_body="Team {{ subscriber.data.team.upper() }}: {{ data.n }}",
        action_url="/t/{{ subscriber.external_id }}")
    MessageTemplate.objects.create(rule=rule, channel="email", subject="S {{ data.n }}",
                                   text_body="Hello {{ subscriber.first_name }}")

    results = []
    for set_based in (True, False):
        settings.FANOUT_SET_BASED = set_based
        with django_capture_on_commit_callbacks(execute=True):
            event, _ = event_ingest(event_type="order.shipped", recipients=[],
                                    data={"n": seed})
        results.append((_inbox(event), _outcomes(event)))
    (set_inbox, set_outcomes), (row_inbox, row_outcomes) = results
    assert set_inbox == row_inbox and len(set_inbox) > 10
    assert set_outcomes == row_outcomes
    assert any(status == "failed" for _, channel, status, *_ in set_outcomes if channel == "inapp")
