"""Transactional latency during a broadcast, and accept latency whatever the audience.

1. **Accept**: ``POST /api/events`` to a real uvicorn process for an event whose
   rule reaches a group of SIZE subscribers, 100 times, with no worker running
   (accepting never looks at the audience); p50/p99 of the answer time. The
   comparison is a POST of a single-recipient event measured the same way.
2. **During a broadcast**: one event to the whole group is sent by a real
   ``celery worker -c 2`` while a single-recipient event (a "password reset",
   in-app) is posted every 250 ms; each is timed from its POST until its
   delivery is final. p50/p99 over the probes posted while the broadcast ran.

Usage: ``bench/broadcast_latency.py [--personal] [SIZE]`` (default 100000);
``--personal`` makes the broadcast's words per recipient, so it is sent by send
tasks in the broadcast lane rather than written during the fan-out.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import urllib.request

from broadcast_common import Worker, announce_rule, api_secret, audience_create, migrate, reset, unfinished
from celery import current_app
from django.db import connection

from notifications import handoff
from notifications.models import MessageTemplate, Rule, Subscriber

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from live_common import Server  # noqa: E402

PERSONAL = "--personal" in sys.argv
PROBES_MAX = 400


def setup(size: int) -> str:
    reset()
    group_id = audience_create(size)
    announce_rule(group_id, ["inapp"], inapp_body="{{ data.text }}",
                  inapp_title="Hello {{ subscriber.first_name }}" if PERSONAL
                  else "News: {{ data.text }}")
    reset_rule = Rule.objects.create(name="reset", event_type="password.reset",
                                     channels=["inapp"], audience="recipients")
    MessageTemplate.objects.create(rule=reset_rule, channel="inapp",
                                   inapp_title="Your code is {{ data.code }}")
    Subscriber.objects.create(external_id="vip-user", email="vip@example.com")
    return api_secret()


def post(server: Server, secret: str, body: dict) -> tuple[float, str]:
    request = urllib.request.Request(
        f"{server.url}/api/events", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json",
                 "X-Forwarded-Proto": "https"})
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        answer = json.loads(response.read())
    return time.monotonic() - started, answer["id"]


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms  (n={len(values)})"


def delivered_at(event_id: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM notifications_delivery WHERE event_id = %s "
                       "AND status = 'delivered'", [event_id])
        return cursor.fetchone()[0] == 1


def main(size: int) -> None:
    migrate()
    secret = setup(size)
    server = Server("config.asgi:application", "latency")
    try:
        group_body = {"event": "announce", "data": {"text": "hi"}}
        single_body = {"event": "password.reset", "to": ["vip-user"], "data": {"code": "1"}}
        for _ in range(10):  # warm the server up (first requests load code and connections)
            post(server, secret, single_body)
        group_accept, single_accept = [], []
        for _ in range(100):  # interleaved, so both see the same server state
            group_accept.append(post(server, secret, group_body)[0])
            single_accept.append(post(server, secret, single_body)[0])
        print(f"accept, {size:,}-recipient event:  {percentiles(group_accept)}")
        print(f"accept, 1-recipient event:       {percentiles(single_accept)}")
        # Those events were only accepted (no worker ran): drop them before the broadcast.
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE notifications_event CASCADE")
        with current_app.connection_for_write() as broker:
            for lane in (handoff.NOTIFY, handoff.BROADCAST, handoff.HOUSEKEEPING):
                broker.default_channel.queue_purge(handoff.queue_name(lane))
        worker = Worker()
        try:
            _, broadcast = post(server, secret, {"event": "announce", "data": {"text": "hi"}})
            started = time.monotonic()
            probes: list[tuple[float, str]] = []
            latencies: list[float] = []
            while unfinished(broadcast) != 0 and len(probes) < PROBES_MAX:
                posted = time.monotonic()
                probes.append((posted, post(server, secret, {
                    "event": "password.reset", "to": ["vip-user"], "data": {"code": "2"}})[1]))
                # Settle the probes already posted, then post the next one 250 ms later.
                while time.monotonic() < posted + 0.25:
                    for when, event_id in list(probes):
                        if delivered_at(event_id):
                            latencies.append(time.monotonic() - when)
                            probes.remove((when, event_id))
                    time.sleep(0.01)
            elapsed = time.monotonic() - started
            deadline = time.monotonic() + 30
            while probes and time.monotonic() < deadline:
                for when, event_id in list(probes):
                    if delivered_at(event_id):
                        latencies.append(time.monotonic() - when)
                        probes.remove((when, event_id))
                time.sleep(0.01)
            print(f"broadcast of {size:,} finished in {elapsed:.1f} s")
            print(f"password reset during it, POST → delivered: {percentiles(latencies)}"
                  + (f"; {len(probes)} never delivered" if probes else ""))
        finally:
            worker.stop()
    finally:
        server.stop()


if __name__ == "__main__":
    main(next((int(arg) for arg in sys.argv[1:] if arg.isdigit()), 100_000))
