"""The production channel layer: Redis pub/sub, with a batch send of one round trip.

Why pub/sub and not channels-redis's list-based core layer: a group message is
one ``PUBLISH`` that Redis hands to every subscribed process, instead of one
list push per member channel, and an idle process waits on its subscription
rather than re-issuing a blocking pop every 5 seconds. That blocking pop was
what closed every idle socket: redis-py 6+ reads with a 5-second socket
timeout, the same length as the core layer's ``BZPOPMIN`` — so an idle receive
timed out and took the consumer down with it. The connection settings that
avoid it for good are built by :func:`redis_layer_hosts`.

Messages are not stored: a process that is not subscribed when a message is
published does not get it. Live delivery is best effort by design; every
client catches up from the inbox by ``last_id`` when it (re)connects.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer

#: Seconds between PINGs on an idle connection, so a half-open TCP connection (a Redis restart,
#: a NAT that forgot it) is found and replaced before a message is lost on it.
HEALTH_CHECK_SECONDS = 15
#: A command (PUBLISH, SUBSCRIBE) that gets no answer for this long fails; waiting for messages
#: on a subscription uses its own short poll, so this never cuts an idle subscriber.
COMMAND_TIMEOUT_SECONDS = 10


def redis_layer_hosts(url: str) -> list[dict[str, Any]]:
    """The layer's ``hosts`` setting for ``url``, with connection settings that survive idleness."""
    return [{
        "address": url,
        "socket_timeout": COMMAND_TIMEOUT_SECONDS,
        "socket_connect_timeout": 5,
        "socket_keepalive": True,
        "health_check_interval": HEALTH_CHECK_SECONDS,
    }]


class RedisPubSubBatchLayer(RedisPubSubChannelLayer):
    """channels-redis's pub/sub layer plus ``group_send_many``: a batch in one pipelined round trip."""

    async def group_send_many(self, messages: list[tuple[str, dict]]) -> None:
        layer = self._get_layer()
        by_shard: dict[Any, list[tuple[str, bytes]]] = defaultdict(list)
        for group, message in messages:
            channel = layer._get_group_channel_name(group)
            by_shard[layer._get_shard(channel)].append((channel, self.serialize(message)))
        for shard, publishes in by_shard.items():
            # The shard's own lock and connection, exactly as its ``publish`` uses them; only the
            # round trips are folded into one pipeline.
            async with shard._lock:
                shard._ensure_redis()
                pipeline = shard._redis.pipeline(transaction=False)
                for channel, payload in publishes:
                    pipeline.publish(channel, payload)
                await pipeline.execute()
