"""The retry schedule: its steps and jitter, Retry-After parsing, and giving up after the last."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

import pytest
from django.utils import timezone

from notifications.models import Delivery
from tests.webhooks.factories import EndpointFactory, webhook_rule
from tests.webhooks.helpers import run_due_retries, trigger
from tests.webhooks.receiver import Reply
from webhooks.models import WebhookAttempt, WebhookMessage
from webhooks.services.retries import attempts_allowed, retry_after_parse, retry_delay

SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]


def test_default_schedule_is_the_standard_webhooks_one(settings):
    assert settings.WEBHOOK_RETRY_SCHEDULE == SCHEDULE
    assert attempts_allowed() == 10


@pytest.mark.parametrize("attempts, base", list(enumerate(SCHEDULE, start=1)))
def test_each_retry_waits_its_step_within_20_percent(attempts, base):
    delays = [retry_delay(attempts=attempts) for _ in range(200)]
    assert all(base * 0.8 <= d <= base * 1.2 for d in delays)
    assert min(delays) < base < max(delays)  # jittered, not fixed


def test_no_retry_after_the_last_step():
    assert retry_delay(attempts=len(SCHEDULE) + 1) is None
    assert retry_delay(attempts=0) is None


def test_retry_after_waits_longer_but_never_shorter_than_the_schedule(settings):
    assert 110 <= retry_delay(attempts=1, retry_after=110) <= 110
    assert retry_delay(attempts=3, retry_after=1) >= 1800 * 0.8
    settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS = 60
    assert retry_delay(attempts=1, retry_after=10_000) == 60


def test_retry_after_parses_seconds_and_http_dates():
    now = timezone.now()
    assert retry_after_parse("120") == 120
    assert retry_after_parse(" 7 ") == 7
    in_ten_minutes = format_datetime(now + timedelta(minutes=10), usegmt=True)
    assert 595 <= retry_after_parse(in_ten_minutes, now=now) <= 600
    assert retry_after_parse(format_datetime(now - timedelta(minutes=1), usegmt=True), now=now) == 0
    for garbage in (None, "", "soon", "-5", "1.5"):
        assert retry_after_parse(garbage) is None


@pytest.mark.django_db
def test_a_receiver_that_never_recovers_gets_ten_attempts_on_the_schedule(
        receiver, settings, django_capture_on_commit_callbacks):
    settings.DELIVERY_MAX_ATTEMPTS = 3  # the core's own limit must not cut the schedule short
    receiver.script(*[Reply(500)] * 20)
    webhook_rule()
    endpoint = EndpointFactory(url=receiver.url)
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    for _ in range(12):
        run_due_retries(django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 10
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == "failed" and delivery.attempts == 10
    assert "Gave up after 10 of 10 attempts" in delivery.last_error
    assert WebhookMessage.objects.get().status == "failed"
    attempts = list(WebhookAttempt.objects.order_by("started_at", "id"))
    for attempt, base in zip(attempts, SCHEDULE, strict=False):
        wait = (attempt.next_attempt_at - attempt.started_at).total_seconds()
        assert base * 0.8 - 1 <= wait <= base * 1.2 + 1
    assert attempts[-1].next_attempt_at is None
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1


@pytest.mark.django_db
def test_the_schedule_is_configurable(receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_RETRY_SCHEDULE = [1]
    receiver.script(Reply(500), Reply(500))
    webhook_rule()
    endpoint = EndpointFactory(url=receiver.url)
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    run_due_retries(django_capture_on_commit_callbacks)
    run_due_retries(django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 2
    assert Delivery.objects.get(event=event).status == "failed"
