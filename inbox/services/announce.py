"""Telling open sessions about inbox rows just written: one batch after commit, one
unread-count query for all the subscribers, however many rows a broadcast wrote.

Kept apart from the other inbox services so the in-app channel can announce
what it wrote without depending on anything else of the pipeline.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inbox.live.publisher import live_send_now
from inbox.models import Notification, PendingPush
from inbox.selectors import notification_as_dict, unread_counts
from inbox.services.live import subscriber_group

logger = logging.getLogger(__name__)


def notifications_push_created(notifications: list[Notification]) -> None:
    """Tell each subscriber's sessions about new rows, with their new unread counts."""
    notifications_push_rows([(n.subscriber_id, notification_as_dict(n)) for n in notifications])


def notifications_push_rows(rows: list[tuple[int, dict]]) -> None:
    """Like ``notifications_push_created``, from ``(subscriber id, notification as a dict)``.

    Inside a transaction the push is also recorded (``PendingPush``, with the rows) and the
    record deleted once the layer took the push, so a worker killed between the commit and
    the push, or a layer outage, leaves a record the sweeper pushes again
    (``pushes_recover``) instead of a silent hole in every open inbox.
    """
    if not rows:
        return
    counts = unread_counts(subscriber_ids={subscriber_id for subscriber_id, _ in rows})
    messages = [(subscriber_group(subscriber_id), {
        "type": "notification.created", "notification": payload,
        "unread_count": counts[subscriber_id]}) for subscriber_id, payload in rows]
    if not transaction.get_connection().in_atomic_block:
        live_send_now(messages)
        return
    pending = PendingPush.objects.create(notification_ids=[payload["id"] for _, payload in rows],
                                         created_at=timezone.now())

    def push() -> None:
        if live_send_now(messages):
            PendingPush.objects.filter(pk=pending.pk).delete()

    transaction.on_commit(push)


def pushes_recover(*, limit: int = 100) -> int:
    """Push again the inbox rows of pushes unconfirmed after ``LIVE_PUSH_GRACE_SECONDS``;
    return how many rows (a repeat carries the row's own id, as the first push did)."""
    stale = timezone.now() - timedelta(seconds=settings.LIVE_PUSH_GRACE_SECONDS)
    with transaction.atomic():
        pending = PendingPush.objects.filter(created_at__lt=stale).order_by("created_at")
        if connection.features.has_select_for_update_skip_locked:
            pending = pending.select_for_update(skip_locked=True)
        records = list(pending[:limit])
        if not records:
            return 0
        ids = [pk for record in records for pk in record.notification_ids]
        notifications = list(Notification.objects.filter(pk__in=ids).select_related("category"))
        PendingPush.objects.filter(pk__in=[record.pk for record in records]).delete()
        notifications_push_created(notifications)  # recorded again until the layer takes it
    logger.warning("%d live pushes were never confirmed; %d inbox rows pushed again",
                   len(records), len(notifications))
    return len(notifications)
