"""What every live WebSocket consumer shares: taking frames straight from the channel layer.

A broadcast puts thousands of messages through one web process at once, so
the path from the layer to the socket is a hot path. A consumer here joins
its groups as a *sink* (``inbox.live.sinks``): the layer writes each frame —
already JSON, encoded once by the sender — to the socket directly, with no
queue, task or ``dispatch`` per message, and no channel of its own on the
layer (``channel_layer_alias = None``: nothing is ever sent to one socket by
name). Profiled, that machinery was most of a broadcast's cost in the web
process; ``bench/RESULTS.md`` has the figures.
"""

from __future__ import annotations

import asyncio
from functools import cached_property

from channels.layers import get_channel_layer
from channels.sessions import InstanceSessionWrapper

#: Close code asking a client that could not keep up to reconnect (and catch up by last_id).
CLOSE_TRY_AGAIN = 1013


class LiveSinkMixin:
    """Mix into an ``AsyncWebsocketConsumer`` whose groups are joined with ``live_join``."""

    channel_layer_alias = None  # no per-socket channel: frames arrive through live_frame()

    async def live_join(self, group: str) -> None:
        await get_channel_layer().sink_add(group, self)

    async def live_leave(self, group: str) -> None:
        await get_channel_layer().sink_discard(group, self)

    async def live_frame(self, text: str) -> None:
        await self._live_send({"type": "websocket.send", "text": text})

    def live_abort(self) -> None:
        # Kept on the consumer so the closing task is not collected before it runs.
        self._closing = asyncio.ensure_future(self.close(code=CLOSE_TRY_AGAIN))

    @cached_property
    def _live_send(self):
        # Channels' session wrapper looks at the session on every frame, but only acts on the
        # handshake; once the socket is open, frames can go to the server's own ``send``.
        wrapper = getattr(self.base_send, "__self__", None)
        return wrapper.real_send if isinstance(wrapper, InstanceSessionWrapper) else self.base_send
