"""The browser side of the push-server-compatible API: ``/ws/push/``.

A browser connects (optionally with ``?userId=…&connectionId=…``) and/or sends
``{"type": "register", "userId": …, "connectionId": …}``. A pair a backend
registered joins that user's group and gets ``{"type": "registered"}``; from
then on every push arrives as ``{"type": "push", "message": …}``. An unknown
pair gets ``{"type": "error", "error": "unknown connection"}`` and the socket
is closed with 4403, so it never receives anything.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from inbox.consumers.live import LiveSinkMixin
from inbox.services.push import (
    PUSH_ID_ERROR,
    push_connection_closed,
    push_id_or_none,
    push_session_groups,
)

#: Close code for a pair nobody registered (4000–4999 are free for applications; 403 by analogy).
CLOSE_UNKNOWN_CONNECTION = 4403
# Clients only ever send small register frames; anything bigger is not worth parsing.
MAX_CLIENT_FRAME_CHARS = 4096

_session_groups = database_sync_to_async(push_session_groups)
_closed = database_sync_to_async(push_connection_closed)


class PushConsumer(LiveSinkMixin, AsyncJsonWebsocketConsumer):
    """One browser session; joins the group of each (userId, connectionId) it proves."""

    async def connect(self) -> None:
        self.push_groups: set[str] = set()
        self.pairs: set[tuple[str, str]] = set()  # (userId, connectionId) this socket proved
        self.refused = False
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode("utf-8", "replace"))
        if "userId" in query or "connectionId" in query:
            await self.register(query.get("userId", [None])[-1], query.get("connectionId", [None])[-1])

    async def disconnect(self, code: int) -> None:
        # Also when the client died and the server's WebSocket ping noticed: the pair stops
        # counting as a live session.
        await self.leave_groups()
        for user_id, connection_id in self.pairs:
            await _closed(user_id=user_id, connection_id=connection_id)

    async def leave_groups(self) -> None:
        for group in self.push_groups:
            await self.live_leave(group)
        self.push_groups.clear()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None,
                      **kwargs: Any) -> None:
        # The base class would let a malformed frame raise and drop the socket; answer instead.
        if self.refused:  # frames racing the close handshake
            return
        if text_data is None:
            await self.send_error("send JSON text frames")
            return
        if len(text_data) > MAX_CLIENT_FRAME_CHARS:
            await self.send_error("frame too large")
            return
        try:
            content = await self.decode_json(text_data)
        except (ValueError, RecursionError):  # deep nesting exhausts the decoder's recursion
            await self.send_error("malformed JSON")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self.send_error("expected a JSON object")
        elif content.get("type") == "register":
            await self.register(content.get("userId"), content.get("connectionId"))
        else:
            await self.send_error("unknown message type")

    async def register(self, raw_user_id: Any, raw_connection_id: Any) -> None:
        user_id, connection_id = push_id_or_none(raw_user_id), push_id_or_none(raw_connection_id)
        if user_id is None or connection_id is None:
            await self.send_error(PUSH_ID_ERROR)
            return
        groups = await _session_groups(user_id=user_id, connection_id=connection_id)
        if not groups:
            # A socket that presents a forged pair gets nothing, not even what it registered before.
            self.refused = True
            await self.leave_groups()
            await self.send_error("unknown connection")
            await self.close(code=CLOSE_UNKNOWN_CONNECTION)
            return
        for group in groups:
            await self.live_join(group)
            self.push_groups.add(group)
        self.pairs.add((user_id, connection_id))
        await self.send_json({"type": "registered"})

    async def live_frame(self, text: str) -> None:
        """Forward a push (``inbox.services.push.push_send``) exactly as the service built it."""
        if not self.refused:
            await super().live_frame(text)

    async def send_error(self, error: str) -> None:
        await self.send_json({"type": "error", "error": error})
