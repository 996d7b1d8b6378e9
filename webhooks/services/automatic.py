"""Automatic attempts: the pipeline's webhook deliveries, a whole batch at a time.

An automatic message is created once per endpoint and event, by the first
delivery that reaches it, which then owns its retries (its ``next_attempt_at``
is the message's). For a batch of deliveries this module

1. reads the endpoints, their valid secrets and the existing messages with one
   query each, and creates the missing messages with one insert (the payload is
   built once per event, not once per endpoint);
2. signs each message and makes every POST in parallel, at most
   ``OUTBOUND_PER_HOST_CONCURRENCY`` at a time to one host;
3. records the attempts with one insert, the messages' new state with one
   update, and the endpoints' health with one update for those that answered
   and one for those that failed.

What it decides for each delivery is an ``Outcome``: succeeded, carried by
another delivery, retry in N seconds (the webhook schedule, at least what a
``Retry-After`` asked) or failed. The attempt rows are written after the
requests: a worker killed mid-batch leaves no attempt rows for that batch, and
the pipeline's lease recovery records the lost attempt on the delivery.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifications.bulk_sql import rows_insert, rows_update
from notifications.models import Delivery
from webhooks.models import (
    DisabledReason,
    Endpoint,
    ErrorClass,
    MessageStatus,
    Trigger,
    WebhookAttempt,
    WebhookMessage,
)
from webhooks.selectors import secrets_valid_many
from webhooks.services.health import endpoint_disable, endpoints_failing_record
from webhooks.services.payloads import PayloadTooLarge, payload_build
from webhooks.services.retries import attempts_allowed, retry_delay
from webhooks.services.sending import (
    AttemptResult,
    PreparedAttempt,
    attempt_judge,
    attempt_prepare,
    attempts_perform,
)

RECIPIENT_PREFIX = "endpoint:"
_ATTEMPT_FIELDS = ("message", "endpoint", "trigger", "started_at", "finished_at", "latency_ms",
                   "request_headers", "outcome", "status_code", "response_excerpt",
                   "error_class", "error", "next_attempt_at")
_MESSAGE_FIELDS = ("id", "status", "last_attempt_at", "next_attempt_at", "last_error",
                   "succeeded_at")


@dataclass(frozen=True)
class Outcome:
    """What an automatic attempt means for the delivery that drives the message."""

    state: str  # "succeeded", "carried" (another delivery owns it), "retry" or "failed"
    summary: str
    retry_in: float | None = None
    webhook_id: str = ""


def deliveries_deliver(deliveries: list[Delivery]) -> dict[object, Outcome]:
    """Make the automatic attempt of each delivery's message; return ``{delivery pk: Outcome}``.

    Each delivery's ``attempts`` is the number of this attempt (the claim counted it).
    """
    outcomes: dict[object, Outcome] = {}
    endpoints = _endpoints(deliveries)
    pending: list[tuple[Delivery, WebhookMessage]] = []
    for delivery, message in _messages(deliveries, endpoints, outcomes):
        if message.status == MessageStatus.SUCCEEDED:
            # Delivered already: by a manual resend, or just before a worker crash.
            outcomes[delivery.pk] = Outcome("succeeded", "", webhook_id=message.webhook_id)
        elif message.delivery_id not in (None, delivery.pk):
            # Another rule's delivery carries this (endpoint, event) message and its retries.
            outcomes[delivery.pk] = Outcome("carried", "", webhook_id=message.webhook_id)
        elif not message.endpoint.enabled:
            reason = message.endpoint.get_disabled_reason_display() or "no reason recorded"
            outcomes[delivery.pk] = _give_up(message, f"The endpoint is disabled ({reason}).")
        else:
            pending.append((delivery, message))
    if pending:
        outcomes.update(_attempt(pending))
    return outcomes


def _endpoints(deliveries: list[Delivery]) -> dict[str, Endpoint]:
    """``{endpoint id text: Endpoint}`` for the deliveries' endpoints that still exist."""
    ids = {}
    for delivery in deliveries:
        text = delivery.recipient_key.removeprefix(RECIPIENT_PREFIX)
        try:
            ids[text] = uuid.UUID(text)
        except ValueError:
            continue
    found = Endpoint.objects.in_bulk(set(ids.values()))
    return {text: found[pk] for text, pk in ids.items() if pk in found}


def _messages(deliveries: list[Delivery], endpoints: dict[str, Endpoint],
              outcomes: dict) -> list[tuple[Delivery, WebhookMessage]]:
    """Each delivery with its (endpoint, event) message, created where missing; deliveries
    that cannot have one get their outcome in ``outcomes``."""
    wanted: dict[tuple, list[Delivery]] = {}
    for delivery in deliveries:
        endpoint = endpoints.get(delivery.recipient_key.removeprefix(RECIPIENT_PREFIX))
        if endpoint is None:
            outcomes[delivery.pk] = Outcome("failed", "The webhook endpoint was deleted.")
        else:
            wanted.setdefault((endpoint.pk, delivery.event_id), []).append(delivery)
    if not wanted:
        return []
    by_pair = _messages_existing(wanted)
    missing = [pair for pair in wanted if pair not in by_pair]
    if missing:
        created = _messages_create(missing, wanted, endpoints, outcomes)
        by_pair.update(created)
        # Another worker's insert won these (or the database cannot say which were ours).
        lost = {pair: wanted[pair] for pair in missing if pair not in created}
        if lost:
            by_pair.update(_messages_existing(lost))
    endpoint_by_pk = {endpoint.pk: endpoint for endpoint in endpoints.values()}
    pairs = []
    for pair, waiting in wanted.items():
        message = by_pair.get(pair)
        if message is None:
            continue  # refused as too large: its outcome is recorded
        message.endpoint = endpoint_by_pk[pair[0]]
        _message_adopt(message, waiting[0])
        if not bytes(message.payload):
            outcomes.update(_payload_retry(message, waiting))
            if not bytes(message.payload):
                continue
        pairs += [(delivery, message) for delivery in waiting]
    return pairs


def _messages_existing(wanted: dict[tuple, list]) -> dict[tuple, WebhookMessage]:
    endpoint_ids = {endpoint_id for endpoint_id, _ in wanted}
    event_ids = {event_id for _, event_id in wanted}
    rows = WebhookMessage.objects.filter(endpoint_id__in=endpoint_ids, event_id__in=event_ids)
    return {(m.endpoint_id, m.event_id): m for m in rows if (m.endpoint_id, m.event_id) in wanted}


def _messages_create(missing: list[tuple], wanted: dict[tuple, list[Delivery]],
                     endpoints: dict[str, Endpoint], outcomes: dict) -> dict[tuple, WebhookMessage]:
    """Insert the missing messages in one statement; the payload is built once per event.
    Return the messages this insert wrote, by (endpoint id, event id)."""
    payloads: dict[object, bytes | PayloadTooLarge] = {}
    new = []
    for endpoint_id, event_id in missing:
        delivery = wanted[(endpoint_id, event_id)][0]
        event = delivery.event
        if event_id not in payloads:
            try:
                payloads[event_id] = payload_build(event_type=event.event_type,
                                                   occurred_at=event.created_at, data=event.data)
            except PayloadTooLarge as exc:
                payloads[event_id] = exc
        payload = payloads[event_id]
        if isinstance(payload, PayloadTooLarge):
            _too_large_record(endpoints[str(endpoint_id)], delivery, payload)
            for waiting in wanted[(endpoint_id, event_id)]:
                outcomes[waiting.pk] = Outcome("failed", str(payload))
            continue
        new.append(WebhookMessage(endpoint_id=endpoint_id, event_id=event_id, delivery=delivery,
                                  event_type=event.event_type, payload=payload))
    # Two workers may create the same message at once: the unique (endpoint, event) keeps one.
    if connection.vendor != "postgresql":
        WebhookMessage.objects.bulk_create(new, ignore_conflicts=True)
        return {}
    written = _messages_insert(new)
    created = {}
    for message in new:
        if message.pk in written:
            message._state.adding, message._state.db = False, "default"
            created[(message.endpoint_id, message.event_id)] = message
    return created


def _messages_insert(new: list[WebhookMessage]) -> set:
    """One ``INSERT … SELECT FROM unnest`` per event: its payload (the same bytes for every
    endpoint) is bound once, not once per row. Return the ids written."""
    table = WebhookMessage._meta.db_table
    by_event: dict[object, list[WebhookMessage]] = {}
    for message in new:
        by_event.setdefault(message.event_id, []).append(message)
    written = set()
    with connection.cursor() as cursor:
        for event_id, messages in by_event.items():
            first = messages[0]
            cursor.execute(
                f"INSERT INTO {table} (id, webhook_id, endpoint_id, event_id, delivery_id, "  # noqa: S608
                "event_type, payload, trigger, status, attempt_count, last_error, created_at) "
                "SELECT v.id, v.webhook_id, v.endpoint_id, %s, v.delivery_id, %s, %s, %s, %s, 0, "
                "'', now() FROM unnest(%s::uuid[], %s::text[], %s::uuid[], %s::uuid[]) "
                "AS v(id, webhook_id, endpoint_id, delivery_id) ON CONFLICT DO NOTHING RETURNING id",
                [event_id, first.event_type, bytes(first.payload), Trigger.AUTOMATIC,
                 MessageStatus.PENDING, [m.pk for m in messages], [m.webhook_id for m in messages],
                 [m.endpoint_id for m in messages], [m.delivery_id for m in messages]])
            written.update(row[0] for row in cursor.fetchall())
    return written


def _too_large_record(endpoint: Endpoint, delivery: Delivery, problem: PayloadTooLarge) -> None:
    """Keep the refusal in the endpoint's log: a failed message with no payload, once."""
    event = delivery.event
    message, created = WebhookMessage.objects.get_or_create(
        endpoint=endpoint, event=event, defaults={
            "delivery": delivery, "event_type": event.event_type, "payload": b"",
            "status": MessageStatus.FAILED, "last_error": str(problem)})
    if created:
        now = timezone.now()
        WebhookAttempt.objects.create(
            message=message, endpoint=endpoint, trigger=Trigger.AUTOMATIC, started_at=now,
            finished_at=now, outcome="failed", error_class=ErrorClass.TOO_LARGE,
            error=str(problem))


def _message_adopt(message: WebhookMessage, delivery: Delivery) -> None:
    """A message whose first delivery was deleted is carried on by this one."""
    if message.delivery_id is None:
        WebhookMessage.objects.filter(pk=message.pk, delivery__isnull=True).update(
            delivery=delivery)
        message.delivery_id = delivery.pk


def _payload_retry(message: WebhookMessage, waiting: list[Delivery]) -> dict[object, Outcome]:
    """A message refused as too large before: build it again (the cap may have changed)."""
    event = waiting[0].event
    try:
        message.payload = payload_build(event_type=event.event_type, occurred_at=event.created_at,
                                        data=event.data)
    except PayloadTooLarge as exc:
        return {delivery.pk: Outcome("failed", str(exc)) for delivery in waiting}
    WebhookMessage.objects.filter(pk=message.pk).update(payload=message.payload)
    return {}


def _attempt(pending: list[tuple[Delivery, WebhookMessage]]) -> dict[object, Outcome]:
    """Sign, send in parallel, and record every pending message's attempt."""
    now = timezone.now()
    secrets = secrets_valid_many(endpoint_ids={m.endpoint_id for _, m in pending}, now=now)
    outcomes: dict[object, Outcome] = {}
    ready: list[tuple[Delivery, PreparedAttempt]] = []
    for delivery, message in pending:
        if not secrets.get(message.endpoint_id):
            outcomes[delivery.pk] = _give_up(message, "The endpoint has no valid signing secret.")
            continue
        ready.append((delivery, attempt_prepare(message=message,
                                                secrets=secrets[message.endpoint_id], now=now)))
    answers = attempts_perform([prepared for _, prepared in ready])
    finished = timezone.now()
    results = [attempt_judge(prepared, answer, trigger=Trigger.AUTOMATIC, finished_at=finished)
               for (_, prepared), answer in zip(ready, answers, strict=True)]
    disabled = _health_record(results, finished)
    decided = []
    for (delivery, prepared), result in zip(ready, results, strict=True):
        outcome, next_at = _decide(result, prepared.message, delivery.attempts,
                                   prepared.endpoint.pk in disabled, finished)
        result.attempt.next_attempt_at = next_at
        outcomes[delivery.pk] = outcome
        decided.append((prepared.message, result, outcome, next_at))
    _record(decided, finished)
    return outcomes


def _health_record(results: list[AttemptResult], now: datetime) -> set:
    """Endpoint health after the batch; return the ids of endpoints disabled for failing too
    long. An endpoint that answered once in the batch counts as answering."""
    answered = {r.attempt.endpoint_id for r in results if r.succeeded}
    if answered:
        Endpoint.objects.filter(pk__in=answered).update(last_success_at=now, failing_since=None)
    for result in results:
        if result.gone:
            endpoint_disable(endpoint=result.attempt.endpoint, reason=DisabledReason.GONE, now=now)
    failing = {r.attempt.endpoint_id: r.attempt.endpoint for r in results
               if not r.succeeded and r.attempt.endpoint_id not in answered}
    return endpoints_failing_record(endpoints=list(failing.values()), now=now)


def _decide(result: AttemptResult, message: WebhookMessage, attempt_number: int,
            disabled: bool, now: datetime) -> tuple[Outcome, datetime | None]:
    if result.succeeded:
        return Outcome("succeeded", result.summary, webhook_id=message.webhook_id), None
    delay = retry_delay(attempts=attempt_number, retry_after=result.retry_after) if (
        result.retryable and not disabled) else None
    if delay is None:
        why = result.summary
        if disabled:
            why += " The endpoint has been failing for too long and is now disabled."
        elif result.retryable:
            why += f" Gave up after {attempt_number} of {attempts_allowed()} attempts."
        return Outcome("failed", why), None
    return Outcome("retry", result.summary, retry_in=delay), now + timedelta(seconds=delay)


def _record(decided: list[tuple], now: datetime) -> None:
    """One insert for the attempts, one update for the messages, one for their counts."""
    attempts, messages = [], []
    for message, result, outcome, next_at in decided:
        row = result.attempt
        attempts.append([message.pk, row.endpoint_id, row.trigger, row.started_at,
                         row.finished_at, row.latency_ms, row.request_headers, row.outcome,
                         row.status_code, row.response_excerpt, row.error_class, row.error,
                         next_at])
        status = {"succeeded": MessageStatus.SUCCEEDED, "retry": MessageStatus.PENDING
                  }.get(outcome.state, MessageStatus.FAILED)
        messages.append([message.pk, status, now, next_at,
                         "" if result.succeeded else outcome.summary,
                         now if result.succeeded else message.succeeded_at])
    rows_insert(WebhookAttempt, _ATTEMPT_FIELDS, attempts)
    rows_update(WebhookMessage, _MESSAGE_FIELDS, messages)
    message_ids = [row[0] for row in messages]
    counts = (WebhookAttempt.objects.filter(message=OuterRef("pk")).order_by()
              .values("message").annotate(total=Count("pk")).values("total"))
    WebhookMessage.objects.filter(pk__in=message_ids).update(
        attempt_count=Coalesce(Subquery(counts), 0))


def _give_up(message: WebhookMessage, why: str) -> Outcome:
    WebhookMessage.objects.filter(pk=message.pk).exclude(status=MessageStatus.SUCCEEDED).update(
        status=MessageStatus.FAILED, next_attempt_at=None, last_error=why)
    return Outcome("failed", why)
