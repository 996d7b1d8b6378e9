"""The production channel layer: Redis pub/sub, carrying group messages in batches.

Built on channels-redis's pub/sub layer, for two reasons measured on this
machine (``bench/live_broadcast.py``, ``bench/RESULTS.md``):

* **Idle sockets stay open.** channels-redis's list-based core layer re-issues
  a 5-second blocking pop, and redis-py 6+ reads with a 5-second socket
  timeout — so every idle receive timed out and took its socket down. A
  subscriber waits on its subscription instead; the connection settings that
  keep it healthy are built by :func:`redis_layer_hosts`.
* **A broadcast is a few messages, not thousands.** Group messages do not go to
  a Redis channel per group: the sender packs them into batches published on
  one channel per installation (``<prefix>__batch__``), and every process that
  holds sockets unpacks each batch and hands each message to its own members
  of that group. A broadcast to 2,000 subscribers is one round trip from the
  worker and one message into each web process, where it was 2,000 of each.
  The price: every web process reads every batch, which a few dozen web
  processes afford easily (it is how Socket.IO's Redis manager works too).

Messages are not stored: live delivery is best effort by design, and every
client catches up from the inbox by ``last_id`` when it (re)connects.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from inbox.live.sinks import DirectSinks, Sink

#: Seconds between PINGs on an idle connection, so a half-open TCP connection (a Redis restart,
#: a NAT that forgot it) is found and replaced before a message is lost on it.
HEALTH_CHECK_SECONDS = 15
#: A command (PUBLISH, SUBSCRIBE) that gets no answer for this long fails; waiting for messages
#: on a subscription uses its own short poll, so this never cuts an idle subscriber.
COMMAND_TIMEOUT_SECONDS = 10
#: Largest batch published as one message; Redis disconnects a subscriber whose pending
#: output passes 32 MB (client-output-buffer-limit pubsub), so stay far below it.
MAX_BATCH_BYTES = 512 * 1024


def redis_layer_hosts(url: str) -> list[dict[str, Any]]:
    """The layer's ``hosts`` setting for ``url``, with connection settings that survive idleness."""
    return [{
        "address": url,
        "socket_timeout": COMMAND_TIMEOUT_SECONDS,
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
        "health_check_interval": HEALTH_CHECK_SECONDS,
    }]


class _BatchShard(RedisSingleShardConnection):
    """A shard connection that also unpacks the batches arriving on the batch channel."""

    def _receive_message(self, message: dict | None) -> None:
        if message is not None:
            name = message["channel"]
            if (name.decode() if isinstance(name, bytes) else name) == self.channel_layer.batch_channel:
                self.channel_layer.deliver_batch(message["data"])
                return
        super()._receive_message(message)


class _BatchLoopLayer(RedisPubSubLoopLayer):
    """One event loop's side of the layer: group membership is local, group messages batched."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch_channel = f"{self.prefix}__batch__"
        self._shards = [_BatchShard(shard.host, self) for shard in self._shards]
        self.sinks = DirectSinks()

    async def sink_add(self, group: str, sink: Sink) -> None:
        """Let ``sink`` take the group's messages directly (``inbox.live.sinks``)."""
        self.sinks.add(group, sink)
        await self._get_shard(self.batch_channel).subscribe(self.batch_channel)

    async def sink_discard(self, group: str, sink: Sink) -> None:
        self.sinks.discard(group, sink)

    async def flush(self) -> None:
        self.sinks = DirectSinks()
        await super().flush()

    async def group_add(self, group: str, channel: str) -> None:
        if channel not in self.channels:
            raise RuntimeError("group_add() takes channels made by this process (new_channel()).")
        self.groups.setdefault(self._get_group_channel_name(group), set()).add(channel)
        # Subscribed before group_add returns, so nothing published afterwards is missed.
        await self._get_shard(self.batch_channel).subscribe(self.batch_channel)

    async def group_discard(self, group: str, channel: str) -> None:
        key = self._get_group_channel_name(group)
        members = self.groups.get(key)
        if members is not None:
            members.discard(channel)
            if not members:
                del self.groups[key]

    async def group_send(self, group: str, message: dict) -> None:
        await self.group_send_many([(group, message)])

    async def group_send_many(self, messages: list[tuple[str, dict]]) -> None:
        """Publish the messages in as few batches as their size allows, in one round trip."""
        batches, batch, size = [], [], 0
        for group, message in messages:
            payload = self.channel_layer.serialize(message)
            if batch and size + len(payload) > MAX_BATCH_BYTES:
                batches.append(batch)
                batch, size = [], 0
            batch.append((group, payload))
            size += len(payload) + len(group)
        if batch:
            batches.append(batch)
        packed = [msgpack.packb(chunk, use_bin_type=True) for chunk in batches]
        shard = self._get_shard(self.batch_channel)
        async with shard._lock:  # the shard's own lock and connection, as its publish() uses them
            shard._ensure_redis()
            for attempt in (1, 2):
                pipeline = shard._redis.pipeline(transaction=False)
                for payload in packed:
                    pipeline.publish(self.batch_channel, payload)
                try:
                    await pipeline.execute()
                    return
                except (RedisConnectionError, RedisTimeoutError):
                    if attempt == 2:
                        raise
                    # After a Redis restart every pooled connection is dead; drop them all and
                    # try once more on a fresh one.
                    await shard._redis.connection_pool.disconnect()

    def deliver_batch(self, data: bytes) -> None:
        """Hand each message of a batch to this loop's channels and sinks in its group."""
        frames = []
        for group, payload in msgpack.unpackb(data, raw=False):
            for channel in self.groups.get(self._get_group_channel_name(group), ()):
                queue = self.channels.get(channel)
                if queue is not None:
                    queue.put_nowait(payload)
            if self.sinks.wants(group):
                text = self.channel_layer.deserialize(payload).get("text")
                if text is not None:
                    frames.append((group, text, 0))
        self.sinks.deliver(frames)


class RedisPubSubBatchLayer(RedisPubSubChannelLayer):
    """channels-redis's pub/sub layer with batched group messages and ``group_send_many``."""

    def _get_layer(self) -> _BatchLoopLayer:
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = self._layers[loop] = _BatchLoopLayer(*self._args, **self._kwargs,
                                                         channel_layer=self)
            _wrap_close(self, loop)
            return layer

    async def group_send_many(self, messages: list[tuple[str, dict]]) -> None:
        await self._get_layer().group_send_many(messages)

    async def sink_add(self, group: str, sink: Sink) -> None:
        await self._get_layer().sink_add(group, sink)

    async def sink_discard(self, group: str, sink: Sink) -> None:
        await self._get_layer().sink_discard(group, sink)
