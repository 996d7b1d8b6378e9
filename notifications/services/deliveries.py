"""Sending deliveries: enqueue in batches, claim race-safely, call the provider, record.

A delivery moves ``queued → sending → sent`` (or ``failed`` / ``skipped``). The
claim is a conditional UPDATE that only one worker can win; the winner holds a
lease, and the sweeper hands back deliveries whose lease ran out (a worker
killed mid-send). Transient failures go back to ``queued`` with a
``next_attempt_at`` in the database — not a countdown in the broker — so a
restart loses no retry.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, SkipReason
from notifications.providers import NotConfigured, PermanentError, Provider, TransientError, provider_for
from notifications.services.presend import delivery_presend_skip_reason
from notifications.services.rendering import delivery_render
from notifications.templating import TemplateProblem

logger = logging.getLogger(__name__)
Outcome = DeliveryAttempt.Outcome


def _due() -> Q:
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now())


def deliveries_enqueue(*, delivery_ids: list, channel_of: dict) -> None:
    """Queue send tasks after commit: one task per channel batch, never one per recipient."""
    from notifications.tasks import send_deliveries

    by_channel: dict[str, list[str]] = defaultdict(list)
    for delivery_id in delivery_ids:
        by_channel[channel_of[delivery_id]].append(str(delivery_id))
    size = settings.DELIVERY_BATCH_SIZE
    batches = [ids[i:i + size] for ids in by_channel.values() for i in range(0, len(ids), size)]
    Delivery.objects.filter(pk__in=delivery_ids).update(enqueued_at=timezone.now())
    for batch in batches:
        transaction.on_commit(lambda batch=batch: send_deliveries.delay(batch))


def deliveries_enqueue_pending(*, event_id=None, limit: int = 5000) -> int:
    """Enqueue queued, due deliveries not yet handed to the broker (of one event, or all)."""
    pending = Delivery.objects.filter(_due(), status=DeliveryStatus.QUEUED, enqueued_at__isnull=True)
    if event_id is not None:
        pending = pending.filter(event_id=event_id)
    rows = list(pending.values_list("pk", "channel")[:limit])
    if rows:
        deliveries_enqueue(delivery_ids=[pk for pk, _ in rows], channel_of=dict(rows))
    return len(rows)


def _claim(delivery_id) -> bool:
    now = timezone.now()
    return bool(Delivery.objects.filter(_due(), pk=delivery_id, status=DeliveryStatus.QUEUED)
                .update(status=DeliveryStatus.SENDING, attempts=F("attempts") + 1,
                        lease_expires_at=now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)))


def _finish(delivery: Delivery, **fields) -> None:
    """Write the outcome only if we still hold the claim (the sweeper may have taken it back)."""
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        lease_expires_at=None, updated_at=timezone.now(), **fields)


def retry_delay(*, attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with ±20% jitter, never sooner than the provider asked."""
    base = settings.DELIVERY_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    delay = min(base, settings.DELIVERY_RETRY_MAX_SECONDS) * random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.DELIVERY_RETRY_MAX_SECONDS))
    return delay


def _fail_or_retry(delivery: Delivery, error: str, retry_after: float | None,
                   provider: Provider | None = None) -> None:
    # The channel decides how long to wait and when to give up (webhooks keep their own schedule).
    provider = provider or provider_for(delivery.channel) or Provider()
    delay = provider.retry_delay(attempts=delivery.attempts, retry_after=retry_after)
    if delay is None:
        _finish(delivery, status=DeliveryStatus.FAILED,
                last_error=f"{error} (gave up after {delivery.attempts} attempts)")
        return
    _finish(delivery, status=DeliveryStatus.QUEUED, last_error=error, enqueued_at=None,
            next_attempt_at=timezone.now() + timedelta(seconds=delay))


def _record(attempt: DeliveryAttempt, outcome: str, error: str = "", provider_id: str = "") -> None:
    finished = timezone.now()
    attempt.finished_at = finished
    attempt.duration_ms = int((finished - attempt.started_at).total_seconds() * 1000)
    attempt.outcome, attempt.error, attempt.provider_message_id = outcome, error[:2000], provider_id
    attempt.save(update_fields=["finished_at", "duration_ms", "outcome", "error",
                                "provider_message_id"])


def delivery_send(*, delivery_id, provider=None, templates: dict | None = None) -> None:
    """Send one delivery if it is queued and due; otherwise do nothing."""
    if not _claim(delivery_id):
        return
    delivery = Delivery.objects.select_related("event", "rule", "subscriber").get(pk=delivery_id)
    skip_reason = delivery_presend_skip_reason(delivery)
    if skip_reason:
        _finish(delivery, status=DeliveryStatus.SKIPPED, skip_reason=skip_reason,
                next_attempt_at=None)
        return
    provider = provider or provider_for(delivery.channel)
    if provider is None or not provider.is_configured():
        _finish(delivery, status=DeliveryStatus.SKIPPED, skip_reason=SkipReason.NOT_CONFIGURED,
                last_error=f"The {delivery.channel} channel is not configured on this server.")
        return
    attempt = DeliveryAttempt.objects.create(delivery=delivery, number=delivery.attempts,
                                             started_at=timezone.now())
    if provider.needs_template:
        try:
            delivery.rendered = delivery_render(delivery, templates=templates)
        except TemplateProblem as problem:
            _record(attempt, Outcome.PERMANENT, f"Template: {problem}")
            _finish(delivery, status=DeliveryStatus.FAILED, last_error=f"Template: {problem}")
            return
        Delivery.objects.filter(pk=delivery.pk).update(rendered=delivery.rendered)
    started = time.monotonic()
    try:
        result = provider.send(delivery)
    except TransientError as exc:
        _record(attempt, Outcome.TRANSIENT, str(exc))
        _fail_or_retry(delivery, str(exc), exc.retry_after, provider)
    except NotConfigured as exc:
        _record(attempt, Outcome.PERMANENT, str(exc))
        _finish(delivery, status=DeliveryStatus.SKIPPED, skip_reason=SkipReason.NOT_CONFIGURED,
                last_error=str(exc))
    except PermanentError as exc:
        _record(attempt, Outcome.PERMANENT, str(exc))
        _finish(delivery, status=DeliveryStatus.FAILED, last_error=str(exc))
    except Exception as exc:  # noqa: BLE001 — a provider bug must not strand the delivery
        logger.exception("provider %s raised unexpectedly for delivery %s",
                         delivery.channel, delivery.pk)
        error = f"Unexpected {type(exc).__name__} in the {delivery.channel} provider."
        _record(attempt, Outcome.TRANSIENT, error)
        _fail_or_retry(delivery, error, None, provider)
    else:
        _record(attempt, Outcome.SENT, provider_id=result.provider_message_id)
        status = DeliveryStatus.DELIVERED if result.delivered else DeliveryStatus.SENT
        _finish(delivery, status=status, sent_at=timezone.now(), last_error="",
                provider_message_id=result.provider_message_id)
    logger.info("delivery %s via %s took %.0f ms", delivery.pk, delivery.channel,
                (time.monotonic() - started) * 1000)


def deliveries_send(*, delivery_ids: list) -> None:
    """Send a batch of one channel's deliveries, sharing the provider's connection."""
    ids = [uuid.UUID(str(delivery_id)) for delivery_id in delivery_ids]
    by_channel: dict[str, list] = defaultdict(list)
    for pk, channel in Delivery.objects.filter(pk__in=ids).values_list("pk", "channel"):
        by_channel[channel].append(pk)
    for channel, ids in by_channel.items():
        provider = provider_for(channel)
        if provider is None:
            for pk in ids:
                delivery_send(delivery_id=pk)
            continue
        if provider.sends_in_bulk and provider.is_configured():
            from notifications.services.bulk_sending import deliveries_send_bulk

            deliveries_send_bulk(provider=provider, delivery_ids=ids)
            continue
        templates: dict = {}  # a batch shares its templates: look each up once
        with provider.batch():
            for pk in ids:
                delivery_send(delivery_id=pk, provider=provider, templates=templates)


def delivery_retry(*, delivery: Delivery) -> bool:
    """Staff retry of a failed (or not-configured) delivery: queue it now; False if not retryable."""
    # Attempts keep counting, so a retried delivery that fails transiently
    # again is not given a whole new round of automatic retries.
    retryable = Q(status=DeliveryStatus.FAILED) | Q(status=DeliveryStatus.SKIPPED,
                                                     skip_reason=SkipReason.NOT_CONFIGURED)
    updated = Delivery.objects.filter(retryable, pk=delivery.pk).update(
        status=DeliveryStatus.QUEUED, skip_reason="", next_attempt_at=None, enqueued_at=None,
        updated_at=timezone.now())
    if updated:
        with transaction.atomic():
            deliveries_enqueue(delivery_ids=[delivery.pk], channel_of={delivery.pk: delivery.channel})
    return bool(updated)
