"""Targeted pushes: 10,000 ``POST /api/{userId}/push`` calls, each to a different connected user.

Clarion: U users each hold a registered ``/ws/push/`` socket on a uvicorn
process (Redis pub/sub layer); C concurrent HTTP clients send the pushes, each
to the next user in turn, and every push must reach its socket. Two
comparisons in the same run, with the same sockets and clients:

* the same push done directly on the channel layer from this process (no HTTP,
  no authentication, no database): the layer's own ceiling;
* ``bench/raw_asgi_app.py`` on the same uvicorn: ``POST /push/<user>`` writing
  the body to that user's socket — the least any HTTP push server must do.

Printed: pushes per second (all delivered), and the per-call latency p50/p99.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/clarion_bench REDIS_URL=redis://127.0.0.1:6379/0
.venv/bin/python bench/live_push.py [pushes] [users] [concurrency]``
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import aiohttp
from django.core.management import call_command
from live_common import Server, gather_limited, profile, stop_profile, summary  # noqa: I001 — sets Django up first
from websockets.asyncio.client import connect

from inbox.live.publisher import live_send_now
from inbox.services.live import push_user_group
from inbox.services.push import PUSH_FRAME_TYPE, push_connection_register
from notifications.models import Application
from tests.factories import make_api_key


class Receivers:
    """One socket per user; counts what arrived."""

    def __init__(self) -> None:
        self.received = 0
        self.sockets, self.tasks = [], []

    async def open(self, urls: list[str], ready: str | None) -> None:
        async def one(url):
            socket = await connect(url, ping_interval=None, open_timeout=60, max_queue=None)
            if ready:
                while json.loads(await socket.recv()).get("type") != ready:
                    pass
            return socket
        self.sockets = await gather_limited(one(u) for u in urls)
        self.tasks = [asyncio.create_task(self._read(s)) for s in self.sockets]

    async def _read(self, socket) -> None:
        async for _ in socket:
            self.received += 1

    async def wait(self, count: int, timeout: float = 120) -> None:
        deadline = time.perf_counter() + timeout
        while self.received < count:
            if time.perf_counter() > deadline:
                raise SystemExit(f"only {self.received} of {count} pushes arrived")
            await asyncio.sleep(0.002)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await gather_limited(s.close() for s in self.sockets)


async def drive(calls: list, concurrency: int) -> list[float]:
    """Run the calls with ``concurrency`` workers; return each call's latency in seconds."""
    latencies: list[float] = []
    queue = list(reversed(calls))

    async def worker():
        while queue:
            call = queue.pop()
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def report(label: str, pushes: int, seconds: float, latencies: list[float]) -> float:
    figures = summary(latencies)
    rate = pushes / seconds
    print(f"{label:>22}  {rate:8.0f} pushes/s  p50 {figures['p50'] * 1000:6.2f} ms  "
          f"p99 {figures['p99'] * 1000:6.2f} ms")
    return rate


def setup(users: int) -> str:
    call_command("migrate", verbosity=0)
    application = Application.objects.filter(name="live-bench").first() or Application.objects.create(
        name="live-bench")
    for i in range(users):
        push_connection_register(application=application, user_id=f"user-{i}", connection_id=f"c-{i}")
    _, secret = make_api_key(application=application, scopes=["push"])
    return secret


async def main(pushes: int, users: int, concurrency: int) -> None:
    secret = await asyncio.to_thread(setup, users)
    application_id = (await Application.objects.aget(name="live-bench")).pk
    clarion = Server("config.asgi:application", "clarion")
    raw = Server("bench.raw_asgi_app:app", "raw")
    body = {"message": {"title": "Build 1234 passed", "body": "main is green", "params": {"id": 7}}}
    print(f"{pushes} pushes to {users} connected users, {concurrency} concurrent callers")
    try:
        receivers = Receivers()
        await receivers.open([f"{clarion.ws}/ws/push/?userId=user-{i}&connectionId=c-{i}"
                              for i in range(users)], ready="registered")
        rates = {}
        async with aiohttp.ClientSession(headers={"X-AUTH-TOKEN": secret}) as http:
            async def clarion_push(i):
                async with http.post(f"{clarion.url}/api/user-{i % users}/push", json=body) as answer:
                    assert answer.status == 200, await answer.text()
                    await answer.read()
            profiler = profile(clarion)
            started = time.perf_counter()
            latencies = await drive([lambda i=i: clarion_push(i) for i in range(pushes)], concurrency)
            await receivers.wait(pushes)
            stop_profile(profiler)
            rates["clarion"] = report("Clarion HTTP push", pushes, time.perf_counter() - started,
                                      latencies)

            async def layer_push(i):
                frame = {"type": PUSH_FRAME_TYPE, "message": body["message"]}
                await asyncio.to_thread(live_send_now, [(push_user_group(application_id, f"user-{i % users}"),
                                                         frame)])
            started = time.perf_counter()
            latencies = await drive([lambda i=i: layer_push(i) for i in range(pushes)], concurrency)
            await receivers.wait(2 * pushes)
            rates["layer"] = report("direct on the layer", pushes, time.perf_counter() - started,
                                    latencies)
        await receivers.close()

        raw_receivers = Receivers()
        await raw_receivers.open([f"{raw.ws}/ws/user-{i}" for i in range(users)], ready=None)
        async with aiohttp.ClientSession() as http:
            payload = json.dumps(body["message"])

            async def raw_push(i):
                async with http.post(f"{raw.url}/push/user-{i % users}", data=payload) as answer:
                    await answer.read()
            started = time.perf_counter()
            latencies = await drive([lambda i=i: raw_push(i) for i in range(pushes)], concurrency)
            await raw_receivers.wait(pushes)
            rates["raw"] = report("raw ASGI app", pushes, time.perf_counter() - started, latencies)
        await raw_receivers.close()
        print(f"Clarion / raw ASGI: {rates['clarion'] / rates['raw']:.2f}x the rate; "
              f"Clarion / direct layer: {rates['clarion'] / rates['layer']:.2f}x")
    finally:
        clarion.stop()
        raw.stop()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    asyncio.run(main(*(args + [10_000, 2_000, 16][len(args):])))
