"""Outgoing webhooks: one event to many endpoints, signed and sent by a real worker, beside
a plain asyncio + aiohttp loop signing and POSTing the same payloads.

Both talk to the same local receiver (``bench/webhook_sink.py``, aiohttp, its own
process), which answers 204 to everything.

* Clarion: ``POST /api/events`` (Django's handler, in this process) for an event
  that fans out to SIZE endpoints of the application → a real ``celery worker -c 2``
  claims batches of ``DELIVERY_BATCH_SIZE``, creates each endpoint's message,
  signs it (Standard Webhooks), POSTs the batch in parallel through the outbound
  door (at most ``OUTBOUND_PER_HOST_CONCURRENCY`` = 8 at a time per worker
  process: 16 in all), and records messages, attempts and deliveries; timed until
  the last delivery is final.
* The loop: the same number of payloads, each signed with its endpoint's secret
  (HMAC-SHA256, the same headers), POSTed with one ``aiohttp.ClientSession`` and
  16 requests in flight, the same concurrency Clarion's two processes use.

Usage: ``bench/broadcast_webhooks.py [SIZE ...]`` (default 2000).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

os.environ.setdefault("OUTBOUND_ALLOWED_NETWORKS", "127.0.0.0/8")
os.environ.setdefault("WEBHOOK_REQUIRE_HTTPS", "false")

from broadcast_common import ROOT, Worker, api_secret, migrate, ratio, reset, wait_finished  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from live_common import free_port  # noqa: E402

IN_FLIGHT = 16


def setup(size: int, port: int) -> tuple[str, list[str]]:
    """SIZE endpoints of the bench application and a rule routing ``announce`` to webhooks;
    the API secret and the endpoints' signing secrets."""
    from notifications.models import Application, Rule
    from webhooks.models import Endpoint
    from webhooks.services.endpoints import endpoint_create

    reset()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE webhooks_webhookattempt, webhooks_webhookmessage CASCADE")
    Endpoint.objects.all().delete()
    Rule.objects.all().delete()
    Rule.objects.create(name="announce", event_type="announce", channels=["webhook"],
                        audience="recipients")
    secret = api_secret()
    application = Application.objects.get(name="bench")
    secrets = [endpoint_create(application=application,
                               url=f"http://127.0.0.1:{port}/hook/{n}").secret
               for n in range(size)]
    return secret, secrets


def received(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/count") as answer:  # noqa: S310
        return int(answer.read())


def clarion(size: int, port: int) -> float:
    secret, _ = setup(size, port)
    before = received(port)
    worker = Worker()
    client = Client()
    client.get("/healthz", HTTP_HOST="127.0.0.1")  # Django builds its middleware on the first request
    try:
        started = time.monotonic()
        response = client.post("/api/events", data=json.dumps(
            {"event": "announce", "data": {"text": "Maintenance tonight"}}),
            content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}",
            HTTP_HOST="127.0.0.1", secure=True)
        assert response.status_code == 202, response.content
        # Polled finely: the whole run takes about a second.
        finished = wait_finished(response.json()["id"], timeout=3600, poll=0.02)
    finally:
        worker.stop()
    from notifications.models import Delivery

    statuses = set(Delivery.objects.values_list("status", flat=True))
    assert statuses == {"delivered"}, statuses
    assert received(port) - before == size
    return finished - started


def signed(secret: str, body: bytes) -> dict[str, str]:
    webhook_id, timestamp = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {"Content-Type": "application/json", "webhook-id": webhook_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": "v1," + base64.b64encode(digest).decode()}


async def plain_loop(secrets: list[str], port: int) -> float:
    import aiohttp

    body = json.dumps({"type": "announce", "timestamp": "2026-01-01T00:00:00.000Z",
                       "data": {"text": "Maintenance tonight"}}, separators=(",", ":")).encode()
    gate = asyncio.Semaphore(IN_FLIGHT)
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        async def post(n: int, secret: str) -> None:
            async with gate, session.post(f"http://127.0.0.1:{port}/hook/{n}", data=body,
                                          headers=signed(secret, body)) as answer:
                assert answer.status == 204

        await asyncio.gather(*(post(n, secret) for n, secret in enumerate(secrets)))
    return time.monotonic() - started


def main(sizes: list[int]) -> None:
    migrate()
    port = free_port()
    sink = subprocess.Popen([sys.executable, str(ROOT / "bench" / "webhook_sink.py"), str(port)],
                            stdout=subprocess.PIPE, text=True)
    assert sink.stdout.readline().strip() == "ready"
    try:
        print(f"{'messages':>10} {'Clarion s':>10} {'msg/s':>8} {'loop s':>10} {'msg/s':>8} "
              f"{'ratio':>7}")
        for size in sizes:
            clarion_s = clarion(size, port)
            secrets = [f"whsec_{base64.b64encode(os.urandom(32)).decode()}" for _ in range(size)]
            loop_s = asyncio.run(plain_loop(secrets, port))
            print(f"{size:>10} {clarion_s:>10.1f} {size / clarion_s:>8.0f} {loop_s:>10.2f} "
                  f"{size / loop_s:>8.0f} {ratio(size / clarion_s, size / loop_s):>7}", flush=True)
    finally:
        sink.terminate()


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [2000])
