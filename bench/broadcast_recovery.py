"""Recovery after ``kill -9``: a broadcast whose worker is killed mid-way, and how long after
the kill every delivery is final — with nothing lost and nothing written twice.

One event reaches a group of SIZE subscribers on two channels: in-app (words greeting
each subscriber, so they go through send tasks) and e-mail (to a local aiosmtpd sink,
``bench/smtp_sink.py``, which logs every Message-ID it receives). A real ``celery
worker -c 2`` and ``celery beat`` (the periodic sweeps, as deployed) run it:

1. undisturbed, for the reference time;
2. again, with the worker's whole process group killed with SIGKILL once a third of
   the deliveries are final, and a new worker started at once (as a supervisor
   would); timed from the kill until every delivery is final.

Then it checks: every delivery final, one inbox row per subscriber, every e-mail
received; e-mails received twice are counted (a message the SMTP server accepted
just before the kill, whose outcome was never recorded, is sent again: e-mail is
at-least-once).

Usage: ``bench/broadcast_recovery.py [SIZE]`` (default 20000).
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from broadcast_common import ROOT, Worker, announce_rule, api_secret, audience_create, migrate, reset
from django.db import connection
from django.test import Client

sys.path.insert(0, str(Path(__file__).parent))
from live_common import free_port  # noqa: E402

KILL_AT = 1 / 3


class Beat:
    """``celery beat`` with the database scheduler, its own process."""

    def __init__(self):
        self.log = Path(tempfile.gettempdir()) / f"clarion-bench-beat-{uuid.uuid4().hex[:6]}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING",
             "-s", str(Path(tempfile.gettempdir()) / f"beat-{uuid.uuid4().hex[:6]}")],
            cwd=ROOT, env=dict(os.environ), stdout=self.log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True)

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=20)


def setup(size: int) -> str:
    from notifications.models import MessageTemplate

    reset()
    group_id = audience_create(size)
    rule = announce_rule(group_id, ["inapp", "email"], inapp_title="Hello {{ subscriber.first_name }}",
                         inapp_body="{{ data.text }}")
    MessageTemplate.objects.create(rule=rule, channel="email", subject="News: {{ data.text }}",
                                   text_body="Hello {{ subscriber.first_name }}, {{ data.text }}.")
    return api_secret()


def counts(event_id) -> tuple[int, int]:
    """(final deliveries, all deliveries) of the event."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FILTER (WHERE status NOT IN ('queued', 'sending')), "
                       "count(*) FROM notifications_delivery WHERE event_id = %s", [event_id])
        return cursor.fetchone()


def post(secret: str) -> str:
    response = Client().post("/api/events", data=json.dumps(
        {"event": "announce", "data": {"text": "Maintenance tonight"}}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_HOST="127.0.0.1", secure=True)
    assert response.status_code == 202, response.content
    return response.json()["id"]


def run(size: int, port: int, *, kill: bool) -> dict:
    secret = setup(size)
    expected = 2 * size
    worker, beat = Worker(EMAIL_URL=f"smtp://127.0.0.1:{port}"), Beat()
    killed_at = None
    try:
        started = time.monotonic()
        event_id = post(secret)
        while True:
            final, total = counts(event_id)
            if final == expected:
                break
            if kill and killed_at is None and final >= expected * KILL_AT:
                os.killpg(worker.process.pid, signal.SIGKILL)
                killed_at = time.monotonic()
                print(f"  killed the worker with {final:,} of {expected:,} deliveries final",
                      flush=True)
                worker.process.wait()
                worker = Worker(EMAIL_URL=f"smtp://127.0.0.1:{port}")
            if time.monotonic() - started > 3600:
                raise SystemExit(f"not finished after an hour: {final} of {expected} final")
            time.sleep(0.25)
        finished = time.monotonic()
    finally:
        worker.stop()
        beat.stop()
    with connection.cursor() as cursor:
        cursor.execute("SELECT channel, status, count(*) FROM notifications_delivery "
                       "GROUP BY channel, status")
        statuses = {(channel, status): n for channel, status, n in cursor.fetchall()}
        cursor.execute("SELECT count(*), count(DISTINCT subscriber_id) FROM inbox_notification")
        inbox_rows, inbox_people = cursor.fetchone()
    return {"total_s": finished - started,
            "after_kill_s": finished - killed_at if killed_at else None,
            "statuses": statuses, "inbox_rows": inbox_rows, "inbox_people": inbox_people}


def received(log: Path) -> collections.Counter:
    return collections.Counter(log.read_text().split()) if log.exists() else collections.Counter()


def main(size: int) -> None:
    migrate()
    port, log = free_port(), Path(tempfile.gettempdir()) / f"clarion-sink-{uuid.uuid4().hex[:6]}"
    sink = subprocess.Popen([sys.executable, str(ROOT / "bench" / "smtp_sink.py"), str(port),
                             str(log)], stdout=subprocess.PIPE, text=True)
    assert sink.stdout.readline().strip() == "ready"
    try:
        for kill in (False, True):
            log.write_text("")
            result = run(size, port, kill=kill)
            mails = received(log)
            twice = sum(n - 1 for n in mails.values() if n > 1)
            label = "killed mid-way" if kill else "undisturbed"
            after = (f", final {result['after_kill_s']:.1f} s after the kill"
                     if kill else "")
            print(f"{label:>15}: {2 * size:,} deliveries in {result['total_s']:.1f} s{after}")
            print(f"{'':>15}  statuses {result['statuses']}")
            print(f"{'':>15}  inbox rows {result['inbox_rows']:,} for {result['inbox_people']:,} "
                  f"subscribers; e-mails received {sum(mails.values()):,}, distinct "
                  f"{len(mails):,}, received twice {twice}", flush=True)
    finally:
        sink.terminate()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
