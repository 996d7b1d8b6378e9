"""Sending one message now, outside the rules: the URL relay and the admin's test messages.

The message still becomes a real Event and Delivery, so it is in the delivery
log with its attempts like any other, and it is sent through the same core
(claim, provider, record). The difference is that the caller waits for the
outcome: the delivery is sent inline, and a transient failure is final — the
caller sees it and decides whether to try again, instead of a background retry
posting the message later behind the caller's back.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from notifications.models import ApiKey, Application, Delivery, DeliveryStatus, Event, EventStatus
from notifications.providers import Provider, provider_for
from notifications.services.deliveries import delivery_send
from notifications.targets import target_protect

if TYPE_CHECKING:
    from collections.abc import Iterator


class _PreRendered(Provider):
    """The channel's provider, for a delivery whose words are already in ``rendered``."""

    needs_template = False

    def __init__(self, inner: Provider):
        self.inner = inner
        self.channel = inner.channel

    def is_configured(self) -> bool:
        return self.inner.is_configured()

    @contextmanager
    def batch(self) -> Iterator[None]:
        with self.inner.batch():
            yield

    def batch_prepare(self, deliveries: list[Delivery]) -> dict:
        return self.inner.batch_prepare(deliveries)

    def send(self, delivery: Delivery):
        return self.inner.send(delivery)


def delivery_send_now(*, delivery: Delivery) -> Delivery:
    """Send a queued, pre-rendered delivery inline and return it in its final state."""
    provider = provider_for(delivery.channel)
    delivery_send(delivery_id=delivery.pk,
                  provider=_PreRendered(provider) if provider is not None else None)
    # A transient failure left it queued for a retry: the caller has the answer instead.
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.QUEUED).update(
        status=DeliveryStatus.FAILED, next_attempt_at=None, updated_at=timezone.now())
    delivery.refresh_from_db()
    return delivery


def direct_event_create(*, event_type: str, data: dict, targets: list[tuple[str, str]],
                        rendered: dict[str, str], application: Application | None = None,
                        api_key: ApiKey | None = None) -> tuple[Event, list[Delivery]]:
    """Record an already processed event with one pre-rendered delivery per (channel, address)."""
    now = timezone.now()
    targets = [(channel, target_protect(channel=channel, address=address))
               for channel, address in targets]
    with transaction.atomic():
        event = Event.objects.create(
            application=application, api_key=api_key, event_type=event_type, data=data,
            recipients=[{"channel": c, "address": a} for c, a in targets],
            status=EventStatus.PROCESSED, processing_started_at=now, processed_at=now)
        # enqueued_at is set so the sweeper leaves these to the caller sending them inline.
        deliveries = Delivery.objects.bulk_create([
            Delivery(event=event, channel=channel, address=address, rendered=rendered,
                     recipient_key=f"{channel}:{address}", enqueued_at=now)
            for channel, address in dict.fromkeys(targets)])
    return event, deliveries


def direct_message_send(*, event_type: str, data: dict, targets: list[tuple[str, str]],
                        rendered: dict[str, str], application: Application | None = None,
                        api_key: ApiKey | None = None) -> tuple[Event, list[Delivery]]:
    """Record and send at once; return the event and each delivery in its final state."""
    event, deliveries = direct_event_create(event_type=event_type, data=data, targets=targets,
                                            rendered=rendered, application=application,
                                            api_key=api_key)
    return event, [delivery_send_now(delivery=delivery) for delivery in deliveries]
