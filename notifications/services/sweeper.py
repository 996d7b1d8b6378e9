"""Recovery that makes "accepted" mean "will be sent": run periodically by Celery beat.

* Due retries: deliveries back in ``queued`` whose ``next_attempt_at`` has come.
* Lost hand-offs: queued deliveries and ``received`` events the broker never
  delivered (broker outage, a crash between commit and publish).
* Dead workers: deliveries whose ``sending`` lease expired and events stuck in
  ``processing`` are taken back and queued again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, Event, EventStatus
from notifications.providers import Provider, provider_for
from notifications.services.deliveries import deliveries_enqueue_pending

logger = logging.getLogger(__name__)


def deliveries_dispatch_due() -> int:
    """Hand every queued, due delivery that is not already with the broker to a worker.

    A delivery handed over more than ``EVENT_STUCK_SECONDS`` ago that is still
    queued was lost on the way and is handed over again.
    """
    stale = timezone.now() - timedelta(seconds=settings.EVENT_STUCK_SECONDS)
    Delivery.objects.filter(status=DeliveryStatus.QUEUED, enqueued_at__lt=stale).update(
        enqueued_at=None)
    with transaction.atomic():
        count = deliveries_enqueue_pending()
    if count:
        logger.info("queued %d due deliveries", count)
    return count


def deliveries_recover_expired_leases() -> int:
    """Return deliveries whose worker died mid-send to the queue (or fail them when spent)."""
    now = timezone.now()
    expired = list(Delivery.objects.filter(status=DeliveryStatus.SENDING, lease_expires_at__lt=now)
                   .values_list("pk", "attempts", "channel"))
    error = "The worker stopped before the send finished (lease expired)."
    for pk, attempts, channel in expired:
        DeliveryAttempt.objects.filter(delivery_id=pk, outcome=DeliveryAttempt.Outcome.PENDING
                                       ).update(outcome=DeliveryAttempt.Outcome.TRANSIENT,
                                                finished_at=now, error=error)
        # The channel's own retry policy decides (webhooks retry for days, on a schedule).
        provider = provider_for(channel) or Provider()
        spent = provider.retry_delay(attempts=attempts, retry_after=None) is None
        Delivery.objects.filter(pk=pk, status=DeliveryStatus.SENDING, lease_expires_at__lt=now
                                ).update(
            status=DeliveryStatus.FAILED if spent else DeliveryStatus.QUEUED,
            lease_expires_at=None, next_attempt_at=now, enqueued_at=None, last_error=error,
            updated_at=now)
    if expired:
        logger.warning("recovered %d deliveries with expired leases", len(expired))
    return len(expired)


def events_requeue_stuck() -> int:
    """Queue processing again for events the broker lost or a dead worker left half-done."""
    from notifications.services.events import event_enqueue_on_commit

    now = timezone.now()
    # A scheduled event becomes "received" at its send_at, not when it was created.
    stuck = Event.objects.annotate(due=Coalesce("send_at", "created_at")).filter(
        Q(status=EventStatus.RECEIVED, due__lt=now - timedelta(
            seconds=settings.EVENT_STUCK_SECONDS))
        | Q(status=EventStatus.PROCESSING, processing_started_at__lt=now - timedelta(
            seconds=settings.DELIVERY_LEASE_SECONDS))
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
    }
