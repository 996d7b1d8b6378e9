"""The fan-out step alone: one event → a group's delivery rows, beside ``COPY`` of the same rows.

* Clarion: ``event_process`` and every continuation of the fan-out, run in this
  process (their send batches are counted, not sent): rules → audience →
  delivery rows written and marked handed over, chunk by chunk.
* ``COPY``: the same delivery rows (same columns, same values) streamed into a
  table of the same shape and indexes (``CREATE TABLE … (LIKE … INCLUDING ALL)``),
  twice: with the delivery table's foreign keys (to the event, rule, subscriber
  and parent delivery, each checked per row as for Clarion's rows) and without.

Usage: ``bench/broadcast_dispatch.py [SIZE ...]`` (default 10000 100000).
"""

from __future__ import annotations

import sys
import time
import uuid

from broadcast_common import (
    announce_rule,
    audience_create,
    migrate,
    ratio,
    reset,
    twin_tables_create,
    twin_tables_drop,
)
from django.db import connection, transaction
from django.utils import timezone

from notifications import handoff
from notifications.models import Delivery
from notifications.services.dispatch import event_fan_out_more, event_process
from notifications.services.events import event_ingest


def clarion(size: int) -> tuple[float, int, object, int]:
    reset()
    group_id = audience_create(size)
    rule = announce_rule(group_id, ["inapp"])
    published: list[tuple[str, list]] = []
    handoff._publish = lambda name, args, lane: published.append((name, args))
    with transaction.atomic():
        event, _ = event_ingest(event_type="announce", recipients=[], data={"text": "hi"})
    published.clear()
    started = time.monotonic()
    event_process(event_id=event.pk)
    while continuations := [args for name, args in published if name == handoff.FAN_OUT_EVENT]:
        published[:] = [item for item in published if item[0] != handoff.FAN_OUT_EVENT]
        for event_id, cursor in continuations:
            event_fan_out_more(event_id=event_id, cursor=cursor)
    elapsed = time.monotonic() - started
    assert Delivery.objects.filter(event=event).count() == size
    sends = sum(1 for name, _ in published if name == handoff.SEND_DELIVERIES)
    return elapsed, sends, event.pk, rule.pk


def copy_peer(event_id, rule_id: int, *, foreign_keys: bool) -> float:
    tables = ["notifications_delivery"]
    with connection.cursor() as cursor:
        twin_tables_create(cursor, tables, foreign_keys=foreign_keys)
        cursor.execute("SELECT id, external_id FROM notifications_subscriber ORDER BY id")
        subscribers = cursor.fetchall()
        now = timezone.now()
        started = time.monotonic()
        with cursor.copy("COPY bench_notifications_delivery (id, event_id, rule_id, "
                         "subscriber_id, channel, "
                         "address, recipient_key, status, skip_reason, attempts, enqueued_at, "
                         "provider_message_id, last_error, error_code, rendered, created_at, "
                         "updated_at) FROM STDIN") as copy:
            for sid, external_id in subscribers:
                copy.write_row((uuid.uuid4(), event_id, rule_id, sid, "inapp", external_id,
                                f"sub:{sid}", "queued", "", 0, now, "", "", "", "{}", now, now))
        elapsed = time.monotonic() - started
        twin_tables_drop(cursor, tables)
    return elapsed


def main(sizes: list[int]) -> None:
    migrate()
    print(f"{'recipients':>10} {'Clarion s':>10} {'rows/s':>9} "
          f"{'COPY+FK s':>10} {'rows/s':>9} {'vs':>6} {'COPY s':>8} {'rows/s':>9} {'vs':>6} "
          f"{'send tasks':>11}")
    for size in sizes:
        clarion_s, sends, event_id, rule_id = clarion(size)
        keyed_s = copy_peer(event_id, rule_id, foreign_keys=True)
        bare_s = copy_peer(event_id, rule_id, foreign_keys=False)
        print(f"{size:>10} {clarion_s:>10.2f} {size / clarion_s:>9.0f} "
              f"{keyed_s:>10.2f} {size / keyed_s:>9.0f} {ratio(keyed_s, clarion_s):>6} "
              f"{bare_s:>8.2f} {size / bare_s:>9.0f} {ratio(bare_s, clarion_s):>6} "
              f"{sends:>11}", flush=True)


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [10_000, 100_000])
