"""In-app broadcast: one event to a group, from the POST to every inbox row written and every
delivery final, beside the same rows written by ``COPY`` and by one ``save()`` per row.

* Clarion: ``POST /api/events`` (Django's handler, in this process) → a real
  ``celery worker -c 2`` on Redis fans out and sends; timed until the last
  delivery is final.
* ``COPY``: the rows Clarion writes for each recipient — a delivery, an inbox
  row and an attempt — streamed into tables of the same shape and indexes
  (``CREATE TABLE … (LIKE … INCLUDING ALL)``), in this process; twice: with the
  tables' foreign keys (checked per row, as for Clarion's rows) and without.
* ``save()`` loop: one ``Notification.objects.create`` per recipient, the way
  django-notifications writes a broadcast (inbox rows only; on at most 20,000
  recipients — its rate does not change with size).

Usage: ``bench/broadcast_inapp.py [--personal] [SIZE ...]`` (default 10000 100000).
Without ``--personal`` the template says the same to everyone (``{{ data.text }}``),
which Clarion renders once per batch; with it the title greets each subscriber by
name (``{{ subscriber.first_name }}``), rendered once per recipient.
"""

from __future__ import annotations

import json
import sys
import time
import uuid

from broadcast_common import (
    RssSampler,
    Worker,
    announce_rule,
    api_secret,
    audience_create,
    migrate,
    ratio,
    reset,
    twin_tables_create,
    twin_tables_drop,
    wait_finished,
)
from django.db import connection
from django.test import Client
from django.utils import timezone

SAVE_LOOP_MAX = 20_000
PERSONAL = "--personal" in sys.argv
TITLE = "Hello {{ subscriber.first_name }}" if PERSONAL else "News: {{ data.text }}"


TABLES = ["notifications_delivery", "inbox_notification", "notifications_deliveryattempt"]


def setup(size: int) -> tuple[str, int]:
    reset()
    group_id = audience_create(size)
    rule = announce_rule(group_id, ["inapp"], inapp_title=TITLE, inapp_body="{{ data.text }}",
                         action_url="/news/{{ data.id }}")
    return api_secret(), rule.pk


def clarion(size: int, worker: Worker) -> tuple[float, RssSampler, str, int]:
    secret, rule_id = setup(size)
    client = Client()
    with RssSampler(worker) as rss:
        started = time.monotonic()
        response = client.post("/api/events", data=json.dumps(
            {"event": "announce", "data": {"text": "Maintenance tonight", "id": 7}}),
            content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}",
            HTTP_HOST="127.0.0.1", secure=True)
        assert response.status_code == 202, response.content
        event_id = response.json()["id"]
        finished = wait_finished(event_id, timeout=3600)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inbox_notification")
        written = cursor.fetchone()[0]
        cursor.execute("SELECT status, count(*) FROM notifications_delivery GROUP BY status")
        statuses = dict(cursor.fetchall())
    assert written == size and statuses == {"delivered": size}, (written, statuses)
    return finished - started, rss, event_id, rule_id


def copy_peer(event_id: str, rule_id: int, *, foreign_keys: bool) -> float:
    with connection.cursor() as cursor:
        twin_tables_create(cursor, TABLES, foreign_keys=foreign_keys)
        cursor.execute("SELECT id, external_id, first_name FROM notifications_subscriber "
                       "ORDER BY id")
        subscribers = cursor.fetchall()
        now = timezone.now()
        started = time.monotonic()
        ids = [uuid.uuid4() for _ in subscribers]
        with cursor.copy("COPY bench_notifications_delivery (id, event_id, rule_id, "
                         "subscriber_id, channel, address, recipient_key, status, skip_reason, "
                         "attempts, provider_message_id, last_error, error_code, rendered, "
                         "created_at, updated_at, sent_at) FROM STDIN") as copy:
            for pk, (sid, external_id, name) in zip(ids, subscribers, strict=True):
                copy.write_row((pk, event_id, rule_id, sid, "inapp", external_id, f"sub:{sid}",
                                "delivered", "", 1, f"inbox:{sid}", "", "", json.dumps(
                                    {"inapp_title": f"Hello {name}",
                                     "inapp_body": "Maintenance tonight",
                                     "action_url": "/news/7"}), now, now, now))
        with cursor.copy("COPY bench_inbox_notification (subscriber_id, delivery_id, title, "
                         "body, action_url, level, data, created_at) FROM STDIN") as copy:
            for pk, (sid, _, name) in zip(ids, subscribers, strict=True):
                copy.write_row((sid, pk, f"Hello {name}", "Maintenance tonight", "/news/7",
                                "info", json.dumps({"event": "announce",
                                                    "event_id": str(event_id)}), now))
        with cursor.copy("COPY bench_notifications_deliveryattempt (delivery_id, number, "
                         "started_at, finished_at, duration_ms, outcome, error, "
                         "provider_message_id) FROM STDIN") as copy:
            for pk, (sid, _, _) in zip(ids, subscribers, strict=True):
                copy.write_row((pk, 1, now, now, 1, "sent", "", f"inbox:{sid}"))
        elapsed = time.monotonic() - started
        twin_tables_drop(cursor, TABLES)
    return elapsed


def save_loop(size: int) -> float:
    """Seconds per row of one ``create()`` per recipient (committed each, as in autocommit)."""
    from inbox.models import Notification

    sample = min(size, SAVE_LOOP_MAX)
    subscribers = list(connection.cursor().execute(
        "SELECT id, first_name FROM notifications_subscriber ORDER BY id LIMIT %s", [sample]))
    Notification.objects.all().delete()
    started = time.monotonic()
    for sid, name in subscribers:
        Notification.objects.create(subscriber_id=sid, title=f"Hello {name}",
                                    body="Maintenance tonight", action_url="/news/7",
                                    data={"event": "announce"})
    elapsed = time.monotonic() - started
    Notification.objects.all().delete()
    return elapsed / sample


def main(sizes: list[int]) -> None:
    migrate()
    worker = Worker()
    try:
        print(f"{'recipients':>10} {'Clarion s':>10} {'rows/s':>9} {'COPY+FK s':>10} "
              f"{'vs':>6} {'COPY s':>7} {'vs':>6} {'save() rows/s':>14} {'vs save()':>10} "
              f"{'worker RSS MB idle → peak':>26}")
        for size in sizes:
            clarion_s, rss, event_id, rule_id = clarion(size, worker)
            keyed_s = copy_peer(event_id, rule_id, foreign_keys=True)
            bare_s = copy_peer(event_id, rule_id, foreign_keys=False)
            per_row = save_loop(size)
            print(f"{size:>10} {clarion_s:>10.1f} {size / clarion_s:>9.0f} {keyed_s:>10.1f} "
                  f"{ratio(keyed_s, clarion_s):>6} {bare_s:>7.1f} {ratio(bare_s, clarion_s):>6} "
                  f"{1 / per_row:>14.0f} {ratio(size / clarion_s, 1 / per_row):>10} "
                  f"{rss.idle_mb:>12.0f} → {rss.peak_mb:>4.0f} (+{rss.peak_mb - rss.idle_mb:.0f})",
                  flush=True)
    finally:
        worker.stop()


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:] if arg.isdigit()] or [10_000, 100_000])
