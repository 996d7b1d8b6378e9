"""What every live WebSocket consumer shares: forwarding a layer message with no per-message detour.

A broadcast puts thousands of messages through one web process at once, so
the path from the channel layer to the socket is a hot path. Channels'
``dispatch`` closes stale database connections before every handler, through
a thread hop; a live message touches no database, and at a broadcast that hop
was most of the cost (profiled: about half of the web process's time). The
message arrives already JSON-encoded (``inbox.live.publisher.layer_message``)
and goes out as it is.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from channels.sessions import InstanceSessionWrapper

from inbox.live.publisher import LIVE_MESSAGE_TYPE


class LiveForwardingMixin:
    """Mix into an ``AsyncWebsocketConsumer``: live messages go straight to the socket."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") == LIVE_MESSAGE_TYPE:
            await self.live_message(message)
        else:
            await super().dispatch(message)

    async def live_message(self, event: dict[str, Any]) -> None:
        await self._live_send({"type": "websocket.send", "text": event["text"]})

    @cached_property
    def _live_send(self):
        # Channels' session wrapper looks at the session on every frame, but only acts on the
        # handshake; once the socket is open, frames can go to the server's own ``send``.
        wrapper = getattr(self.base_send, "__self__", None)
        return wrapper.real_send if isinstance(wrapper, InstanceSessionWrapper) else self.base_send
