"""Messages and what staff and integrators do with them: manual resend, test, recovery.

Automatic attempts are ``webhooks.services.automatic``'s. A manual resend, a test
and "recover failed since T" each make one attempt per message outside the
automatic schedule: they neither count toward the automatic attempts nor toward
disabling a failing endpoint, and a failed one is not retried.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from notifications.models import Delivery, DeliveryStatus
from webhooks.models import (
    DisabledReason,
    Endpoint,
    MessageStatus,
    Trigger,
    WebhookAttempt,
    WebhookMessage,
)
from webhooks.services.health import endpoint_disable, endpoint_outcome_record
from webhooks.services.payloads import payload_build
from webhooks.services.sending import AttemptResult, attempt_make

TEST_EVENT_TYPE = "webhook.test"
RECOVER_BATCH = 50


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
