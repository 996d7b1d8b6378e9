"""Fan out: an event's rules → audience → delivery rows, a chunk at a time, each chunk enqueued.

``event_process`` claims a received event and walks its firing rules. Each
rule's audience is written in keyset chunks of ``FANOUT_CHUNK_SIZE``
subscribers, each chunk in its own transaction: set-based on PostgreSQL
(``fanout_sql``), row by row otherwise (``fanout_rows``). The rows of a
chunk that are due now are handed to the broker as send batches when the
chunk commits, so sending starts while the fan-out is still going.

An event whose audience outgrows one chunk or ``DELIVERY_BROADCAST_THRESHOLD``
is a broadcast: its sends and the rest of its fan-out move to the broadcast
lane, so a single-recipient event accepted meanwhile never waits for it (see
``notifications.handoff``). There each task writes one chunk, after handing
the next chunk to another task, so every worker process of the lane writes
chunks side by side; the event counts its open tasks (``fanout_open``) and
the last one to finish marks it processed.

Deliveries are unique per (event, rule, recipient, channel) and every write
ignores conflicts, so processing the same event twice — a redelivered task,
the sweeper, the admin's "dispatch again" — never creates a second delivery,
and therefore never sends twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.handoff import (
    BROADCAST,
    NOTIFY,
    deliveries_enqueue,
    event_enqueue_on_commit,
    fan_out_enqueue_on_commit,
)
from notifications.models import Channel, Event, EventStatus, Rule
from notifications.providers import provider_for
from notifications.selectors.audience import (
    AudienceSpec,
    Recipient,
    audience_chunk,
    audience_chunk_end,
    audience_spec,
    audience_targets,
)
from notifications.selectors.rules import rules_matching
from notifications.services.fanout_rows import deliveries_build, deliveries_write, endpoint_deliveries
from notifications.services.fanout_sql import (
    deliveries_insert_select,
    inbox_words_for,
    quiet_hours_apply,
    set_based_possible,
)
from notifications.templating import TemplateProblem, condition_evaluate

logger = logging.getLogger(__name__)

#: Cursor position of a rule whose raw targets and endpoints are not written yet.
RULE_START = -1


def _claim(event_id) -> bool:
    """Move the event to ``processing``; a stale claim (dead worker) may be taken over."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.EVENT_PROCESSING_LEASE_SECONDS)
    return bool(Event.objects.filter(pk=event_id).filter(
        Q(status=EventStatus.RECEIVED)
        | Q(status=EventStatus.PROCESSING, processing_started_at__lt=stale)
    ).update(status=EventStatus.PROCESSING, processing_started_at=now, error="", fanout_open=1))


def event_process(*, event_id) -> Event | None:
    """Process one event if it is waiting; return it, or None when someone else has it."""
    if not _claim(event_id):
        return None
    return _fan_out(event_id, cursor={})


def event_fan_out_more(*, event_id, cursor: dict) -> Event | None:
    """Continue a broadcast's fan-out from ``cursor`` (the task the previous chunk queued)."""
    renewed = Event.objects.filter(pk=event_id, status=EventStatus.PROCESSING).update(
        processing_started_at=timezone.now())
    return _fan_out(event_id, cursor=cursor) if renewed else None


def _rules_firing(event: Event, notes: list[str]) -> list[Rule]:
    firing = []
    for rule in sorted(rules_matching(event=event), key=lambda rule: rule.pk):
        if rule.condition.strip():
            try:
                if not condition_evaluate(rule.condition, {"data": event.data,
                                                           "event": {"type": event.event_type}}):
                    continue
            except TemplateProblem as problem:
                notes.append(f"Rule {rule.name!r}: condition not evaluated ({problem}).")
                continue
        firing.append(rule)
    return firing


@dataclass(frozen=True)
class Step:
    """One transaction of a rule's fan-out: its raw targets, or one chunk of its subscribers."""

    rule: Rule
    spec: AudienceSpec
    channels: dict
    position: int  # RULE_START, or the subscriber pk the chunk starts after
    upto: int | None  # the chunk's last pk; None: to the end of the audience
    full: bool  # a whole FANOUT_CHUNK_SIZE chunk (so more may follow)


def _steps(event: Event, rules: list[Rule], cursor: dict) -> Iterator[Step]:
    """The steps from ``cursor`` on, each chunk's end found (one index query) when reached."""
    start_rule = cursor.get("rule")
    for rule in rules:
        if start_rule is not None and rule.pk < start_rule:
            continue
        position = cursor.get("after", RULE_START) if rule.pk == start_rule else RULE_START
        spec = audience_spec(event=event, rule=rule)
        channels = _rule_channels(event, rule)
        if position == RULE_START:
            yield Step(rule, spec, channels, RULE_START, None, False)
            people = any(endpoints is None for endpoints in channels.values())
            if not (people and (spec.external_ids or spec.group_ids)):
                continue
            position = 0
        while position is not None:
            upto = audience_chunk_end(spec, after=position, size=settings.FANOUT_CHUNK_SIZE)
            yield Step(rule, spec, channels, position, upto, upto is not None)
            position = upto


def _fan_out(event_id, *, cursor: dict) -> Event:
    """Write steps from ``cursor``: all of them here for a small event; for a broadcast one
    per task, each task first handing the next step to another (so the broadcast lane's
    workers write chunks side by side)."""
    event = Event.objects.get(pk=event_id)
    notes: list[str] = []
    broadcast = bool(cursor.get("broadcast"))
    steps = _steps(event, _rules_firing(event, notes), cursor)
    for step in steps:
        if step.full and not broadcast:
            # The audience outgrows a chunk: the rest is a broadcast, in its own lane.
            _hand_on(event, step)
            _task_done(event, notes)
            return event
        if broadcast:
            following = next(steps, None)
            if following is not None:
                _hand_on(event, following)
        with transaction.atomic():
            rows = _chunk_write(event, step, notes)
            lane = BROADCAST if broadcast or len(rows) > settings.DELIVERY_BROADCAST_THRESHOLD \
                else NOTIFY
            deliveries_enqueue(rows=rows, lane=lane, marked=True)
            if broadcast:
                _task_done(event, notes)
        if broadcast:
            return event
    _task_done(event, notes)
    return event


def _hand_on(event: Event, step: Step) -> None:
    """Queue a fan-out task for ``step``, counted open on the event until it is done."""
    with transaction.atomic():
        Event.objects.filter(pk=event.pk).update(fanout_open=F("fanout_open") + 1)
        fan_out_enqueue_on_commit(event_id=event.pk, cursor={
            "rule": step.rule.pk, "after": step.position, "broadcast": True})


def _task_done(event: Event, notes: list[str]) -> None:
    """Count this task's part done; the last one marks the event processed."""
    with transaction.atomic():
        _notes_add(event.pk, notes)
        locked = Event.objects.select_for_update().only("fanout_open").get(pk=event.pk)
        left = locked.fanout_open - 1
        done = {"status": EventStatus.PROCESSED, "processed_at": timezone.now()} if left <= 0 else {}
        Event.objects.filter(pk=event.pk).update(fanout_open=max(left, 0), **done)
    if left <= 0:
        event.refresh_from_db()
        logger.info("event %s processed", event.pk)


def _notes_add(event_id, notes: list[str]) -> None:
    """Append notes not already on the event (a broadcast's tasks see the same conditions)."""
    if not notes:
        return
    current = Event.objects.filter(pk=event_id).values_list("error", flat=True).first() or ""
    lines = list(dict.fromkeys([*filter(None, current.split("\n")), *notes]))
    Event.objects.filter(pk=event_id).update(error="\n".join(lines))


def _rule_channels(event: Event, rule: Rule) -> dict[str, list[tuple[str, str]] | None]:
    """Each channel of the rule → its configured endpoints (webhooks), or None for people."""
    channels = {}
    for channel in rule.channels:
        provider = provider_for(channel)
        channels[channel] = provider.endpoints_for(event) if provider else None
    return channels


def _chunk_write(event: Event, step: Step, notes: list[str]) -> list[tuple[object, str]]:
    """Write one step (call in a transaction); return the ``(pk, channel)`` rows to send now."""
    now = timezone.now()
    rule, channels = step.rule, step.channels
    people_channels = [channel for channel, endpoints in channels.items() if endpoints is None]
    if step.position == RULE_START:
        deliveries = []
        for channel, endpoints in channels.items():
            if endpoints is not None:
                deliveries += endpoint_deliveries(event=event, rule=rule, channel=channel,
                                                  endpoints=endpoints)
        rows = deliveries_write(event=event, rule=rule, deliveries=deliveries, folds=[], now=now)
        if people_channels:
            targets, folds = deliveries_build(event=event, rule=rule,
                                              recipients=audience_targets(step.spec),
                                              channels=people_channels, now=now, notes=notes)
            rows += deliveries_write(event=event, rule=rule, deliveries=targets, folds=folds,
                                     now=now)
        return rows
    chunk = audience_chunk(step.spec, after=step.position, upto=step.upto)
    return _subscribers_write(event, rule, chunk, people_channels, now, notes)


def _subscribers_write(event: Event, rule: Rule, chunk, channels: list[str], now: datetime,
                       notes: list[str]) -> list[tuple[object, str]]:
    if not channels:
        return []
    if not set_based_possible(rule):
        return _rows_write(event, rule, list(chunk), channels, now, notes)
    chunk_sql, chunk_params = chunk.order_by().values("pk").query.sql_with_params()
    words = inbox_words_for(event, rule) if Channel.INAPP in channels else None
    written = deliveries_insert_select(event_id=event.pk, rule=rule, channels=channels,
                                       chunk_sql=chunk_sql, chunk_params=list(chunk_params),
                                       now=now, inbox_words=words)
    if written.inbox:
        words_of = written.words.__getitem__ if written.words else lambda _: words.rendered
        provider_for(Channel.INAPP).announce(written.inbox, words_of, event=event, rule=rule,
                                             created_at=now)
    rows = written.queued
    if quiet_hours_apply(rule, channels):
        # Left out of the statement: their windows end in their own time zones.
        quiet = list(chunk.filter(quiet_hours__enabled=True))
        rows += _rows_write(event, rule, quiet, [c for c in channels if c != Channel.INAPP],
                            now, notes)
    return rows


def _rows_write(event: Event, rule: Rule, subscribers: list, channels: list[str],
                now: datetime, notes: list[str]) -> list[tuple[object, str]]:
    deliveries, folds = deliveries_build(
        event=event, rule=rule, recipients=[Recipient(subscriber=s) for s in subscribers],
        channels=channels, now=now, notes=notes)
    return deliveries_write(event=event, rule=rule, deliveries=deliveries, folds=folds, now=now)


def event_dispatch_again(*, event: Event) -> None:
    """Run a finished event through the rules again (reaching, say, members added to a group
    since); existing deliveries are kept and none is duplicated. An event still waiting or
    being processed is left to the run already under way."""
    with transaction.atomic():
        reopened = Event.objects.filter(
            pk=event.pk, status__in=[EventStatus.PROCESSED, EventStatus.FAILED]
        ).update(status=EventStatus.RECEIVED, processing_started_at=None)
        if reopened:
            event_enqueue_on_commit(event_id=event.pk)
