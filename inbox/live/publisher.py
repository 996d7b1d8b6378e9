"""Handing live messages from synchronous code to the channel layer, after commit, in batches.

Views, Celery tasks and management commands are synchronous; the channel layer
is asynchronous. ``async_to_sync`` would start a fresh event loop per call
outside an ASGI server, and channel layers keep one connection per loop — so a
worker pushing 200 notifications opened 200 Redis connections. Instead each
process runs one long-lived event loop in a daemon thread (started on first
use, and again after a fork) and every batch is one coroutine on it: one
connection per process, one round trip per batch.

A batch is sent once its transaction commits, so a rolled-back write tells
nobody anything. A layer outage is logged, never raised: the data is committed
and clients catch up by ``last_id`` when they reconnect.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Iterable
from typing import Any

from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

#: The consumer method that forwards a live message ("live.message" → ``live_message``).
LIVE_MESSAGE_TYPE = "live.message"
#: How long a sender waits for the layer to take a batch before giving up on it.
SEND_TIMEOUT_SECONDS = 10

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def _sender_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _lock:
        if _loop is None or _loop_pid != os.getpid():  # a forked child has no such thread
            _loop, _loop_pid = asyncio.new_event_loop(), os.getpid()
            threading.Thread(target=_loop.run_forever, name="live-sender", daemon=True).start()
        return _loop


def layer_message(group: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message for ``payload``: already JSON, and naming its group.

    Encoding happens once here, in the sender, instead of once per socket in
    the web process, where a broadcast's cost lands on the event loop that
    serves every other socket. The group is there for front ends that serve
    several groups from one channel (the Socket.IO bridge).
    """
    return {"type": LIVE_MESSAGE_TYPE, "group": group,
            "text": json.dumps(payload, separators=(",", ":"), cls=DjangoJSONEncoder)}


def live_payload(message: dict[str, Any]) -> dict[str, Any]:
    """The payload a ``layer_message`` carries, decoded (for front ends that need the object)."""
    return json.loads(message["text"])


async def _send(messages: list[tuple[str, dict]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    batch = [(group, layer_message(group, payload)) for group, payload in messages]
    if hasattr(layer, "group_send_many"):
        await layer.group_send_many(batch)
    else:  # a layer without batches (say, Channels' in-memory one configured by hand)
        for group, message in batch:
            await layer.group_send(group, message)


def live_send_now(messages: Iterable[tuple[str, dict[str, Any]]]) -> bool:
    """Send ``(group, payload)`` pairs to every session in each group; True once the layer took them."""
    batch = list(messages)
    if not batch:
        return True
    future = asyncio.run_coroutine_threadsafe(_send(batch), _sender_loop())
    try:
        future.result(timeout=SEND_TIMEOUT_SECONDS)
    except Exception:  # noqa: BLE001 — committed data is not undone by a layer outage
        future.cancel()
        logger.exception("live push of %d message(s) failed", len(batch))
        return False
    return True


def live_send_on_commit(messages: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Send the pairs once the current transaction commits (at once when none is open)."""
    batch = list(messages)
    if batch:
        transaction.on_commit(lambda: live_send_now(batch))
