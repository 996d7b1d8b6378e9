"""Deliveries one at a time: the staff retry, the direct path's inline send, and the
per-delivery forms of the pipeline's steps.

A delivery moves ``queued → sending → sent`` (or ``failed`` / ``skipped``);
broadcasts go through the same steps a batch at a time (``sending``). Transient
failures go back to ``queued`` with a ``next_attempt_at`` in the database — not
a countdown in the broker — so a restart loses no retry.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications.bulk_sql import rows_update
from notifications.handoff import deliveries_enqueue
from notifications.models import Delivery, DeliveryStatus, SkipReason
from notifications.providers import Provider, TransientError, provider_for
from notifications.providers.base import backoff_delay
from notifications.services.recording import DELIVERY_FIELDS, delivery_state_after
from notifications.services.sending import deliveries_send

#: The core's backoff, for callers that ask "how long would a retry wait".
retry_delay = backoff_delay


def delivery_send(*, delivery_id, provider: Provider | None = None) -> None:
    """Send one delivery if it is queued and due; otherwise do nothing."""
    deliveries_send(delivery_ids=[delivery_id], provider=provider)


def _fail_or_retry(delivery: Delivery, error: str, retry_after: float | None,
                   provider: Provider | None = None) -> None:
    """Record a transient failure of a claimed delivery: queued again, or failed when spent.

    The channel decides how long to wait and when to give up (webhooks keep their own schedule).
    """
    provider = provider or provider_for(delivery.channel) or Provider()
    state = delivery_state_after(delivery, TransientError(error, retry_after=retry_after),
                                 provider, timezone.now())
    rows_update(Delivery, DELIVERY_FIELDS, [state], only_if=("status", DeliveryStatus.SENDING))


def delivery_retry(*, delivery: Delivery) -> bool:
    """Staff retry of a failed (or not-configured) delivery: queue it now; False if not retryable."""
    # Attempts keep counting, so a retried delivery that fails transiently
    # again is not given a whole new round of automatic retries.
    retryable = Q(status=DeliveryStatus.FAILED) | Q(status=DeliveryStatus.SKIPPED,
                                                     skip_reason=SkipReason.NOT_CONFIGURED)
    with transaction.atomic():
        updated = Delivery.objects.filter(retryable, pk=delivery.pk).update(
            status=DeliveryStatus.QUEUED, skip_reason="", next_attempt_at=None, enqueued_at=None,
            updated_at=timezone.now())
        if updated:
            deliveries_enqueue(rows=[(delivery.pk, delivery.channel)])
    return bool(updated)
