"""Sockets that take live frames straight from the channel layer, without a queue each.

A broadcast is thousands of messages into one web process at once. Through a
Channels consumer each one is queued for its socket, wakes that consumer's
task, and goes through ``await_many_dispatch`` (a new task and an
``asyncio.wait`` per message): that machinery was most of what kept a
broadcast at twice the time a bare ASGI loop takes. A *sink* skips it: the
layer hands each arriving batch to one task that writes every frame to its
socket in turn, as the bare loop does.

A socket whose client stops reading would make that loop wait; a write that
does not finish within ``SLOW_SOCKET_SECONDS`` drops the sink and asks its
socket to close (the client reconnects and catches up by ``last_id``), so one
stuck client never holds up the others.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

logger = logging.getLogger(__name__)

SLOW_SOCKET_SECONDS = 2.0


class Sink(Protocol):
    async def live_frame(self, text: str) -> None:
        """Write one frame (already JSON) to the socket."""

    def live_abort(self) -> None:
        """The socket could not keep up: close it (it will reconnect and catch up)."""


class DirectSinks:
    """group → the sinks of this event loop in that group."""

    def __init__(self) -> None:
        # group → {sink: the position it joined at}; a frame reaches a sink only when it was
        # published after the sink joined (positions are the feed's row ids; -1 and 0 elsewhere).
        self.groups: dict[str, dict[Sink, int]] = {}
        self._tasks: set[asyncio.Task] = set()

    def add(self, group: str, sink: Sink, joined_at: int = -1) -> None:
        self.groups.setdefault(group, {})[sink] = joined_at

    def discard(self, group: str, sink: Sink) -> None:
        members = self.groups.get(group)
        if members is not None:
            members.pop(sink, None)
            if not members:
                del self.groups[group]

    def wants(self, group: str) -> bool:
        return group in self.groups

    def deliver(self, frames: list[tuple[str, str, int]]) -> None:
        """Write ``(group, text, position)`` frames to each group's sinks, in order, in one task."""
        if frames:
            task = asyncio.get_running_loop().create_task(self._write(frames))
            self._tasks.add(task)  # keep a reference until it is done
            task.add_done_callback(self._tasks.discard)

    async def _write(self, frames: list[tuple[str, str, int]]) -> None:
        for group, text, position in frames:
            for sink, joined_at in list(self.groups.get(group, {}).items()):
                if position <= joined_at:
                    continue
                try:
                    async with asyncio.timeout(SLOW_SOCKET_SECONDS):
                        await sink.live_frame(text)
                except TimeoutError:
                    logger.warning("a live socket did not keep up; closing it")
                    self._drop(sink)
                    sink.live_abort()
                except Exception:  # noqa: BLE001 — a socket that closed meanwhile
                    self._drop(sink)

    def _drop(self, sink: Sink) -> None:
        for group in [g for g, members in self.groups.items() if sink in members]:
            self.discard(group, sink)
