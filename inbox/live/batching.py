"""Coalescing concurrent calls into one batch: one round trip for all the callers of a moment.

Under load many coroutines want the same kind of round trip at once (count a
user's registrations, publish to the layer). Each caller ``submit``s its item
and awaits its own answer; while one batch is in flight the next gathers, so
the number of round trips follows the latency of the far end, not the number
of callers — and a lone caller waits for nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")

#: The most items handed to one batch call.
MAX_BATCH = 500


class MicroBatcher(Generic[Item]):
    """``await submit(item)`` → that item's result from ``run_batch(items)`` (results in order)."""

    def __init__(self, run_batch: Callable[[list[Item]], Awaitable[Sequence[Any]]]) -> None:
        self._run_batch = run_batch
        # Futures belong to one event loop; the test suite runs several, a server one.
        self._pending: dict[asyncio.AbstractEventLoop, list[tuple[Item, asyncio.Future]]] = {}
        self._drainers: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}

    async def submit(self, item: Item) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.setdefault(loop, []).append((item, future))
        drainer = self._drainers.get(loop)
        if drainer is None or drainer.done():
            self._forget_closed_loops()
            self._drainers[loop] = loop.create_task(self._drain(loop))
        return await future

    async def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        pending = self._pending[loop]
        while pending:
            batch = pending[:MAX_BATCH]
            del pending[:MAX_BATCH]
            try:
                results = await self._run_batch([item for item, _ in batch])
            except Exception as error:  # noqa: BLE001 — every caller of the batch hears of it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    def _forget_closed_loops(self) -> None:
        for loop in [known for known in self._drainers if known.is_closed()]:
            self._drainers.pop(loop, None)
            self._pending.pop(loop, None)
