"""Escalation: an in-app message still unread after N minutes is sent again on another channel.

When the in-app channel writes a subscriber's inbox row for a rule with
``escalate_after_minutes`` / ``escalate_channel``, the follow-up delivery is
created at once, ``queued`` with ``next_attempt_at`` N minutes ahead and
``parent`` pointing at the in-app delivery; the periodic due-delivery sweep
sends it when the time comes. Reading (or deleting) the inbox row first skips
it with reason ``read``, in one UPDATE; ``delivery_send`` checks again right
before sending, so a read that races the sweep cannot let it through.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from notifications.models import Delivery, DeliveryStatus, SkipReason


def escalations_create(*, deliveries: list[Delivery], now: datetime | None = None) -> int:
    """Create the pending escalation of each written in-app delivery whose rule asks for one.

    ``deliveries`` carry their rule and subscriber (select_related). Idempotent:
    the unique (event, rule, recipient, channel) key makes a retried batch
    create nothing twice. Return how many rows were offered for insert.
    """
    from inbox.services.gating import deliveries_gate

    now = now or timezone.now()
    by_rule: dict[int, list[Delivery]] = defaultdict(list)
    rules = {}
    for parent in deliveries:
        rule = parent.rule
        if (rule is None or parent.subscriber_id is None or not rule.escalate_channel
                or not rule.escalate_after_minutes):
            continue
        subscriber = parent.subscriber
        address = subscriber.address_for(rule.escalate_channel)
        child = Delivery(
            event_id=parent.event_id, rule=rule, subscriber=subscriber,
            channel=rule.escalate_channel, address=address, recipient_key=parent.recipient_key,
            parent=parent, next_attempt_at=now + timedelta(minutes=rule.escalate_after_minutes))
        if not address:
            child.status, child.skip_reason = DeliveryStatus.SKIPPED, SkipReason.NO_ADDRESS
            child.next_attempt_at = None
        by_rule[rule.pk].append(child)
        rules[rule.pk] = rule
    children: list[Delivery] = []
    for rule_pk, rows in by_rule.items():
        # Preferences and quiet hours are judged at the moment the escalation
        # fires, not now: a window starting before then holds it to its end.
        for due in {row.next_attempt_at for row in rows if row.next_attempt_at}:
            deliveries_gate(deliveries=[r for r in rows if r.next_attempt_at == due],
                            rule=rules[rule_pk], now=due)
        children += rows
    Delivery.objects.bulk_create(children, ignore_conflicts=True, batch_size=500)
    return len(children)


def escalations_cancel(*, notifications: QuerySet) -> int:
    """Skip (reason ``read``) the pending escalations of these inbox notifications; one UPDATE."""
    now = timezone.now()
    return Delivery.objects.filter(
        parent__isnull=False, status=DeliveryStatus.QUEUED,
        parent_id__in=notifications.filter(delivery__isnull=False).values("delivery_id"),
    ).update(status=DeliveryStatus.SKIPPED, skip_reason=SkipReason.READ, next_attempt_at=None,
             last_error="", updated_at=now)


def escalation_parent_seen(delivery: Delivery) -> bool:
    """True when ``delivery`` escalates an in-app message that was read or deleted meanwhile."""
    if delivery.parent_id is None:
        return False
    from inbox.models import Notification

    return Notification.objects.filter(delivery_id=delivery.parent_id).filter(
        Q(read_at__isnull=False) | Q(deleted_at__isnull=False)).exists()
