"""Scheduled events (send_at), rule delays and the periodic dispatcher that releases them."""

from __future__ import annotations

from datetime import timedelta, timezone
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from notifications.models import Delivery, Event, EventStatus
from notifications.services.scheduling import events_release_due
from notifications.services.sweeper import deliveries_dispatch_due
from tests.factories import EmailTemplateFactory, RuleFactory, SubscriberFactory
from tests.notifications.clock import clock_fixture  # noqa: F401 — the "clock" fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada():
    rule = RuleFactory(event_type="order.shipped")
    EmailTemplateFactory(rule=rule)
    return SubscriberFactory(external_id="ada")


def trigger(api, capture, **body):
    with capture(execute=True):
        return api.post("/api/events", {"event": "order.shipped", "to": ["ada"],
                                         "data": {"order_id": "A-1"}, **body}, format="json")


def release(capture) -> int:
    with capture(execute=True):
        return events_release_due()


def test_send_at_with_an_offset_is_stored_as_that_moment_and_scheduled(
        api, ada, clock, django_capture_on_commit_callbacks):
    send_at = clock.now + timedelta(hours=2)
    vienna_summer = timezone(timedelta(hours=2))
    response = trigger(api, django_capture_on_commit_callbacks,
                       send_at=send_at.astimezone(vienna_summer).isoformat())
    assert response.status_code == 202
    assert response.json()["status"] == EventStatus.SCHEDULED
    assert Event.objects.get().send_at == send_at
    assert mail.outbox == [] and not Delivery.objects.exists()


def test_scheduled_event_is_sent_once_after_send_at(api, ada, clock,
                                                    django_capture_on_commit_callbacks):
    send_at = clock.now + timedelta(hours=2)
    trigger(api, django_capture_on_commit_callbacks, send_at=send_at.isoformat())
    event = Event.objects.get()
    assert event.status == EventStatus.SCHEDULED and event.send_at == send_at

    clock.advance(hours=1, minutes=59)
    assert release(django_capture_on_commit_callbacks) == 0
    assert mail.outbox == [] and not Delivery.objects.exists()

    clock.advance(minutes=1)
    assert release(django_capture_on_commit_callbacks) == 1
    assert release(django_capture_on_commit_callbacks) == 0
    assert len(mail.outbox) == 1
    event.refresh_from_db()
    assert event.status == EventStatus.PROCESSED


def test_past_send_at_is_processed_at_once(api, ada, clock, django_capture_on_commit_callbacks):
    response = trigger(api, django_capture_on_commit_callbacks,
                       send_at=(clock.now - timedelta(minutes=5)).isoformat())
    assert response.status_code == 202
    assert Event.objects.get().status == EventStatus.PROCESSED
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("send_at", ["tomorrow", "2026-03-05T09:00:00", "2028-01-01T00:00:00Z"])
def test_bad_send_at_is_a_400_naming_the_field(api, ada, clock, send_at,
                                               django_capture_on_commit_callbacks):
    response = trigger(api, django_capture_on_commit_callbacks, send_at=send_at)
    assert response.status_code == 400
    assert "send_at" in response.json()
    assert not Event.objects.exists()


def test_idempotency_key_replays_a_scheduled_event(api, ada, clock,
                                                   django_capture_on_commit_callbacks):
    body = {"send_at": (clock.now + timedelta(days=1)).isoformat(), "idempotency_key": "k-1"}
    first = trigger(api, django_capture_on_commit_callbacks, **body)
    again = trigger(api, django_capture_on_commit_callbacks, **body)
    assert first.json()["id"] == again.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Event.objects.count() == 1


def test_rule_delay_holds_deliveries_until_due(clock, django_capture_on_commit_callbacks):
    rule = RuleFactory(event_type="order.shipped", delay_seconds=600)
    EmailTemplateFactory(rule=rule)
    SubscriberFactory(external_id="ada")
    from notifications.services.events import event_ingest

    with django_capture_on_commit_callbacks(execute=True):
        event_ingest(event_type="order.shipped", recipients=["ada"], data={"order_id": "1"})
    delivery = Delivery.objects.get()
    assert delivery.status == "queued"
    assert delivery.next_attempt_at == clock.now + timedelta(seconds=600)
    assert mail.outbox == []

    clock.advance(seconds=599)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_dispatch_due() == 0
    assert mail.outbox == []

    clock.advance(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_dispatch_due() == 1
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_notify_command_schedules_with_send_at(ada, clock, django_capture_on_commit_callbacks):
    out = StringIO()
    when = (clock.now + timedelta(hours=3)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("notify", "order.shipped", "--to", "ada", "--send-at", when, stdout=out)
    event = Event.objects.get()
    assert event.status == EventStatus.SCHEDULED
    assert "Scheduled for" in out.getvalue()
    with pytest.raises(CommandError, match="--send-at"):
        call_command("notify", "order.shipped", "--send-at", "soon", stdout=StringIO())


def test_dispatcher_task_is_registered_with_beat():
    from django_celery_beat.models import PeriodicTask

    from config.celery import app

    app.loader.import_default_modules()
    tasks = {t.task: t for t in PeriodicTask.objects.filter(enabled=True)}
    for name in ("notifications.dispatch_scheduled_events", "notifications.flush_digests"):
        assert name in tasks and name in app.tasks
        assert tasks[name].interval.every <= 10
