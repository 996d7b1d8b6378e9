"""Fan-out, row by row: delivery rows built in Python for one chunk of recipients.

This is the general path. It knows every rule of attention — preferences,
quiet hours (per subscriber time zone), delays, digests and category
throttles — and is used on SQLite, for rules that digest or throttle, for raw
targets and webhook endpoints, and for the few subscribers of a chunk with
quiet hours. ``fanout_sql`` writes the common case set-based on PostgreSQL and
must reach the same rows.
"""

from __future__ import annotations

from datetime import datetime

from inbox.services.gating import deliveries_gate
from notifications.models import Delivery, DeliveryStatus, Event, Rule, SkipReason
from notifications.selectors.audience import Recipient
from notifications.services.digests import Fold, deliveries_fold_for_digest, digest_item_add
from notifications.services.scheduling import deliveries_delay
from notifications.services.throttling import deliveries_throttle


def _delivery_for(event: Event, rule: Rule, recipient: Recipient, channel: str) -> Delivery | None:
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


def deliveries_build(*, event: Event, rule: Rule, recipients: list[Recipient],
                     channels: list[str], now: datetime,
                     notes: list[str]) -> tuple[list[Delivery], list[Fold]]:
    """The rule's deliveries for ``recipients`` on ``channels``, judged; and their digest folds."""
    deliveries = []
    for recipient in recipients:
        for channel in channels:
            delivery = _delivery_for(event, rule, recipient, channel)
            if delivery is not None:
                deliveries.append(delivery)
    deliveries_gate(deliveries=deliveries, rule=rule, now=now)
    # Time and attention, after preferences: a muted delivery is neither
    # delayed, digested nor counted against the throttle.
    deliveries_delay(deliveries=deliveries, rule=rule, now=now)
    folds = deliveries_fold_for_digest(deliveries=deliveries, rule=rule, event=event, now=now,
                                       notes=notes)
    folds += deliveries_throttle(deliveries=deliveries, rule=rule, event=event, now=now)
    return deliveries, folds


def endpoint_deliveries(*, event: Event, rule: Rule, channel: str,
                        endpoints: list[tuple[str, str]]) -> list[Delivery]:
    """One delivery per configured endpoint (webhooks), whatever the rule's audience."""
    return [Delivery(event=event, rule=rule, channel=channel, address=address, recipient_key=key)
            for key, address in endpoints]


def deliveries_write(*, event: Event, rule: Rule, deliveries: list[Delivery],
                     folds: list[Fold], now: datetime) -> list[tuple[object, str]]:
    """Insert the deliveries not written yet (call in a transaction); return ``(pk, channel)``
    of the new ones that are due now, marked handed over for the caller to enqueue."""
    if not deliveries:
        return []
    # A re-dispatched event has some rows already (and their digest items,
    # possibly in a batch sent since): only a delivery created now adds an item.
    keys = {(d.recipient_key, d.channel) for d in deliveries}
    existing = {(key, channel) for key, channel in Delivery.objects.filter(
        event=event, rule=rule, recipient_key__in={k for k, _ in keys}).values_list(
        "recipient_key", "channel") if (key, channel) in keys}
    for fold in folds:
        if (fold.delivery.recipient_key, fold.delivery.channel) not in existing:
            digest_item_add(fold=fold, event=event, rule=rule)
    new = [d for d in deliveries if (d.recipient_key, d.channel) not in existing]
    due_now = [d for d in new if d.status == DeliveryStatus.QUEUED
               and (d.next_attempt_at is None or d.next_attempt_at <= now)]
    for delivery in due_now:
        delivery.enqueued_at = now
    # ignore_conflicts: a run racing this one may have written a row since the check.
    Delivery.objects.bulk_create(new, ignore_conflicts=True, batch_size=1000)
    return [(d.pk, d.channel) for d in due_now]
