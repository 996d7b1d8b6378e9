"""Reads for the inbox: visible notifications, catch-up after an id, unread counts."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from inbox.models import Notification
from notifications.bulk_sql import column_in

CATCH_UP_LIMIT = 100


def notifications_visible(*, subscriber_id: int) -> QuerySet[Notification]:
    """The subscriber's inbox (not deleted), newest first."""
    return (Notification.objects.filter(subscriber_id=subscriber_id, deleted_at__isnull=True)
            .select_related("category").order_by("-id"))


def notification_cursor(value: str | None) -> int | None:
    """A client's resume position (``last_id``, ``after``, ``Last-Event-ID``): a notification
    id, or None ("from now") for anything else. ASCII digits only (``"²".isdigit()`` is
    true), and no larger than a database integer holds."""
    if not (value and value.isascii() and value.isdigit()):
        return None
    return min(int(value), 2**63 - 1)


def notifications_after(*, subscriber_id: int, after_id: int,
                        limit: int = CATCH_UP_LIMIT) -> list[Notification]:
    """What a client that last saw ``after_id`` missed, oldest first (at most ``limit``)."""
    missed = notifications_visible(subscriber_id=subscriber_id).filter(id__gt=after_id)
    return list(reversed(missed[:limit]))


def unread_count(*, subscriber_id: int) -> int:
    return Notification.objects.filter(subscriber_id=subscriber_id, read_at__isnull=True,
                                       deleted_at__isnull=True).count()


def unread_counts(*, subscriber_ids: set[int]) -> dict[int, int]:
    """Unread counts for many subscribers in one query (for a broadcast)."""
    # One array parameter for thousands of subscribers, not a placeholder each.
    unread = Notification.objects.filter(
        column_in(Notification, "subscriber", subscriber_ids), read_at__isnull=True,
        deleted_at__isnull=True)
    counts = dict(unread.values("subscriber_id").annotate(n=Count("id"))
                  .values_list("subscriber_id", "n"))
    return {sid: counts.get(sid, 0) for sid in subscriber_ids}


def notification_as_dict(notification: Notification) -> dict[str, object]:
    """The shape every client sees, over REST, WebSocket, SSE and long-poll alike."""
    return {
        "id": notification.pk,
        "title": notification.title,
        "body": notification.body,
        "action_url": notification.action_url,
        "level": notification.level,
        "category": notification.category.key if notification.category_id else None,
        "data": notification.data,
        "created_at": notification.created_at.isoformat(),
        "read_at": notification.read_at.isoformat() if notification.read_at else None,
    }
