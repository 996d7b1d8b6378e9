"""Throttling: at most N messages per subscriber, category and channel within a window.

The count is of deliveries already sent or waiting to be sent (queued,
sending, sent, delivered) for that subscriber, category and channel created
inside the window. The excess is not dropped: it is folded into a digest for
that recipient, rule and channel that falls due when the window ends (or on the
rule's own digest schedule), so the subscriber gets one summary instead of a
flood. Critical categories are never throttled.

The limit is soft under concurrency: two events for the same subscriber
processed at the same instant may both see room for one more message. That
costs at most a message per racing worker, and keeps dispatch free of
per-subscriber locks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Min

from notifications.models import Delivery, DeliveryStatus, Event, Rule
from notifications.services.digests import Fold, digest_key_evaluate, fold_mark, rule_digests
from notifications.templating import TemplateProblem

# What counts as a message the subscriber has had, or is about to have.
COUNTED = [DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.SENT,
           DeliveryStatus.DELIVERED]


def throttle_limits(rule: Rule) -> tuple[int, timedelta] | None:
    category = rule.category if rule.category_id else None
    if (category is None or category.critical or not category.throttle_limit
            or not category.throttle_window_seconds):
        return None
    return category.throttle_limit, timedelta(seconds=category.throttle_window_seconds)


def deliveries_throttle(*, deliveries: list[Delivery], rule: Rule, event: Event,
                        now: datetime) -> list[Fold]:
    """Fold the deliveries beyond the category's limit into digests, in place; return the folds."""
    limits = throttle_limits(rule)
    if limits is None or rule_digests(rule):  # a digesting rule already sends one message
        return []
    limit, window = limits
    candidates = [d for d in deliveries
                  if d.status == DeliveryStatus.QUEUED and d.subscriber_id is not None]
    if not candidates:
        return []
    since = now - window
    counted = {
        (row["subscriber_id"], row["channel"]): (row["n"], row["first"])
        for row in Delivery.objects.filter(
            subscriber_id__in={d.subscriber_id for d in candidates},
            channel__in={d.channel for d in candidates},
            rule__category_id=rule.category_id, status__in=COUNTED, created_at__gte=since,
        ).values("subscriber_id", "channel").annotate(n=Count("id"), first=Min("created_at"))
    }
    try:
        key = digest_key_evaluate(rule=rule, event=event)
    except TemplateProblem:
        key = ""
    folds = []
    for delivery in candidates:
        slot = (delivery.subscriber_id, delivery.channel)
        sent, first = counted.get(slot, (0, now))
        if sent < limit:
            # This one goes out; count it for the next delivery in the same batch.
            counted[slot] = (sent + 1, first)
            continue
        fold_mark(delivery)
        # The window frees a slot when its oldest message ages out: send the summary then.
        folds.append(Fold(delivery=delivery, digest_key=key, due_at=first + window))
    return folds
