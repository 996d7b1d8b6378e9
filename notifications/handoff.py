"""Handing work to the broker: the only place that puts a task on a queue.

Work travels in three *lanes* (Celery queues) so that no kind of work waits
behind another:

* ``notify`` (the default queue, ``CELERY_QUEUE``): processing a newly accepted
  event, sends of events with a small audience, and work recovered from a
  dead worker — what a person is waiting for right now (a password reset, a
  2FA code);
* ``broadcast`` (``<queue>.broadcast``): the fan-out and the send batches of
  events whose audience is larger than ``DELIVERY_BROADCAST_THRESHOLD``;
* ``housekeeping`` (``<queue>.housekeeping``): the periodic sweeps (due
  retries, expired leases, digests, schedules), so a backlog cannot delay
  recovery.

A worker started without ``-Q`` consumes all three, taking from them in turn,
so a single-recipient event waits for at most the batches already running.
Tasks are looked up by name in the Celery app when they are published, so
the stages that call this module do not import the task module (which
imports them).

Deliveries are marked ``enqueued_at`` in the caller's transaction, with a
``Handoff`` row listing them, and published after it commits; the row is then
deleted. A publish that fails clears the mark again, and a ``Handoff`` row
still there after ``DELIVERY_HANDOFF_GRACE_SECONDS`` means the process died
between commit and publish: either way the sweeper hands those deliveries over
on its next pass instead of losing them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from itertools import islice

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

NOTIFY, BROADCAST, HOUSEKEEPING = "notify", "broadcast", "housekeeping"

PROCESS_EVENT = "notifications.process_event"
FAN_OUT_EVENT = "notifications.fan_out_event"
SEND_DELIVERIES = "notifications.send_deliveries"


def queue_name(lane: str) -> str:
    """The Celery queue of ``lane``; derived from the default queue, so one setting names all."""
    base = current_app.conf.task_default_queue
    return base if lane == NOTIFY else f"{base}.{lane}"


def _publish(task_name: str, args: list, lane: str) -> None:
    # Imported here, not at the top: the task module imports the stages, which import this.
    import notifications.tasks  # noqa: F401 — registers the tasks in processes that never did

    current_app.tasks[task_name].apply_async(args=args, queue=queue_name(lane))


def _publish_or_leave(task_name: str, args: list, lane: str, *, left_to: str) -> None:
    """Publish after commit; when the broker is unreachable, log it and leave the work to the
    sweeper (``left_to`` says which pass finds it) — the data is committed, so the request or
    task that wrote it succeeded and must not fail now."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _publish(task_name, args, lane)  # runs the task here: its own errors are real errors
        return
    try:
        _publish(task_name, args, lane)
    except Exception as exc:  # noqa: BLE001 — any broker failure; the committed work is not lost
        # One line, not a traceback: during an outage every request would print one.
        logger.warning("broker unreachable (%s): %s %s not queued; %s",
                       type(exc).__name__, task_name, args[0], left_to)


def event_enqueue_on_commit(*, event_id) -> None:
    """Queue processing of an accepted event once the surrounding transaction commits."""
    transaction.on_commit(lambda: _publish_or_leave(
        PROCESS_EVENT, [str(event_id)], NOTIFY,
        left_to="the sweeper queues it once EVENT_STUCK_SECONDS have passed"))


def fan_out_enqueue_on_commit(*, event_id, cursor: dict) -> None:
    """Queue the next chunk of a broadcast's fan-out (in the broadcast lane)."""
    transaction.on_commit(lambda: _publish_or_leave(
        FAN_OUT_EVENT, [str(event_id), cursor], BROADCAST,
        left_to="the sweeper restarts the fan-out once its processing lease runs out"))


def batches(rows: Iterable[tuple[object, str]]) -> list[list[str]]:
    """Split ``(delivery id, channel)`` rows into lists of ids, one channel and at most that
    channel's batch size each."""
    by_channel: dict[str, list[str]] = {}
    for pk, channel in rows:
        by_channel.setdefault(channel, []).append(str(pk))
    out = []
    for channel, ids in by_channel.items():
        iterator = iter(ids)
        while chunk := list(islice(iterator, batch_size_for(channel))):
            out.append(chunk)
    return out


def batch_size_for(channel: str) -> int:
    """How many deliveries of ``channel`` one send task takes."""
    return settings.DELIVERY_BATCH_SIZES.get(channel, settings.DELIVERY_BATCH_SIZE)


def deliveries_enqueue(*, rows: list[tuple[object, str]], lane: str = NOTIFY,
                       marked: bool = False) -> int:
    """Mark ``(delivery id, channel)`` rows handed over and queue one send task per batch after
    commit; call inside a transaction. Return the number of tasks.

    ``marked``: the caller wrote ``enqueued_at`` already (the fan-out does, in its INSERT).
    """
    from notifications.models import Delivery, Handoff

    if not rows:
        return 0
    tasks = batches(rows)
    now = timezone.now()
    if not marked:
        for task_ids in tasks:
            Delivery.objects.filter(pk__in=task_ids).update(enqueued_at=now)
    # The outbox of this hand-off: gone once every task below is published.
    handoff = Handoff.objects.create(lane=lane, created_at=now,
                                     delivery_ids=[pk for ids in tasks for pk in ids])
    transaction.on_commit(lambda: _send_after_commit(tasks, lane, handoff.pk))
    return len(tasks)


def _send_after_commit(tasks: list[list[str]], lane: str, handoff_id: int) -> None:
    from notifications.models import Delivery, Handoff

    failed: list[str] = []
    for delivery_ids in tasks:
        try:
            _publish(SEND_DELIVERIES, [delivery_ids], lane)
        except Exception:
            # The broker is unreachable: clear the mark so the sweeper hands these over later.
            logger.exception("could not queue a batch of %d deliveries; the sweeper will retry",
                             len(delivery_ids))
            failed += delivery_ids
            if settings.CELERY_TASK_ALWAYS_EAGER:
                Delivery.objects.filter(pk__in=delivery_ids, status="queued").update(
                    enqueued_at=None)
                Handoff.objects.filter(pk=handoff_id).delete()
                raise
    if failed:
        Delivery.objects.filter(pk__in=failed, status="queued").update(enqueued_at=None)
    Handoff.objects.filter(pk=handoff_id).delete()
