"""Who a live message is for: the group names every session joins, and the door to send to them.

Every WebSocket, SSE, long-poll and Socket.IO session of a subscriber joins one
group, ``inbox.<subscriber id>``; a session of the push-server-compatible API
joins ``push.<application id>.<user id digest>``. Sending goes through
``inbox.live.publisher``, after commit and in batches.
"""

from __future__ import annotations

import hashlib
from typing import Any

from inbox.live.publisher import live_send_on_commit

__all__ = ["group_send_on_commit", "live_send_on_commit", "push_user_group", "subscriber_group"]


def subscriber_group(subscriber_id: int) -> str:
    return f"inbox.{subscriber_id}"


def push_user_group(application_id: int, user_id: str) -> str:
    # Group names allow only a small alphabet and 100 characters; user ids are arbitrary.
    digest = hashlib.sha256(user_id.encode()).hexdigest()[:40]
    return f"push.{application_id}.{digest}"


def group_send_on_commit(group: str, payload: dict[str, Any]) -> None:
    """One message to one group, after commit (a batch of one)."""
    live_send_on_commit([(group, payload)])
