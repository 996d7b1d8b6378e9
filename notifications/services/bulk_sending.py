"""Sending a whole batch at once for providers that can (``Provider.sends_in_bulk``).

The per-delivery path (``deliveries.delivery_send``) costs a few queries per
message; for the in-app channel, where a broadcast can reach thousands of
subscribers, the batch is claimed, logged, sent and recorded with a constant
number of queries. Claiming, leases and retries mean the same as on the
per-delivery path.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus
from notifications.providers import Provider, ProviderError, SendResult, TransientError
from notifications.services.deliveries import _due, _fail_or_retry, _finish
from notifications.services.rendering import delivery_render
from notifications.templating import TemplateProblem

Outcome = DeliveryAttempt.Outcome


def _claim_bulk(delivery_ids: list) -> list[Delivery]:
    """Claim every queued, due delivery among ``delivery_ids`` that no other worker holds."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    with transaction.atomic():
        # skip_locked: a row another worker is claiming right now is simply theirs.
        free = list(Delivery.objects.select_for_update(skip_locked=True)
                    .filter(_due(), pk__in=delivery_ids, status=DeliveryStatus.QUEUED)
                    .values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=free, status=DeliveryStatus.QUEUED).update(
            status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, lease_expires_at=lease)
    return list(Delivery.objects.filter(pk__in=free, status=DeliveryStatus.SENDING,
                                        lease_expires_at=lease)
                .select_related("event", "rule", "subscriber", "rule__category"))


def deliveries_send_bulk(*, provider: Provider, delivery_ids: list) -> None:
    """Claim, render, send and record a batch of one channel's deliveries."""
    deliveries = _claim_bulk(delivery_ids)
    if not deliveries:
        return
    started = timezone.now()
    attempts = {d.pk: DeliveryAttempt(delivery=d, number=d.attempts, started_at=started)
                for d in deliveries}
    DeliveryAttempt.objects.bulk_create(attempts.values())

    ready: list[Delivery] = []
    outcomes: dict[object, SendResult | ProviderError] = {}
    templates: dict = {}
    for delivery in deliveries:
        if provider.needs_template:
            try:
                delivery.rendered = delivery_render(delivery, templates=templates)
            except TemplateProblem as problem:
                outcomes[delivery.pk] = _TemplateFailure(f"Template: {problem}")
                continue
        ready.append(delivery)
    if ready:
        try:
            with transaction.atomic():
                outcomes.update(provider.send_bulk(ready))
        except Exception as exc:  # noqa: BLE001 — the whole batch failed; retry it all
            error = TransientError(f"{type(exc).__name__} while sending the batch.")
            outcomes.update({d.pk: error for d in ready})
    _record_bulk(deliveries, attempts, outcomes)


class _TemplateFailure(ProviderError):
    """A delivery whose template could not be rendered: failed, never retried."""


def _record_bulk(deliveries: list[Delivery], attempts: dict, outcomes: dict) -> None:
    finished = timezone.now()
    sent: list[Delivery] = []
    for delivery in deliveries:
        outcome = outcomes.get(delivery.pk) or TransientError("The provider gave no outcome.")
        attempt = attempts[delivery.pk]
        attempt.finished_at = finished
        attempt.duration_ms = int((finished - attempt.started_at).total_seconds() * 1000)
        if isinstance(outcome, SendResult):
            attempt.outcome, attempt.provider_message_id = Outcome.SENT, outcome.provider_message_id
            delivery.status = (DeliveryStatus.DELIVERED if outcome.delivered
                               else DeliveryStatus.SENT)
            delivery.provider_message_id = outcome.provider_message_id
            delivery.sent_at, delivery.lease_expires_at, delivery.last_error = finished, None, ""
            delivery.updated_at = finished
            sent.append(delivery)
        elif isinstance(outcome, TransientError):
            attempt.outcome, attempt.error = Outcome.TRANSIENT, str(outcome)[:2000]
            _fail_or_retry(delivery, str(outcome), outcome.retry_after)
        else:
            attempt.outcome, attempt.error = Outcome.PERMANENT, str(outcome)[:2000]
            _finish(delivery, status=DeliveryStatus.FAILED, last_error=str(outcome))
    DeliveryAttempt.objects.bulk_update(
        attempts.values(), ["finished_at", "duration_ms", "outcome", "error", "provider_message_id"])
    Delivery.objects.bulk_update(sent, ["status", "provider_message_id", "sent_at",
                                        "lease_expires_at", "last_error", "rendered", "updated_at"])
