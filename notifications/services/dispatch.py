"""Processing an event: rules → audience → one Delivery row per recipient and channel.

Deliveries are created in bulk with ``ignore_conflicts`` against their unique
(event, rule, recipient, channel) key, so processing the same event twice — a
redelivered task, the sweeper, the admin's "dispatch again" — never creates
a second delivery, and therefore never sends twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inbox.services.gating import deliveries_gate
from notifications.models import Delivery, DeliveryStatus, Event, EventStatus, SkipReason
from notifications.providers import provider_for
from notifications.selectors.audience import Recipient, audience_resolve
from notifications.selectors.rules import rules_matching
from notifications.services.deliveries import deliveries_enqueue_pending
from notifications.services.digests import Fold, deliveries_fold_for_digest, digest_item_add
from notifications.services.scheduling import deliveries_delay
from notifications.services.throttling import deliveries_throttle
from notifications.templating import TemplateProblem, condition_evaluate

logger = logging.getLogger(__name__)


def _claim(event_id) -> bool:
    """Move the event to ``processing``; a stale claim (dead worker) may be taken over."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    return bool(Event.objects.filter(pk=event_id).filter(
        Q(status=EventStatus.RECEIVED)
        | Q(status=EventStatus.PROCESSING, processing_started_at__lt=stale)
    ).update(status=EventStatus.PROCESSING, processing_started_at=now))


def _delivery_for(event: Event, rule, recipient: Recipient, channel: str) -> Delivery | None:
    if recipient.subscriber is None:
        if recipient.channel != channel:
            return None  # a raw target only receives on its own channel
        address = recipient.address
    else:
        address = recipient.subscriber.address_for(channel)
    delivery = Delivery(event=event, rule=rule, subscriber=recipient.subscriber, channel=channel,
                        address=address, recipient_key=recipient.key)
    if not address:
        delivery.status = DeliveryStatus.SKIPPED
        delivery.skip_reason = SkipReason.NO_ADDRESS
    return delivery


def event_process(*, event_id) -> Event | None:
    """Process one event if it is waiting; return it, or None when someone else has it."""
    if not _claim(event_id):
        return None
    event = Event.objects.get(pk=event_id)
    notes: list[str] = []
    deliveries: list[Delivery] = []
    folds: list[Fold] = []
    now = timezone.now()
    for rule in rules_matching(event=event):
        if rule.condition.strip():
            try:
                if not condition_evaluate(rule.condition, {"data": event.data,
                                                           "event": {"type": event.event_type}}):
                    continue
            except TemplateProblem as problem:
                notes.append(f"Rule {rule.name!r}: condition not evaluated ({problem}).")
                continue
        people_channels = []
        for channel in rule.channels:
            provider = provider_for(channel)
            endpoints = provider.endpoints_for(event) if provider else None
            if endpoints is None:
                people_channels.append(channel)
                continue
            deliveries += [Delivery(event=event, rule=rule, channel=channel, address=address,
                                    recipient_key=key) for key, address in endpoints]
        if not people_channels:
            continue
        for_rule = []
        for recipient in audience_resolve(event=event, rule=rule):
            for channel in people_channels:
                delivery = _delivery_for(event, rule, recipient, channel)
                if delivery is not None:
                    for_rule.append(delivery)
        deliveries_gate(deliveries=for_rule, rule=rule, now=now)
        # Time and attention, after preferences: a muted delivery is neither
        # delayed, digested nor counted against the throttle.
        deliveries_delay(deliveries=for_rule, rule=rule, now=now)
        folds += deliveries_fold_for_digest(deliveries=for_rule, rule=rule, event=event, now=now,
                                            notes=notes)
        folds += deliveries_throttle(deliveries=for_rule, rule=rule, event=event, now=now)
        deliveries += for_rule

    with transaction.atomic():
        _folds_add(event, folds)
        Delivery.objects.bulk_create(deliveries, ignore_conflicts=True, batch_size=500)
        Event.objects.filter(pk=event.pk).update(
            status=EventStatus.PROCESSED, processed_at=timezone.now(), error="\n".join(notes))
        deliveries_enqueue_pending(event_id=event.pk)
    event.refresh_from_db()
    logger.info("event %s processed: %d deliveries", event.pk, event.deliveries.count())
    return event


def _folds_add(event: Event, folds: list[Fold]) -> None:
    """Put folded deliveries' event into their digest batches, once per delivery row."""
    if not folds:
        return
    # A re-dispatched event already has its rows (and its items, possibly in a
    # batch sent since): only a delivery created now adds an item.
    existing = set(Delivery.objects.filter(event=event)
                   .values_list("rule_id", "recipient_key", "channel"))
    for fold in folds:
        delivery = fold.delivery
        if (delivery.rule_id, delivery.recipient_key, delivery.channel) not in existing:
            digest_item_add(fold=fold, event=event, rule=delivery.rule)


def event_dispatch_again(*, event: Event) -> None:
    """Run a finished event through the rules again (reaching, say, members added to a group
    since); existing deliveries are kept and none is duplicated. An event still waiting or
    being processed is left to the run already under way."""
    from notifications.services.events import event_enqueue_on_commit

    with transaction.atomic():
        reopened = Event.objects.filter(
            pk=event.pk, status__in=[EventStatus.PROCESSED, EventStatus.FAILED]
        ).update(status=EventStatus.RECEIVED, processing_started_at=None)
        if reopened:
            event_enqueue_on_commit(event_id=event.pk)

