"""Marking a message read from its push: a browser's service worker holds no credentials,
so each push carries a signed token that marks the person's in-app copy of the same event
read, and nothing else.

The token names the subscriber and the event, is signed with the server's key (its own
salt) and expires after ``MAX_AGE``; anyone holding it can mark that one event read for
that one person, which is all a notification click needs.
"""

from __future__ import annotations

from django.core import signing
from django.core.exceptions import ValidationError

from inbox.models import Notification
from inbox.services.notifications import notifications_mark_read

SALT = "clarion.push.read"
MAX_AGE = 30 * 24 * 3600


def read_token(*, subscriber_id: int, event_id) -> str:
    return signing.dumps([subscriber_id, str(event_id)], salt=SALT, compress=True)


def read_by_token(token: str) -> int:
    """Mark the token's event read in its subscriber's inbox; return how many changed."""
    try:
        subscriber_id, event_id = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        raise ValidationError({"token": ["This link is invalid or has expired."]}) from None
    ids = list(Notification.objects.filter(
        subscriber_id=subscriber_id, delivery__event_id=event_id, read_at__isnull=True,
        deleted_at__isnull=True).values_list("id", flat=True))
    return notifications_mark_read(subscriber_id=subscriber_id, ids=ids) if ids else 0
