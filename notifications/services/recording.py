"""Record: what each attempt of a batch came to, written with two statements per batch.

One multi-row insert adds the attempt rows (each with its final outcome) and
one ``UPDATE … FROM (VALUES …)`` moves every delivery to where its outcome
puts it: ``sent``/``delivered``, ``failed``, ``skipped``, or back to ``queued``
with a ``next_attempt_at`` chosen by the channel's retry policy. The update
only touches rows still ``sending`` (or, for locked batches, still
``queued``), so an outcome that arrives after the sweeper took the delivery
back is not written over the newer state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from notifications.bulk_sql import rows_insert, rows_update
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, SkipReason
from notifications.providers import (
    NoAddress,
    NotConfigured,
    Provider,
    ProviderError,
    SendResult,
    TransientError,
)

Outcome = DeliveryAttempt.Outcome

ATTEMPT_FIELDS = ("delivery", "number", "started_at", "finished_at", "duration_ms", "outcome",
                  "error", "provider_message_id")
DELIVERY_FIELDS = ("id", "status", "skip_reason", "next_attempt_at", "lease_expires_at",
                   "enqueued_at", "last_error", "provider_message_id", "sent_at", "rendered",
                   "attempts", "updated_at")


class TemplateFailure(ProviderError):
    """The delivery's template could not be rendered: failed, never retried."""


@dataclass
class Skip:
    """The delivery is not sent at all (a check right before sending); no attempt is recorded."""

    reason: str
    error: str = ""


@dataclass
class BatchRecord:
    """The outcomes of one batch, collected as the stages produce them."""

    provider: Provider
    started_at: datetime = field(default_factory=timezone.now)
    outcomes: dict = field(default_factory=dict)

    def add(self, delivery: Delivery, outcome: SendResult | ProviderError | Skip) -> None:
        self.outcomes[delivery.pk] = outcome


def _retry_or_fail(provider: Provider, delivery: Delivery, error: str, retry_after, now):
    delay = provider.retry_delay(attempts=delivery.attempts, retry_after=retry_after)
    if delay is None:
        return (DeliveryStatus.FAILED, "", delivery.next_attempt_at,
                f"{error} (gave up after {delivery.attempts} attempts)")
    return DeliveryStatus.QUEUED, "", now + timedelta(seconds=delay), error


def delivery_state_after(delivery: Delivery, outcome, provider: Provider, now: datetime) -> list:
    """The delivery's new row values (in ``DELIVERY_FIELDS`` order) for ``outcome``."""
    status, skip, next_at, error = delivery.status, "", delivery.next_attempt_at, ""
    message_id, sent_at, enqueued_at = delivery.provider_message_id, delivery.sent_at, None
    if isinstance(outcome, SendResult):
        status = DeliveryStatus.DELIVERED if outcome.delivered else DeliveryStatus.SENT
        message_id, sent_at, enqueued_at = outcome.provider_message_id, now, delivery.enqueued_at
        next_at = None  # a retry that succeeded has no next attempt
    elif isinstance(outcome, Skip):
        status, skip = DeliveryStatus.SKIPPED, outcome.reason
        error = outcome.error or delivery.last_error
        next_at = None if outcome.reason != SkipReason.NOT_CONFIGURED else next_at
    elif isinstance(outcome, NotConfigured):
        status, skip, error = DeliveryStatus.SKIPPED, SkipReason.NOT_CONFIGURED, str(outcome)
    elif isinstance(outcome, NoAddress):
        status, skip, error = DeliveryStatus.SKIPPED, SkipReason.NO_ADDRESS, str(outcome)
    elif isinstance(outcome, TransientError):
        status, skip, next_at, error = _retry_or_fail(provider, delivery, str(outcome),
                                                      outcome.retry_after, now)
    else:  # PermanentError, TemplateFailure
        status, error = DeliveryStatus.FAILED, str(outcome)
    return [delivery.pk, status, skip, next_at, None, enqueued_at, error, message_id, sent_at,
            delivery.rendered, delivery.attempts, now]


def _attempt_outcome(outcome) -> tuple[str, str, str]:
    if isinstance(outcome, SendResult):
        return Outcome.SENT, "", outcome.provider_message_id
    if isinstance(outcome, TransientError):
        return Outcome.TRANSIENT, str(outcome)[:2000], ""
    return Outcome.PERMANENT, str(outcome)[:2000], ""


def batch_record(record: BatchRecord, deliveries: list[Delivery], *, locked: bool = False) -> int:
    """Write the attempts and the new state of every delivery in the batch; return rows changed.

    ``locked``: the batch was locked, not claimed (its rows are still ``queued``).
    A delivery without an outcome is recorded as a transient failure.
    """
    now = timezone.now()
    duration = max(int((now - record.started_at).total_seconds() * 1000), 0)
    attempts, states = [], []
    for delivery in deliveries:
        outcome = record.outcomes.get(delivery.pk) or TransientError(
            "The provider gave no outcome for this delivery.")
        states.append(delivery_state_after(delivery, outcome, record.provider, now))
        if not isinstance(outcome, Skip):
            attempts.append([delivery.pk, delivery.attempts, record.started_at, now, duration,
                             *_attempt_outcome(outcome)])
    rows_insert(DeliveryAttempt, ATTEMPT_FIELDS, attempts)
    guard = ("status", DeliveryStatus.QUEUED if locked else DeliveryStatus.SENDING)
    return rows_update(Delivery, DELIVERY_FIELDS, states, only_if=guard)


def batch_record_sent(sent: list[tuple[object, int, str]], *, delivered: bool, rendered: dict,
                      started_at: datetime) -> int:
    """Record a locked batch that went out with the same words to everyone (PostgreSQL).

    ``sent`` holds ``(delivery pk, attempt number, provider message id)``; one
    ``INSERT … SELECT FROM unnest`` writes the attempts and one ``UPDATE … FROM
    unnest`` the deliveries, with the shared values bound once.
    """
    if not sent:
        return 0
    now = timezone.now()
    ids, numbers, message_ids = (list(column) for column in zip(*sent, strict=True))
    duration = max(int((now - started_at).total_seconds() * 1000), 0)
    attempts_table = DeliveryAttempt._meta.db_table
    deliveries_table = Delivery._meta.db_table
    status = DeliveryStatus.DELIVERED if delivered else DeliveryStatus.SENT
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {attempts_table} (delivery_id, number, started_at, finished_at, "  # noqa: S608
            f"duration_ms, outcome, error, provider_message_id) "
            f"SELECT v.id, v.number, %s, %s, %s, %s, '', v.message_id "
            f"FROM unnest(%s::uuid[], %s::integer[], %s::text[]) AS v(id, number, message_id)",
            [started_at, now, duration, Outcome.SENT, ids, numbers, message_ids])
        cursor.execute(
            f"UPDATE {deliveries_table} d SET status = %s, attempts = v.number, "  # noqa: S608
            f"provider_message_id = v.message_id, sent_at = %s, last_error = '', "
            f"lease_expires_at = NULL, rendered = %s::jsonb, updated_at = %s "
            f"FROM unnest(%s::uuid[], %s::integer[], %s::text[]) AS v(id, number, message_id) "
            f"WHERE d.id = v.id AND d.status = %s",
            [status, now, json.dumps(rendered), now, ids, numbers, message_ids, DeliveryStatus.QUEUED])
        return cursor.rowcount
