"""Many sends at once, never more than ``OUTBOUND_PER_HOST_CONCURRENCY`` to one host.

For sends that are more than one request each (a chat message that first looks up
its room); single requests in a batch go through ``outbound_requests`` instead,
which needs no threads. A batch of HTTP sends spends nearly all its time waiting
for answers, so its sends go out from a small thread pool (``OUTBOUND_BATCH_CONCURRENCY``
threads) instead of one after another. A semaphore per host keeps any single
receiver — one Slack workspace, one customer's webhook server — from getting
more than its share of connections, however many of the batch's messages are
for it. The calls themselves must not touch the database: each thread would
open a connection of its own outside the caller's transaction, so callers do
their reads before and their writes after.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.conf import settings

Item = TypeVar("Item")
Result = TypeVar("Result")


def run_per_host(items: Sequence[Item], call: Callable[[Item], Result],
                 host_of: Callable[[Item], Hashable]) -> list[Result]:
    """``[call(item) for item in items]``, run concurrently with a per-host limit.

    Results come back in the order of ``items``. ``call`` should return its
    failures rather than raise them; an exception it raises is re-raised here
    once every other call has finished.
    """
    workers = min(len(items), settings.OUTBOUND_BATCH_CONCURRENCY)
    if workers <= 1:
        return [call(item) for item in items]
    per_host = settings.OUTBOUND_PER_HOST_CONCURRENCY
    gates: dict[Hashable, threading.BoundedSemaphore] = {}
    for item in items:
        gates.setdefault(host_of(item), threading.BoundedSemaphore(per_host))

    def gated(item: Item) -> Result:
        with gates[host_of(item)]:
            return call(item)

    # Hosts interleaved, so the pool's threads are not all queued behind one host's gate
    # while the calls to every other host wait their turn.
    order = _interleaved_by_host(range(len(items)), lambda i: host_of(items[i]))
    results: list = [None] * len(items)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outbound") as pool:
        futures = {i: pool.submit(gated, items[i]) for i in order}
        for i, future in futures.items():
            results[i] = future.result()
    return results


def _interleaved_by_host(indexes, host_of) -> list[int]:
    queues: dict[Hashable, list[int]] = {}
    for i in indexes:
        queues.setdefault(host_of(i), []).append(i)
    order: list[int] = []
    lanes = [list(reversed(queue)) for queue in queues.values()]
    while lanes:
        for lane in lanes:
            order.append(lane.pop())
        lanes = [lane for lane in lanes if lane]
    return order
