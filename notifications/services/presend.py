"""Last checks right before a claimed batch is handed to its provider.

Fan-out already skips what it can see at creation time; these checks catch
what changed while the deliveries waited: an escalated in-app message read in
the meantime, an address that bounced since. One query for the whole batch.
"""

from __future__ import annotations

from django.db.models import Q

from notifications.models import Channel, Delivery, SkipReason


def presend_skip_reasons(deliveries: list[Delivery]) -> dict[object, str]:
    """``{delivery pk: reason}`` for each delivery of the batch to skip instead of send."""
    from inbox.models import Notification

    reasons = {}
    for delivery in deliveries:
        if (delivery.channel == Channel.EMAIL and delivery.subscriber is not None
                and delivery.subscriber.email_undeliverable_at is not None):
            reasons[delivery.pk] = SkipReason.UNDELIVERABLE
    parents = {d.parent_id: d.pk for d in deliveries if d.parent_id and d.pk not in reasons}
    if parents:
        seen = Notification.objects.filter(delivery_id__in=list(parents)).filter(
            Q(read_at__isnull=False) | Q(deleted_at__isnull=False)).values_list("delivery_id",
                                                                                flat=True)
        for parent_id in seen:
            reasons[parents[parent_id]] = SkipReason.READ
    return reasons
