"""Sending against a real SMTP server: retries, permanent failures, leases, batches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus
from notifications.services.deliveries import delivery_retry, retry_delay
from notifications.services.events import event_ingest
from notifications.services.sweeper import sweep
from tests.factories import EmailTemplateFactory, RuleFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_email(django_capture_on_commit_callbacks):
    """Trigger an event that yields exactly one e-mail delivery; return a function doing so."""
    EmailTemplateFactory(rule=RuleFactory())
    user = SubscriberFactory()

    def send() -> Delivery:
        with django_capture_on_commit_callbacks(execute=True):
            event_ingest(event_type="order.shipped", recipients=[user.external_id],
                         data={"order_id": "A-1"})
        return Delivery.objects.get()
    return send


def run_sweeper(capture) -> None:
    with capture(execute=True):
        sweep()


def test_transient_error_is_retried_and_then_sent(smtp_server, settings, one_email,
                                                 django_capture_on_commit_callbacks):
    settings.DELIVERY_RETRY_BASE_SECONDS = 0
    smtp_server.handler.replies = ["451 Greylisted, try later"]
    delivery = one_email()
    assert delivery.status == DeliveryStatus.QUEUED
    assert "451" in delivery.last_error and delivery.next_attempt_at is not None
    run_sweeper(django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert [a.outcome for a in delivery.attempt_log.all()] == ["transient", "sent"]
    [message] = smtp_server.messages
    assert message["Message-ID"] == f"<{delivery.pk}@clarion.localhost>"


def test_retry_waits_until_it_is_due(smtp_server, settings, one_email,
                                     django_capture_on_commit_callbacks):
    settings.DELIVERY_RETRY_BASE_SECONDS = 3600
    smtp_server.handler.replies = ["421 Service not available"]
    delivery = one_email()
    run_sweeper(django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED and delivery.attempts == 1
    assert smtp_server.messages == []


def test_permanent_error_fails_at_once_with_the_reason(smtp_server, one_email):
    smtp_server.handler.replies = ["550 No such user here"]
    delivery = one_email()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert "550" in delivery.last_error and "No such user" in delivery.last_error


def test_gives_up_after_max_attempts(smtp_server, settings, one_email,
                                     django_capture_on_commit_callbacks):
    settings.DELIVERY_RETRY_BASE_SECONDS = 0
    settings.DELIVERY_MAX_ATTEMPTS = 2
    smtp_server.handler.replies = ["451 later", "451 later", "451 later"]
    delivery = one_email()
    run_sweeper(django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "gave up after 2 attempts" in delivery.last_error


def test_staff_retry_sends_a_failed_delivery(smtp_server, one_email,
                                             django_capture_on_commit_callbacks):
    smtp_server.handler.replies = ["554 Transaction failed"]
    delivery = one_email()
    assert delivery.status == DeliveryStatus.FAILED
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_retry(delivery=delivery) is True
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and len(smtp_server.messages) == 1
    assert delivery_retry(delivery=delivery) is False  # sent deliveries are not retried


def test_expired_lease_is_recovered_and_sent_once(smtp_server, one_email,
                                                  django_capture_on_commit_callbacks):
    smtp_server.handler.replies = ["550 first attempt refused"]
    delivery = one_email()
    # Simulate a worker that claimed the delivery and died mid-send.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, attempts=2,
        lease_expires_at=timezone.now() - timedelta(seconds=1))
    DeliveryAttempt.objects.create(delivery=delivery, number=2, started_at=timezone.now())
    run_sweeper(django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    outcomes = [(a.number, a.outcome) for a in delivery.attempt_log.all()]
    assert outcomes == [(1, "permanent"), (2, "transient"), (3, "sent")]
    assert "lease expired" in delivery.attempt_log.get(number=2).error


def test_live_lease_is_left_alone(one_email, django_capture_on_commit_callbacks):
    delivery = one_email()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, lease_expires_at=timezone.now() + timedelta(minutes=5))
    run_sweeper(django_capture_on_commit_callbacks)
    assert Delivery.objects.get().status == DeliveryStatus.SENDING


def test_backoff_grows_with_jitter_and_honours_retry_after(settings):
    settings.DELIVERY_RETRY_BASE_SECONDS = 10
    settings.DELIVERY_RETRY_MAX_SECONDS = 3600
    assert 8 <= retry_delay(attempts=1) <= 12
    assert 32 <= retry_delay(attempts=3) <= 48
    assert retry_delay(attempts=1, retry_after=120) >= 120
    assert retry_delay(attempts=30) <= 3600 * 1.2
    assert retry_delay(attempts=1, retry_after=10**9) <= 3600 * 1.2


def test_template_problem_fails_the_delivery_with_the_field_and_line(
        django_capture_on_commit_callbacks):
    rule = RuleFactory()
    EmailTemplateFactory(rule=rule, subject="Order {{ data.missing }}")
    user = SubscriberFactory()
    with django_capture_on_commit_callbacks(execute=True):
        event_ingest(event_type="order.shipped", recipients=[user.external_id], data={})
    delivery = Delivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "subject" in delivery.last_error and "line 1" in delivery.last_error


def test_a_batch_shares_one_smtp_session(smtp_server, django_capture_on_commit_callbacks):
    EmailTemplateFactory(rule=RuleFactory())
    users = SubscriberFactory.create_batch(5)
    with django_capture_on_commit_callbacks(execute=True):
        event_ingest(event_type="order.shipped", recipients=[u.external_id for u in users],
                     data={"order_id": 1})
    assert len(smtp_server.messages) == 5
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def test_lease_recovery_follows_the_channels_own_retry_policy(settings, one_email):
    settings.DELIVERY_MAX_ATTEMPTS = 3
    delivery = one_email()
    expired = timezone.now() - timedelta(seconds=1)
    # E-mail uses the core policy: a third attempt lost mid-send is the last one.
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING, attempts=3,
                                                   lease_expires_at=expired)
    from notifications.services.sweeper import deliveries_recover_expired_leases

    deliveries_recover_expired_leases()
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.FAILED
    # Webhooks retry on their own schedule (ten attempts), whatever DELIVERY_MAX_ATTEMPTS says.
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING, channel="webhook",
                                                   lease_expires_at=expired)
    deliveries_recover_expired_leases()
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.QUEUED


def test_a_retry_that_succeeds_clears_the_next_attempt(smtp_server, settings, one_email,
                                                       django_capture_on_commit_callbacks):
    settings.DELIVERY_RETRY_BASE_SECONDS = 0
    smtp_server.handler.replies = ["451 later"]
    delivery = one_email()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED and delivery.next_attempt_at is not None
    run_sweeper(django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.next_attempt_at is None


def test_emails_say_they_are_automatic(smtp_server, one_email):
    one_email()
    [message] = smtp_server.messages
    assert "Auto-Submitted: auto-generated" in str(message)
