"""Live broadcast: one message to N open inbox sockets — Clarion against a raw ASGI WebSocket app.

Clarion: N subscribers each hold one authenticated ``/ws/inbox/`` socket on a
uvicorn process (Redis pub/sub layer); this process, standing where a worker
stands, hands the N ``notification.created`` messages to the layer in one
batch (``inbox.live.publisher.live_send_now``) and the clock runs until the
last socket has its message. Peer: ``bench/raw_asgi_app.py`` on the same
uvicorn, N sockets, one ``POST /broadcast`` that writes the same bytes to each.
Also printed: the time to open and authenticate N sockets, and the server's
resident memory with 0 and N idle sockets.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/clarion_bench REDIS_URL=redis://127.0.0.1:6379/0
.venv/bin/python bench/live_broadcast.py 1000 2000``
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import urllib.request

from django.core.management import call_command
from live_common import Server, gather_limited, profile, stop_profile, summary  # noqa: I001 — sets Django up first
from websockets.asyncio.client import connect

from inbox.live.publisher import live_send_now
from inbox.services.live import subscriber_group
from inbox.services.tokens import inbox_token_mint
from notifications.models import Subscriber

ROUNDS = 3


def payload(round_number: int, subscriber_id: int = 0) -> dict:
    return {"type": "notification.created", "unread_count": 1, "round": round_number,
            "notification": {"id": round_number, "title": "Scheduled maintenance tonight",
                             "body": "The service will be read-only from 22:00 to 22:30 UTC.",
                             "action_url": "/status", "level": "info", "category": "announcements",
                             "read": False, "created_at": "2026-12-02T10:00:00+00:00",
                             "subscriber": subscriber_id}}


class Clients:
    """N sockets, each recording when each round's message arrived."""

    def __init__(self) -> None:
        self.sockets, self.readers, self.arrivals = [], [], {}

    async def open(self, urls: list[str], ready: str | None) -> float:
        started = time.perf_counter()
        self.sockets = await gather_limited(self._connect(url, ready) for url in urls)
        elapsed = time.perf_counter() - started
        self.readers = [asyncio.create_task(self._read(s)) for s in self.sockets]
        return elapsed

    async def _connect(self, url: str, ready: str | None):
        socket = await connect(url, ping_interval=None, open_timeout=60, max_queue=None)
        if ready:  # Clarion says hello once the socket is authenticated and listening
            while json.loads(await socket.recv()).get("type") != ready:
                pass
        return socket

    async def _read(self, socket) -> None:
        async for text in socket:
            round_number = json.loads(text).get("round")
            self.arrivals.setdefault(round_number, []).append(time.perf_counter())

    async def wait_round(self, round_number: int, started: float, timeout: float = 120) -> list[float]:
        deadline = time.perf_counter() + timeout
        while len(self.arrivals.get(round_number, [])) < len(self.sockets):
            if time.perf_counter() > deadline:
                raise SystemExit(f"round {round_number}: only {len(self.arrivals.get(round_number, []))} "
                                 f"of {len(self.sockets)} sockets received")
            await asyncio.sleep(0.002)
        return [arrival - started for arrival in self.arrivals[round_number]]

    async def close(self) -> None:
        for reader in self.readers:
            reader.cancel()
        await gather_limited(s.close() for s in self.sockets)


def subscribers(n: int) -> list[Subscriber]:
    have = list(Subscriber.objects.filter(external_id__startswith="live-bench-").order_by("pk")[:n])
    if len(have) < n:
        Subscriber.objects.bulk_create(Subscriber(external_id=f"live-bench-{i}")
                                       for i in range(len(have), n))
        have = list(Subscriber.objects.filter(external_id__startswith="live-bench-").order_by("pk")[:n])
    return have


async def measure_clarion(server: Server, n: int) -> dict:
    people = await asyncio.to_thread(subscribers, n)
    urls = [f"{server.ws}/ws/inbox/?token={inbox_token_mint(subscriber=s).token}" for s in people]
    idle_before = server.rss_kb()
    clients = Clients()
    connect_seconds = await clients.open(urls, ready="hello")
    await asyncio.sleep(2)
    idle_after = server.rss_kb()
    results = []
    profiler = profile(server)
    for round_number in range(1, ROUNDS + 1):
        batch = [(subscriber_group(s.pk), payload(round_number, s.pk)) for s in people]
        started = time.perf_counter()
        await asyncio.to_thread(live_send_now, batch)
        results.append(await clients.wait_round(round_number, started))
        await asyncio.sleep(0.5)
    stop_profile(profiler)
    await clients.close()
    return {"connect": connect_seconds, "rss": (idle_before, idle_after), "rounds": results}


async def measure_raw(server: Server, n: int) -> dict:
    urls = [f"{server.ws}/ws/u{i}" for i in range(n)]
    idle_before = server.rss_kb()
    clients = Clients()
    connect_seconds = await clients.open(urls, ready=None)
    await asyncio.sleep(2)
    idle_after = server.rss_kb()
    results = []
    for round_number in range(1, ROUNDS + 1):
        body = json.dumps(payload(round_number)).encode()
        started = time.perf_counter()
        request = urllib.request.Request(f"{server.url}/broadcast", data=body, method="POST")
        await asyncio.to_thread(lambda r=request: urllib.request.urlopen(r, timeout=60).read())  # noqa: S310
        results.append(await clients.wait_round(round_number, started))
        await asyncio.sleep(0.5)
    await clients.close()
    return {"connect": connect_seconds, "rss": (idle_before, idle_after), "rounds": results}


def report(label: str, n: int, measured: dict) -> float:
    lasts = [max(r) for r in measured["rounds"]]
    every = [value for r in measured["rounds"] for value in r]
    figures = summary(every)
    before, after = measured["rss"]
    per_socket = (after - before) / n
    print(f"{label:>8} {n:>6}  last {statistics.median(lasts) * 1000:8.1f} ms  "
          f"p50 {figures['p50'] * 1000:7.1f} ms  p99 {figures['p99'] * 1000:7.1f} ms  "
          f"connect {measured['connect']:6.2f} s  RSS {before // 1024} → {after // 1024} MB "
          f"({per_socket:.1f} KB/socket)")
    return statistics.median(lasts)


async def main(sizes: list[int]) -> None:
    await asyncio.to_thread(call_command, "migrate", verbosity=0)
    print("Median of the time until the LAST socket received, over "
          f"{ROUNDS} rounds; p50/p99 over every receipt. Fresh server processes for each size, "
          "so RSS growth is the sockets' own.")
    for n in sizes:
        clarion = Server("config.asgi:application", "clarion")
        try:
            ours = report("clarion", n, await measure_clarion(clarion, n))
        finally:
            clarion.stop()
        raw = Server("bench.raw_asgi_app:app", "raw")
        try:
            theirs = report("raw", n, await measure_raw(raw, n))
        finally:
            raw.stop()
        print(f"{'':>8} {n:>6}  Clarion / raw: {ours / theirs:.2f}x the time\n")


if __name__ == "__main__":
    asyncio.run(main([int(a) for a in sys.argv[1:]] or [1000, 2000]))
