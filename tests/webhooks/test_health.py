"""Endpoint health: failing for days disables and e-mails; manual resends and tests do not count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.celery import app
from tests.webhooks.factories import EndpointFactory, webhook_rule
from tests.webhooks.helpers import run_due_retries, trigger
from tests.webhooks.receiver import Reply
from webhooks.models import Endpoint, WebhookMessage
from webhooks.services.health import endpoints_disable_failing
from webhooks.services.messages import endpoint_test_send, message_resend
from webhooks.tasks import disable_failing_endpoints

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def test_an_automatic_failure_starts_the_clock_and_a_success_stops_it(
        receiver, django_capture_on_commit_callbacks):
    webhook_rule()
    endpoint = EndpointFactory(url=receiver.url)
    receiver.script(Reply(500))
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None and endpoint.last_success_at is None
    run_due_retries(django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.last_success_at is not None


def test_endpoint_failing_for_five_days_is_disabled_and_its_contact_emailed(
        django_capture_on_commit_callbacks):
    now = timezone.now()
    failing = EndpointFactory(failing_since=now - 5 * DAY - timedelta(minutes=1),
                              description="shop orders")
    recent = EndpointFactory(failing_since=now - 4 * DAY)
    healthy = EndpointFactory()
    with django_capture_on_commit_callbacks(execute=True):
        assert endpoints_disable_failing(now=now) == 1
    for endpoint in (failing, recent, healthy):
        endpoint.refresh_from_db()
    assert failing.enabled is False and failing.disabled_reason == "failing"
    assert recent.enabled and healthy.enabled
    [notice] = mail.outbox
    assert notice.to == [failing.application.contact_email]
    assert "shop orders" in notice.subject
    assert str(failing.pk) in notice.body and "/recover" in notice.body
    # Already disabled: not e-mailed again.
    with django_capture_on_commit_callbacks(execute=True):
        assert endpoints_disable_failing(now=now) == 0
    assert len(mail.outbox) == 1


def test_the_disable_period_is_configurable(settings, django_capture_on_commit_callbacks):
    settings.WEBHOOK_DISABLE_AFTER_SECONDS = 3600
    endpoint = EndpointFactory(failing_since=timezone.now() - timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        disable_failing_endpoints()
    endpoint.refresh_from_db()
    assert endpoint.enabled is False


def test_a_failing_automatic_attempt_past_the_period_disables_at_once(
        receiver, django_capture_on_commit_callbacks):
    webhook_rule()
    endpoint = EndpointFactory(url=receiver.url, failing_since=timezone.now() - 6 * DAY)
    receiver.script(Reply(500))
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    endpoint.refresh_from_db()
    assert endpoint.enabled is False and endpoint.disabled_reason == "failing"
    delivery = event.deliveries.get()
    assert delivery.status == "failed" and "disabled" in delivery.last_error
    assert len(mail.outbox) == 1


def test_manual_resends_and_tests_that_fail_do_not_count(receiver,
                                                         django_capture_on_commit_callbacks):
    webhook_rule()
    endpoint = EndpointFactory(url=receiver.url)
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    Endpoint.objects.update(last_success_at=None)
    receiver.script(Reply(500), Reply(503))
    assert not message_resend(message=WebhookMessage.objects.get()).succeeded
    assert not endpoint_test_send(endpoint=endpoint).succeeded
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.enabled
    with django_capture_on_commit_callbacks(execute=True):
        endpoints_disable_failing(now=timezone.now() + 30 * DAY)
    endpoint.refresh_from_db()
    assert endpoint.enabled and mail.outbox == []


def test_a_successful_manual_resend_stops_the_clock_but_a_test_does_not(
        receiver, django_capture_on_commit_callbacks):
    webhook_rule()
    endpoint = EndpointFactory(url=receiver.url)
    receiver.script(Reply(500))
    trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    endpoint_test_send(endpoint=endpoint)
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    message_resend(message=WebhookMessage.objects.get(trigger="automatic"))
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.last_success_at is not None


def test_a_successful_resend_marks_the_failed_delivery_delivered(
        receiver, django_capture_on_commit_callbacks):
    webhook_rule()
    endpoint = EndpointFactory(url=receiver.url)
    receiver.script(Reply(410))
    event = trigger(django_capture_on_commit_callbacks, application=endpoint.application)
    assert event.deliveries.get().status == "failed"
    assert message_resend(message=WebhookMessage.objects.get()).succeeded
    assert event.deliveries.get().status == "delivered"


def test_the_check_runs_hourly_through_beat():
    task = PeriodicTask.objects.get(task="webhooks.disable_failing_endpoints")
    assert task.enabled and task.interval.every == 3600 and task.interval.period == "seconds"
    assert "webhooks.disable_failing_endpoints" in app.tasks
