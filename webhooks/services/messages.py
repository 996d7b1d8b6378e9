"""Messages and what is done with them: automatic delivery, manual resend, test, recovery.

An automatic message is created once per endpoint and event, by the pipeline's
delivery, which also owns its retries (its ``next_attempt_at`` is the message's).
A manual resend, a test and "recover failed since T" each make one attempt per
message outside that schedule: they neither count toward the automatic attempts
nor toward disabling a failing endpoint, and a failed one is not retried.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from notifications.models import Delivery, DeliveryStatus
from webhooks.models import (
    DisabledReason,
    Endpoint,
    ErrorClass,
    MessageStatus,
    Trigger,
    WebhookAttempt,
    WebhookMessage,
)
from webhooks.services.health import endpoint_disable, endpoint_outcome_record
from webhooks.services.payloads import PayloadTooLarge, payload_build
from webhooks.services.retries import attempts_allowed, retry_delay
from webhooks.services.sending import AttemptResult, attempt_make

TEST_EVENT_TYPE = "webhook.test"
RECOVER_BATCH = 50


@dataclass(frozen=True)
class Outcome:
    """What an automatic attempt means for the delivery that drives the message."""

    state: str  # "succeeded", "retry" or "failed"
    summary: str
    retry_in: float | None = None


def message_for_delivery(*, endpoint: Endpoint, delivery: Delivery) -> WebhookMessage:
    """The message of (endpoint, event), created on first use with the payload it keeps.

    Raise ``PayloadTooLarge`` (after recording the refusal in the endpoint's log)
    when the event is too big to send.
    """
    event = delivery.event
    existing = WebhookMessage.objects.filter(endpoint=endpoint, event=event).first()
    if existing is not None:
        if existing.delivery_id is None:  # its first delivery was deleted: this one takes over
            WebhookMessage.objects.filter(pk=existing.pk).update(delivery=delivery)
            existing.delivery = delivery
        if not bytes(existing.payload):  # refused as too large before; the cap may have changed
            existing.payload = payload_build(event_type=event.event_type,
                                             occurred_at=event.created_at, data=event.data)
            existing.save(update_fields=["payload"])
        return existing
    try:
        payload = payload_build(event_type=event.event_type, occurred_at=event.created_at,
                                data=event.data)
    except PayloadTooLarge as exc:
        message, created = WebhookMessage.objects.get_or_create(
            endpoint=endpoint, event=event, defaults={
                "delivery": delivery, "event_type": event.event_type, "payload": b"",
                "status": MessageStatus.FAILED, "last_error": str(exc)})
        if created:
            now = timezone.now()
            WebhookAttempt.objects.create(
                message=message, endpoint=endpoint, trigger=Trigger.AUTOMATIC, started_at=now,
                finished_at=now, outcome="failed", error_class=ErrorClass.TOO_LARGE, error=str(exc))
        raise
    message, _ = WebhookMessage.objects.get_or_create(
        endpoint=endpoint, event=event,
        defaults={"delivery": delivery, "event_type": event.event_type, "payload": payload})
    return message


def message_deliver(*, message: WebhookMessage, attempt_number: int) -> Outcome:
    """Make automatic attempt ``attempt_number`` and decide: succeeded, retry (in N s) or failed."""
    endpoint = message.endpoint
    if not endpoint.enabled:
        reason = endpoint.get_disabled_reason_display() or "no reason recorded"
        return _give_up(message, f"The endpoint is disabled ({reason}).")
    result = attempt_make(message=message, trigger=Trigger.AUTOMATIC)
    now = timezone.now()
    if result.succeeded:
        _settle(message, result, status=MessageStatus.SUCCEEDED, now=now)
        endpoint_outcome_record(endpoint=endpoint, trigger=Trigger.AUTOMATIC, succeeded=True, now=now)
        return Outcome("succeeded", result.summary)
    if result.gone:
        endpoint_disable(endpoint=endpoint, reason=DisabledReason.GONE, now=now)
    disabled = endpoint_outcome_record(endpoint=endpoint, trigger=Trigger.AUTOMATIC,
                                       succeeded=False, now=now)
    delay = retry_delay(attempts=attempt_number, retry_after=result.retry_after) if (
        result.retryable and not disabled) else None
    if delay is None:
        why = result.summary
        if disabled:
            why += " The endpoint has been failing for too long and is now disabled."
        elif result.retryable:
            why += f" Gave up after {attempt_number} of {attempts_allowed()} attempts."
        _settle(message, result, status=MessageStatus.FAILED, now=now, error=why)
        return Outcome("failed", why)
    next_at = now + timedelta(seconds=delay)
    _settle(message, result, status=MessageStatus.PENDING, now=now, next_attempt_at=next_at)
    return Outcome("retry", result.summary, retry_in=delay)


def message_resend(*, message: WebhookMessage) -> AttemptResult:
    """Send ``message`` again now, same ``webhook-id`` and body, outside the retry schedule."""
    endpoint = message.endpoint
    result = attempt_make(message=message, trigger=Trigger.MANUAL)
    now = timezone.now()
    if result.gone:
        endpoint_disable(endpoint=endpoint, reason=DisabledReason.GONE, now=now)
    if result.succeeded:
        _settle(message, result, status=MessageStatus.SUCCEEDED, now=now)
        endpoint_outcome_record(endpoint=endpoint, trigger=Trigger.MANUAL, succeeded=True, now=now)
        if message.delivery_id:
            # The pipeline's delivery reflects the message: it arrived after all.
            Delivery.objects.filter(pk=message.delivery_id, status=DeliveryStatus.FAILED).update(
                status=DeliveryStatus.DELIVERED, sent_at=now, last_error="", updated_at=now,
                provider_message_id=message.webhook_id)
    else:
        # A failed resend changes neither the message's state nor its automatic schedule.
        WebhookMessage.objects.filter(pk=message.pk).update(last_attempt_at=now)
    WebhookMessage.objects.filter(pk=message.pk).update(attempt_count=_attempts(message))
    return result


def endpoint_test_send(*, endpoint: Endpoint) -> AttemptResult:
    """Send a ``webhook.test`` message now and report how the endpoint answered."""
    now = timezone.now()
    message = WebhookMessage.objects.create(
        endpoint=endpoint, event_type=TEST_EVENT_TYPE, trigger=Trigger.TEST,
        payload=payload_build(event_type=TEST_EVENT_TYPE, occurred_at=now, data={
            "endpoint_id": str(endpoint.pk),
            "message": "A test message from Clarion. Verify its signature as you would any other.",
        }))
    result = attempt_make(message=message, trigger=Trigger.TEST)
    if result.gone:
        endpoint_disable(endpoint=endpoint, reason=DisabledReason.GONE, now=timezone.now())
    _settle(message, result, now=timezone.now(), status=MessageStatus.SUCCEEDED
            if result.succeeded else MessageStatus.FAILED, error=result.summary)
    return result


def endpoint_recover(*, endpoint: Endpoint, since: datetime, until: datetime | None = None) -> int:
    """Queue a manual resend of every failed event message created in [since, until)."""
    from webhooks.tasks import resend_messages

    failed = WebhookMessage.objects.filter(endpoint=endpoint, status=MessageStatus.FAILED,
                                           event__isnull=False, created_at__gte=since)
    if until is not None:
        failed = failed.filter(created_at__lt=until)
    ids = [str(pk) for pk in failed.order_by("created_at").values_list("pk", flat=True)]
    with transaction.atomic():
        for start in range(0, len(ids), RECOVER_BATCH):
            batch = ids[start:start + RECOVER_BATCH]
            transaction.on_commit(lambda batch=batch: resend_messages.delay(batch))
    return len(ids)


def messages_resend_failed(*, message_ids: list[str]) -> int:
    """Resend each message that is still failed (one may have succeeded meanwhile)."""
    ids = [uuid.UUID(str(pk)) for pk in message_ids]
    sent = 0
    for message in WebhookMessage.objects.filter(pk__in=ids, status=MessageStatus.FAILED
                                                 ).select_related("endpoint").order_by("created_at"):
        sent += message_resend(message=message).succeeded
    return sent


def message_data(message: WebhookMessage) -> object:
    """The payload as JSON, for showing it (the stored bytes stay what was sent)."""
    try:
        return json.loads(bytes(message.payload) or b"null")
    except ValueError:
        return None


def _attempts(message: WebhookMessage) -> int:
    return WebhookAttempt.objects.filter(message=message).count()


def _give_up(message: WebhookMessage, why: str) -> Outcome:
    WebhookMessage.objects.filter(pk=message.pk).exclude(status=MessageStatus.SUCCEEDED).update(
        status=MessageStatus.FAILED, next_attempt_at=None, last_error=why)
    return Outcome("failed", why)


def _settle(message: WebhookMessage, result: AttemptResult, *, status: str, now: datetime,
            next_attempt_at: datetime | None = None, error: str | None = None) -> None:
    fields = {"status": status, "last_attempt_at": now, "next_attempt_at": next_attempt_at,
              "attempt_count": _attempts(message),
              "last_error": "" if result.succeeded else (error or result.summary)}
    if result.succeeded:
        fields["succeeded_at"] = now
    WebhookMessage.objects.filter(pk=message.pk).update(**fields)
    for name, value in fields.items():
        setattr(message, name, value)
    if next_attempt_at is not None:
        WebhookAttempt.objects.filter(pk=result.attempt.pk).update(next_attempt_at=next_attempt_at)
        result.attempt.next_attempt_at = next_attempt_at
