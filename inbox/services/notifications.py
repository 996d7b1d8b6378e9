"""Changing inbox notifications — read, read all, delete, test — and telling every open tab.

Each change is one UPDATE scoped to the caller's own subscriber; ids that are
not theirs make the whole call fail with nothing touched. The live message
(with the new unread count) goes out after commit. Reading or deleting a
notification also cancels its pending escalation (e-mail/SMS follow-up).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from inbox.models import Notification
from inbox.selectors import unread_count
from inbox.services.announce import notifications_push_created  # noqa: F401 — part of this module's API
from inbox.services.live import group_send_on_commit, subscriber_group
from notifications.models import Subscriber
from notifications.services.escalation import escalations_cancel

TEST_EVENT_TYPE = "clarion.inbox.test"


class NotificationsNotFound(Exception):
    """Some of the given ids are not this subscriber's notifications."""

    def __init__(self, missing: list[int]):
        super().__init__(f"Not found: {missing}")
        self.missing = missing


def _owned(subscriber_id: int, ids: list[int]):
    visible = Notification.objects.filter(subscriber_id=subscriber_id, deleted_at__isnull=True,
                                          id__in=ids)
    found = set(visible.values_list("id", flat=True))
    missing = sorted(set(ids) - found)
    if missing:
        raise NotificationsNotFound(missing)
    return visible


@transaction.atomic
def notifications_mark_read(*, subscriber_id: int, ids: list[int]) -> int:
    """Mark the caller's ``ids`` read; return how many changed state."""
    owned = _owned(subscriber_id, ids)
    changed = owned.filter(read_at__isnull=True).update(read_at=timezone.now())
    escalations_cancel(notifications=owned)
    group_send_on_commit(subscriber_group(subscriber_id), {
        "type": "notification.read", "ids": sorted(set(ids)),
        "unread_count": unread_count(subscriber_id=subscriber_id)})
    return changed


@transaction.atomic
def notifications_mark_all_read(*, subscriber_id: int) -> int:
    changed = Notification.objects.filter(subscriber_id=subscriber_id, read_at__isnull=True,
                                          deleted_at__isnull=True).update(read_at=timezone.now())
    escalations_cancel(notifications=Notification.objects.filter(
        subscriber_id=subscriber_id, read_at__isnull=False))
    group_send_on_commit(subscriber_group(subscriber_id), {
        "type": "notifications.all_read", "unread_count": 0})
    return changed


@transaction.atomic
def notifications_delete(*, subscriber_id: int, ids: list[int]) -> int:
    """Delete (hide) the caller's ``ids``; deleted rows never come back in lists or catch-up."""
    owned = _owned(subscriber_id, ids)
    changed = owned.update(deleted_at=timezone.now())
    escalations_cancel(notifications=Notification.objects.filter(subscriber_id=subscriber_id,
                                                                 id__in=ids))
    group_send_on_commit(subscriber_group(subscriber_id), {
        "type": "notification.deleted", "ids": sorted(set(ids)),
        "unread_count": unread_count(subscriber_id=subscriber_id)})
    return changed


def notification_send_test(*, subscriber: Subscriber):
    """Send the caller a test notification through the real pipeline; return the event."""
    from inbox.services.system_rules import test_rule_ensure
    from notifications.services.events import event_ingest

    test_rule_ensure()
    event, _ = event_ingest(event_type=TEST_EVENT_TYPE, recipients=[subscriber.external_id],
                            data={"sent_at": timezone.now().isoformat()},
                            directory_id=subscriber.directory_id)
    return event
