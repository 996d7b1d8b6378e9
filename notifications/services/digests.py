"""Digests: events collected per recipient, rule, channel and digest key, sent as one message.

Each event folded into a digest leaves its own Delivery row, ``skipped`` with
reason ``digested`` and a note naming the batch, so the delivery log shows
where it went. When the batch is due, one Delivery is created on its last
event (recipient key ``digest:<batch id>``, so the per-event uniqueness holds)
and templates see every item as ``items``.

Concurrency: an adder locks the open batch row (``SELECT … FOR UPDATE``) and a
flusher locks it too before reading the items and moving it ``open → sent``.
So an item is either added before the flush reads (and goes out with it) or
waits for the flush to commit, finds no open batch any more (PostgreSQL
re-checks ``status = 'open'`` on the locked row) and starts a new one. Two
adders starting a batch at once meet the partial unique constraint; the loser
retries inside a savepoint and joins the winner's batch.
"""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.handoff import deliveries_enqueue
from notifications.models import Delivery, DeliveryStatus, Event, Rule, SkipReason, Subscriber
from notifications.models.digests import DigestBatch, DigestItem
from notifications.templating import TemplateProblem, render

logger = logging.getLogger(__name__)
Status = DigestBatch.Status


@dataclass
class Fold:
    """A delivery that goes into a digest instead of being sent on its own."""

    delivery: Delivery
    digest_key: str
    due_at: datetime


def rule_digests(rule: Rule) -> bool:
    return bool(rule.digest_window_seconds or rule.digest_at)


def digest_key_evaluate(*, rule: Rule, event: Event) -> str:
    """The rule's digest key for this event ('' when the rule has none); raise ``TemplateProblem``."""
    if not rule.digest_key.strip():
        return ""
    context = {"data": event.data, "event": {"type": event.event_type}}
    # Rendered as an expression, so the key is the text a template would print.
    return render("{{ (" + rule.digest_key + ") }}", context)[:200]


def digest_due_at(*, rule: Rule, subscriber: Subscriber | None, opened_at: datetime) -> datetime:
    """When a batch opened at ``opened_at`` is due: after the window, or at the next ``digest_at``.

    ``digest_at`` is wall-clock time in the subscriber's zone (UTC without one),
    combined per calendar date so a DST change keeps "09:00" at 09:00 local.
    """
    if rule.digest_at is None:
        return opened_at + timedelta(seconds=rule.digest_window_seconds or 0)
    try:
        zone = zoneinfo.ZoneInfo((subscriber.timezone if subscriber else "") or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    local_date = opened_at.astimezone(zone).date()
    for days in range(3):
        candidate = datetime.combine(local_date + timedelta(days=days), rule.digest_at, tzinfo=zone)
        if candidate > opened_at:
            return candidate
    raise AssertionError("unreachable: a daily time recurs within two days")


def deliveries_fold_for_digest(*, deliveries: list[Delivery], rule: Rule, event: Event,
                               now: datetime, notes: list[str]) -> list[Fold]:
    """Mark a digesting rule's queued deliveries ``skipped: digested`` in place; return the folds."""
    if not rule_digests(rule):
        return []
    try:
        key = digest_key_evaluate(rule=rule, event=event)
    except TemplateProblem as problem:
        # Still digested, under the rule's catch-all key, rather than sent one by one.
        notes.append(f"Rule {rule.name!r}: digest key not evaluated ({problem}).")
        key = ""
    folds = []
    for delivery in deliveries:
        if delivery.status != DeliveryStatus.QUEUED:
            continue
        due = digest_due_at(rule=rule, subscriber=delivery.subscriber, opened_at=now)
        fold_mark(delivery)
        folds.append(Fold(delivery=delivery, digest_key=key, due_at=due))
    return folds


def fold_mark(delivery: Delivery) -> None:
    delivery.status, delivery.skip_reason = DeliveryStatus.SKIPPED, SkipReason.DIGESTED
    delivery.next_attempt_at = None


def digest_item_add(*, fold: Fold, event: Event, rule: Rule) -> DigestBatch:
    """Add the fold's event to the open batch (creating it); run inside a transaction."""
    delivery = fold.delivery
    lookup = {"rule": rule, "recipient_key": delivery.recipient_key, "channel": delivery.channel,
              "digest_key": fold.digest_key}
    for _ in range(5):
        batch = (DigestBatch.objects.select_for_update()
                 .filter(status=Status.OPEN, **lookup).first())
        if batch is None:
            try:
                with transaction.atomic():  # savepoint: a lost race must not spoil the caller
                    batch = DigestBatch.objects.create(
                        subscriber=delivery.subscriber, address=delivery.address,
                        due_at=fold.due_at, **lookup)
            except IntegrityError:
                continue  # another event opened it first; lock and join theirs
        DigestItem.objects.get_or_create(batch=batch, event=event)
        delivery.last_error = f"In digest batch {batch.pk}, due {batch.due_at.isoformat()}."
        return batch
    raise RuntimeError("could not open or join a digest batch")


def digest_flush(*, batch_id: int, now: datetime | None = None) -> Delivery | None:
    """Send one due batch as a single delivery; None when it is not due or another flusher won."""
    now = now or timezone.now()
    with transaction.atomic():
        batch = (DigestBatch.objects.select_for_update().select_related("rule")
                 .filter(pk=batch_id, status=Status.OPEN, due_at__lte=now).first())
        if batch is None:
            return None
        items = list(batch.items.select_related("event").order_by("added_at", "id"))
        # Conditional UPDATE as the last word: only one flusher moves it out of "open".
        if not DigestBatch.objects.filter(pk=batch.pk, status=Status.OPEN).update(
                status=Status.SENT):
            return None
        if not items:
            return None
        delivery = Delivery.objects.create(
            event=items[-1].event, rule=batch.rule, subscriber=batch.subscriber,
            channel=batch.channel, address=batch.address, recipient_key=f"digest:{batch.pk}")
        DigestBatch.objects.filter(pk=batch.pk).update(delivery=delivery)
        deliveries_enqueue(rows=[(delivery.pk, delivery.channel)])
    logger.info("digest batch %s flushed: %d items", batch.pk, len(items))
    return delivery


def digests_flush_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Flush every open batch whose time has come; return how many were sent."""
    now = now or timezone.now()
    due = list(DigestBatch.objects.filter(status=Status.OPEN, due_at__lte=now)
               .order_by("due_at").values_list("pk", flat=True)[:limit])
    return sum(1 for batch_id in due if digest_flush(batch_id=batch_id, now=now) is not None)


def digest_context(delivery: Delivery) -> dict:
    """``items`` and ``digest`` for a template: the batch's events, or just this delivery's.

    A message that is not a digest is a digest of one, so a template written
    with ``{% for item in items %}`` renders for both.
    """
    batch = None
    if delivery.recipient_key.startswith("digest:"):
        batch = DigestBatch.objects.filter(delivery=delivery).first()
    if batch is None:
        return {"items": [_item(delivery.event)], "digest": {"count": 1, "key": ""}}
    events = [item.event for item in batch.items.select_related("event").order_by("added_at", "id")]
    return {"items": [_item(event) for event in events],
            "digest": {"count": len(events), "key": batch.digest_key}}


def _item(event: Event) -> dict:
    return {"event": {"id": str(event.pk), "type": event.event_type,
                      "created_at": event.created_at.isoformat()},
            "data": event.data}
