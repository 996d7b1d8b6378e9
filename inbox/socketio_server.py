"""Socket.IO at ``/socket.io/``: the push-server-compatible API for unmodified Socket.IO clients.

Clients written for the Node.js push server this API mirrors do
``io.connect(url)``, ``emit('register', userId, connectionId)`` and
``on('message', cb)``. python-socketio speaks the protocol (WebSocket and HTTP
long-polling transports, Engine.IO heartbeats that find dead clients); this
module adds what the original server did: a pair the backend registered with
``PUT /api/{userId}/register`` joins that user's room, and every
``POST /api/{userId}/push`` arrives as a ``message`` event carrying the
pushed ``message``. A pair nobody registered gets an ``error`` event and is
disconnected, so it never receives anything.

Pushes reach this process the way they reach ``/ws/push/``: through the
channel layer. Each process keeps one layer channel for all its Socket.IO
sessions (``ChannelLayerBridge``), joined to the groups those sessions
registered for, and emits what arrives to the matching room — so a push made
by any web process or worker reaches a session held by any other. As with
every Socket.IO server, a long-polling session needs all its requests routed
to one process (sticky sessions); WebSocket sessions do not.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import socketio
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from config.websocket_origins import origin_allowed
from inbox.live.publisher import live_payload
from inbox.services.push import (
    PUSH_FRAME_TYPE,
    PUSH_ID_ERROR,
    push_connection_closed,
    push_id_or_none,
    push_session_groups,
)

logger = logging.getLogger(__name__)

#: Mounted here, as the original server and every Socket.IO client expect.
SOCKETIO_PATH = "socket.io"

_session_groups = database_sync_to_async(push_session_groups)
_closed = database_sync_to_async(push_connection_closed)


class ChannelLayerBridge:
    """One channel-layer channel carrying pushes for every Socket.IO session of this process.

    State is kept per event loop: a server runs on one loop, but the test suite
    starts several servers, and layer channels belong to the loop that made them.
    """

    def __init__(self, server: socketio.AsyncServer):
        self.server = server
        self._states: dict[asyncio.AbstractEventLoop, _BridgeState] = {}

    def _state(self) -> _BridgeState:
        loop = asyncio.get_running_loop()
        if loop not in self._states:
            self._states = {known: state for known, state in self._states.items() if not known.is_closed()}
            self._states[loop] = _BridgeState()
        return self._states[loop]

    async def join(self, group: str) -> None:
        state = self._state()
        async with state.lock:
            layer = await self._open(state)
            if state.members[group] == 0:
                await layer.group_add(group, state.channel)
            state.members[group] += 1

    async def leave(self, group: str) -> None:
        state = self._state()
        async with state.lock:
            layer = await self._open(state)
            state.members[group] -= 1
            if state.members[group] <= 0:
                del state.members[group]
                await layer.group_discard(group, state.channel)

    async def _open(self, state: _BridgeState):
        layer = get_channel_layer()
        if not state.channel:
            state.channel = await layer.new_channel()
            state.pump = asyncio.create_task(self._forward(layer, state.channel), name="socketio-bridge")
        return layer

    async def _forward(self, layer, channel: str) -> None:
        while True:
            message = await layer.receive(channel)
            try:
                payload, group = live_payload(message), message.get("group")
                if group and payload.get("type") == PUSH_FRAME_TYPE:
                    await self.server.emit("message", payload.get("message"), room=group)
            except Exception:  # noqa: BLE001 — one bad message must not stop every later push
                logger.exception("forwarding a push to Socket.IO sessions failed")


@dataclass
class _BridgeState:
    channel: str = ""
    members: Counter = field(default_factory=Counter)  # group → this loop's sessions in it
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pump: asyncio.Task | None = None


class PushSocketIO:
    """The Socket.IO server and its two events: ``register`` and ``disconnect``."""

    def __init__(self) -> None:
        self.server = socketio.AsyncServer(
            async_mode="asgi", cors_allowed_origins=origin_allowed,
            ping_interval=settings.SOCKETIO_PING_INTERVAL_SECONDS,
            ping_timeout=settings.SOCKETIO_PING_TIMEOUT_SECONDS,
            # Clients only ever send small register frames.
            max_http_buffer_size=16 * 1024, logger=False, engineio_logger=False)
        self.bridge = ChannelLayerBridge(self.server)
        # sid → (groups joined, pairs proved); this process's sessions only.
        self.sessions: dict[str, tuple[set[str], set[tuple[str, str]]]] = {}
        self.server.on("connect", self.on_connect)
        self.server.on("register", self.on_register)
        self.server.on("disconnect", self.on_disconnect)

    async def on_connect(self, sid: str, environ: dict, auth: Any = None) -> bool:
        self.sessions[sid] = (set(), set())
        return True

    async def on_register(self, sid: str, raw_user_id: Any = None, raw_connection_id: Any = None,
                          *extra: Any) -> dict[str, Any]:
        """``emit('register', userId, connectionId)``; the return value answers a client's ack."""
        user_id, connection_id = push_id_or_none(raw_user_id), push_id_or_none(raw_connection_id)
        if user_id is None or connection_id is None:
            await self.server.emit("error", {"error": PUSH_ID_ERROR}, to=sid)
            return {"registered": False, "error": PUSH_ID_ERROR}
        session_groups = await _session_groups(user_id=user_id, connection_id=connection_id)
        if not session_groups:
            # A forged pair gets nothing, not even what this socket registered before.
            await self._leave_all(sid)
            await self.server.emit("error", {"error": "unknown connection"}, to=sid)
            await self.server.disconnect(sid)
            return {"registered": False, "error": "unknown connection"}
        groups, pairs = self.sessions.setdefault(sid, (set(), set()))
        for group in session_groups:
            if group not in groups:
                await self.server.enter_room(sid, group)
                await self.bridge.join(group)
                groups.add(group)
        pairs.add((user_id, connection_id))
        return {"registered": True}

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        pairs = await self._leave_all(sid)
        self.sessions.pop(sid, None)
        for user_id, connection_id in pairs:
            await _closed(user_id=user_id, connection_id=connection_id)

    async def _leave_all(self, sid: str) -> set[tuple[str, str]]:
        groups, pairs = self.sessions.get(sid, (set(), set()))
        for group in groups:
            await self.server.leave_room(sid, group)
            await self.bridge.leave(group)
        groups.clear()
        proved = set(pairs)
        pairs.clear()
        return proved


def socketio_app(other_asgi_app):
    """Serve Socket.IO at ``/socket.io/`` and hand every other request to ``other_asgi_app``."""
    return socketio.ASGIApp(PushSocketIO().server, other_asgi_app=other_asgi_app,
                            socketio_path=SOCKETIO_PATH)
