"""Recover: what makes "accepted" mean "will be sent". Run every few seconds by Celery beat,
in the housekeeping lane, so no backlog delays it.

* Due work: queued deliveries whose ``next_attempt_at`` has come (retries,
  delays, quiet hours, escalations) and that no task carries yet.
* Lost hand-offs: deliveries whose publish failed (their mark was cleared),
  whose process died between commit and publish (a ``Handoff`` row older than
  ``DELIVERY_HANDOFF_GRACE_SECONDS``) and, after ``DELIVERY_HANDOFF_LOST_SECONDS``,
  deliveries whose task the broker lost with its data; ``received`` events the
  broker never delivered.
* Live pushes never confirmed (``PendingPush``): inbox rows committed whose
  push to open sessions a dead worker or a layer outage cut off are pushed again.
* Dead workers: deliveries whose ``sending`` lease expired (the worker stopped
  renewing it) are queued again at once, in the notify lane — they are late
  already and must not wait behind the broadcast they came from — and events
  left in ``processing`` are taken over.

Every step is a few set-based statements, however much there is to recover.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from inbox.services.announce import pushes_recover
from notifications.bulk_sql import column_in, rows_insert
from notifications.handoff import BROADCAST, NOTIFY, deliveries_enqueue, event_enqueue_on_commit
from notifications.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Event,
    EventStatus,
    Handoff,
)
from notifications.providers import Provider, provider_for
from notifications.services.claiming import due

logger = logging.getLogger(__name__)
Outcome = DeliveryAttempt.Outcome
LEASE_LOST = "The worker stopped before the send finished (lease expired)."


def handoffs_recover(*, limit: int = 200) -> int:
    """Hand-offs committed but never confirmed published (the process died in between): clear
    their deliveries' marks, so the due sweep hands them over; return how many deliveries."""
    stale = timezone.now() - timedelta(seconds=settings.DELIVERY_HANDOFF_GRACE_SECONDS)
    with transaction.atomic():
        pending = Handoff.objects.filter(created_at__lt=stale).order_by("created_at")
        if connection.features.has_select_for_update_skip_locked:
            pending = pending.select_for_update(skip_locked=True)
        handoffs = list(pending[:limit])
        if not handoffs:
            return 0
        ids = [uuid.UUID(pk) for handoff in handoffs for pk in handoff.delivery_ids]
        cleared = Delivery.objects.filter(column_in(Delivery, "id", ids)).filter(
            status=DeliveryStatus.QUEUED, lease_expires_at__isnull=True).update(enqueued_at=None)
        Handoff.objects.filter(pk__in=[handoff.pk for handoff in handoffs]).delete()
    logger.warning("%d hand-offs were never published (a process died after commit); "
                   "%d deliveries handed over again", len(handoffs), cleared)
    return cleared


def deliveries_dispatch_due(*, limit: int = 20000) -> int:
    """Hand every queued, due delivery that no task carries to a worker; return how many."""
    lost = timezone.now() - timedelta(seconds=settings.DELIVERY_HANDOFF_LOST_SECONDS)
    Delivery.objects.filter(status=DeliveryStatus.QUEUED, enqueued_at__lt=lost).update(
        enqueued_at=None)
    handoffs_recover()
    with transaction.atomic():
        pending = Delivery.objects.filter(due(), status=DeliveryStatus.QUEUED,
                                          enqueued_at__isnull=True)
        if connection.features.has_select_for_update_skip_locked:
            # Two sweeps at once (two beat ticks overlapping) split the rows, never share them.
            pending = pending.select_for_update(skip_locked=True)
        rows = list(pending.values_list("pk", "channel")[:limit])
        lane = BROADCAST if len(rows) > settings.DELIVERY_BROADCAST_THRESHOLD else NOTIFY
        deliveries_enqueue(rows=rows, lane=lane)
    if rows:
        logger.info("queued %d due deliveries", len(rows))
    return len(rows)


def deliveries_recover_expired_leases(*, limit: int = 20000) -> int:
    """Queue again (or fail, when the channel's retries are spent) deliveries whose worker died
    mid-send; their lost attempt is recorded as transient."""
    now = timezone.now()
    with transaction.atomic():
        expired = Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_expires_at__lt=now)
        if connection.features.has_select_for_update_skip_locked:
            expired = expired.select_for_update(skip_locked=True)
        rows = list(expired.values_list("pk", "attempts", "channel")[:limit])
        if not rows:
            return 0
        ids = [pk for pk, _, _ in rows]
        DeliveryAttempt.objects.filter(delivery_id__in=ids, outcome=Outcome.PENDING).update(
            outcome=Outcome.TRANSIENT, finished_at=now, error=LEASE_LOST)
        recorded = _attempt_recorded(ids)
        rows_insert(DeliveryAttempt, ("delivery", "number", "started_at", "finished_at", "outcome",
                                      "error", "provider_message_id"),
                    [(pk, attempts, now, now, Outcome.TRANSIENT, LEASE_LOST, "")
                     for pk, attempts, _ in rows if attempts and (pk, attempts) not in recorded])
        # The channel's own retry policy decides (webhooks retry for days, on a schedule).
        spent = [pk for pk, attempts, channel in rows
                 if (provider_for(channel) or Provider()).retry_delay(
                     attempts=attempts, retry_after=None) is None]
        spent_set = set(spent)
        back = [(pk, channel) for pk, _, channel in rows if pk not in spent_set]
        still_expired = Q(status=DeliveryStatus.SENDING, lease_expires_at__lt=now)
        Delivery.objects.filter(still_expired, pk__in=spent).update(
            status=DeliveryStatus.FAILED, lease_expires_at=None, last_error=LEASE_LOST,
            updated_at=now)
        Delivery.objects.filter(still_expired, pk__in=[pk for pk, _ in back]).update(
            status=DeliveryStatus.QUEUED, lease_expires_at=None, next_attempt_at=now,
            enqueued_at=now, last_error=LEASE_LOST, updated_at=now)
        deliveries_enqueue(rows=back, lane=NOTIFY, marked=True)
    logger.warning("recovered %d deliveries with expired leases", len(rows))
    return len(rows)


def _attempt_recorded(ids: list) -> set[tuple[object, int]]:
    """``(delivery, number)`` of the attempts already written for these deliveries."""
    return set(DeliveryAttempt.objects.filter(delivery_id__in=ids)
               .values_list("delivery_id", "number"))


def events_requeue_stuck() -> int:
    """Queue processing again for events the broker lost or a dead worker left half-done."""
    now = timezone.now()
    # A scheduled event becomes "received" at its send_at, not when it was created.
    stuck = Event.objects.annotate(due=Coalesce("send_at", "created_at")).filter(
        Q(status=EventStatus.RECEIVED, due__lt=now - timedelta(
            seconds=settings.EVENT_STUCK_SECONDS))
        | Q(status=EventStatus.PROCESSING, processing_started_at__lt=now - timedelta(
            seconds=settings.EVENT_PROCESSING_LEASE_SECONDS))
    ).values_list("pk", flat=True)[:1000]
    ids = list(stuck)
    with transaction.atomic():
        for event_id in ids:
            event_enqueue_on_commit(event_id=event_id)
    if ids:
        logger.warning("re-queued %d stuck events", len(ids))
    return len(ids)


def sweep() -> dict[str, int]:
    """Everything above, in the order that lets recovered work be sent in the same pass."""
    return {
        "expired_leases": deliveries_recover_expired_leases(),
        "stuck_events": events_requeue_stuck(),
        "due_deliveries": deliveries_dispatch_due(),
        "live_pushes": pushes_recover(),
    }
