"""Pushing to open sessions through the channel layer, only after the data is committed.

Every WebSocket (and SSE / long-poll) session of a subscriber joins one group;
a push is one ``group_send`` to it. Pushes run on commit so a rolled-back
write never tells anyone anything.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

#: The consumer method that forwards a live message to the client ("live.message" → live_message).
LIVE_MESSAGE_TYPE = "live.message"


def subscriber_group(subscriber_id: int) -> str:
    return f"inbox.{subscriber_id}"


def push_user_group(application_id: int, user_id: str) -> str:
    # Group names allow only a small alphabet and 100 characters; user ids are arbitrary.
    digest = hashlib.sha256(user_id.encode()).hexdigest()[:40]
    return f"push.{application_id}.{digest}"


def group_send_now(group: str, payload: dict[str, Any]) -> None:
    """Send ``payload`` to every session in ``group``; a layer outage is logged, not raised."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": LIVE_MESSAGE_TYPE, "payload": payload})
    except Exception:  # noqa: BLE001 — the data is committed; clients catch up on reconnect
        logger.exception("live push to %s failed", group)


def group_send_on_commit(group: str, payload: dict[str, Any]) -> None:
    transaction.on_commit(lambda: group_send_now(group, payload))
