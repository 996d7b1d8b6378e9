"""Telling open sessions about inbox rows just written: one batch after commit, one
unread-count query for all the subscribers, however many rows a broadcast wrote.

Kept apart from the other inbox services so the in-app channel can announce
what it wrote without depending on anything else of the pipeline.
"""

from __future__ import annotations

from inbox.live.publisher import live_send_on_commit
from inbox.models import Notification
from inbox.selectors import notification_as_dict, unread_counts
from inbox.services.live import subscriber_group


def notifications_push_created(notifications: list[Notification]) -> None:
    """Tell each subscriber's sessions about new rows, with their new unread counts."""
    notifications_push_rows([(n.subscriber_id, notification_as_dict(n)) for n in notifications])


def notifications_push_rows(rows: list[tuple[int, dict]]) -> None:
    """Like ``notifications_push_created``, from ``(subscriber id, notification as a dict)``."""
    if not rows:
        return
    counts = unread_counts(subscriber_ids={subscriber_id for subscriber_id, _ in rows})
    live_send_on_commit((subscriber_group(subscriber_id), {
        "type": "notification.created", "notification": payload,
        "unread_count": counts[subscriber_id]}) for subscriber_id, payload in rows)
