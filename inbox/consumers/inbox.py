"""``/ws/inbox/``: a subscriber's live inbox over WebSocket.

Authenticated by the session (a user linked to a subscriber) or ``?token=``
(an inbox token). Every socket of a subscriber joins one group, so each open
tab and device receives ``notification.created`` (with the new unread count),
``notification.read``, ``notification.deleted`` and ``notifications.all_read``.
A client reconnecting with ``?last_id=N`` first receives what it missed.
Refusals are explicit: the socket is accepted, told why, and closed with 4401.

Each notification reaches a socket once. A push can come twice — the sweeper
pushes again what a killed worker committed but may not have pushed
(at-least-once), and a push can race the catch-up on connect — so the socket
remembers the ids it sent lately and drops a repeat.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from inbox.auth import subscriber_for_user
from inbox.consumers.live import LiveSinkMixin
from inbox.selectors import (
    notification_as_dict,
    notification_cursor,
    notifications_after,
    unread_count,
)
from inbox.services.live import subscriber_group
from inbox.services.tokens import inbox_token_subscriber

UNAUTHENTICATED = 4401
#: How many notification ids a socket remembers, to drop a repeat of one it sent.
RECENT_IDS = 1024
# Frames are JSON encoded once by the sender, in this order (publisher and announce):
# reading the id needs no decoding of the whole frame.
_CREATED_ID = re.compile(r'\{"type":"notification\.created","notification":\{"id":(\d+)[,}]')


@database_sync_to_async
def _authenticate(scope) -> object | None:
    query = parse_qs(scope.get("query_string", b"").decode())
    token = (query.get("token") or [""])[0]
    if token:
        return inbox_token_subscriber(token=token)
    return subscriber_for_user(scope.get("user"))


@database_sync_to_async
def _catch_up(subscriber_id: int, after: int | None) -> tuple[int, list[dict]]:
    count = unread_count(subscriber_id=subscriber_id)
    if after is None:  # a first connection: nothing was missed
        return count, []
    missed = notifications_after(subscriber_id=subscriber_id, after_id=after)
    return count, [notification_as_dict(n) for n in missed]


class InboxConsumer(LiveSinkMixin, AsyncJsonWebsocketConsumer):
    group = ""

    def _first_time(self, notification_id: int) -> bool:
        """Whether ``notification_id`` was not sent on this socket lately (and note it)."""
        if notification_id in self._sent_ids:
            return False
        self._sent_ids.add(notification_id)
        self._sent_order.append(notification_id)
        if len(self._sent_order) > RECENT_IDS:
            self._sent_ids.discard(self._sent_order.popleft())
        return True

    async def live_frame(self, text: str) -> None:
        created = _CREATED_ID.match(text)
        if created is None or self._first_time(int(created.group(1))):
            await super().live_frame(text)

    async def connect(self) -> None:
        subscriber = await _authenticate(self.scope)
        await self.accept()
        if subscriber is None:
            await self.send_json({"type": "error", "error": "unauthenticated",
                                  "detail": "Log in, or connect with ?token=<inbox token>."})
            await self.close(code=UNAUTHENTICATED)
            return
        self.group = subscriber_group(subscriber.pk)
        self._sent_ids: set[int] = set()  # the ids of _sent_order, for lookups
        self._sent_order: deque[int] = deque()
        # Join before reading what was missed, so nothing falls in between.
        await self.live_join(self.group)
        query = parse_qs(self.scope.get("query_string", b"").decode())
        after = notification_cursor((query.get("last_id") or [""])[0])
        count, missed = await _catch_up(subscriber.pk, after)
        await self.send_json({"type": "hello", "subscriber": subscriber.external_id,
                              "unread_count": count})
        for notification in missed:
            if self._first_time(notification["id"]):
                await self.send_json({"type": "notification.created", "notification": notification,
                                      "unread_count": count, "catch_up": True})

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.live_leave(self.group)

    @classmethod
    async def decode_json(cls, text_data):
        try:
            return await super().decode_json(text_data)
        except ValueError:
            return None  # answered below rather than dropping the connection

    async def receive_json(self, content, **kwargs) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json({"type": "error", "error": "unsupported message"})

