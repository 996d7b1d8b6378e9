"""Send: one batch of one channel's deliveries, from claim to recorded outcome.

This is the stage a send task runs. For a batch it

1. claims the deliveries (``claiming``): leased for channels that call out,
   locked inside the transaction for the in-app inbox;
2. skips what changed while they waited (``presend``);
3. renders each from its template, compiled once per batch (``rendering``);
4. hands the ready ones to the provider's ``send_batch`` — one SMTP session,
   concurrent HTTP requests, or one INSERT of inbox rows;
5. records attempts and outcomes with two statements (``recording``).

A provider never sees a delivery twice for one attempt, and a crash at any
point leaves each delivery either untouched (``queued``), leased
(``sending``, taken back by the sweeper when the lease runs out) or recorded.
"""

from __future__ import annotations

import logging
import time
import uuid

from django.db import connection, transaction
from django.utils import timezone

from notifications.models import Delivery, Event, Rule, SkipReason
from notifications.providers import Provider, SendResult, TransientError, provider_for
from notifications.services.claiming import (
    LeaseKeeper,
    LockedRow,
    deliveries_claim,
    deliveries_lock,
    deliveries_lock_rows,
)
from notifications.services.escalation import escalations_create
from notifications.services.presend import presend_skip_reasons
from notifications.services.recording import (
    BatchRecord,
    Skip,
    TemplateFailure,
    batch_record,
    batch_record_sent,
)
from notifications.services.rendering import delivery_render, render_uniform
from notifications.templating import TemplateProblem

logger = logging.getLogger(__name__)


def deliveries_send(*, delivery_ids: list, provider: Provider | None = None) -> None:
    """Send the queued, due deliveries among ``delivery_ids``, one batch per channel.

    ``provider`` replaces the channel's own (the direct path's pre-rendered sends).
    """
    ids = [uuid.UUID(str(delivery_id)) for delivery_id in delivery_ids]
    by_channel: dict[str, list] = {}
    for pk, channel in Delivery.objects.filter(pk__in=ids).values_list("pk", "channel"):
        by_channel.setdefault(channel, []).append(pk)
    for channel, channel_ids in by_channel.items():
        started = time.monotonic()
        batch_send(channel=channel, delivery_ids=channel_ids, provider=provider)
        logger.info("%d %s deliveries handled in %.0f ms", len(channel_ids), channel,
                    (time.monotonic() - started) * 1000)


def batch_send(*, channel: str, delivery_ids: list, provider: Provider | None = None) -> None:
    provider = provider or provider_for(channel)
    if provider is None or not provider.is_configured():
        _skip_unconfigured(channel, delivery_ids)
    elif provider.sends_in_bulk:
        _send_locked(provider, delivery_ids)
    else:
        _send_claimed(provider, delivery_ids)


def _skip_unconfigured(channel: str, delivery_ids: list) -> None:
    deliveries = deliveries_claim(delivery_ids)
    record = BatchRecord(provider=Provider())
    skip = Skip(SkipReason.NOT_CONFIGURED, f"The {channel} channel is not configured on this server.")
    for delivery in deliveries:
        record.add(delivery, skip)
    batch_record(record, deliveries)


def _prepare(provider: Provider, deliveries: list[Delivery], record: BatchRecord) -> list[Delivery]:
    """Presend checks and rendering; return the deliveries ready for the provider."""
    skips = presend_skip_reasons(deliveries)
    ready, templates = [], {}
    for delivery in deliveries:
        if delivery.pk in skips:
            record.add(delivery, Skip(skips[delivery.pk]))
            continue
        if provider.needs_template:
            try:
                delivery.rendered = delivery_render(delivery, templates=templates)
            except TemplateProblem as problem:
                record.add(delivery, TemplateFailure(f"Template: {problem}"))
                continue
        ready.append(delivery)
    return ready


def _send_claimed(provider: Provider, delivery_ids: list) -> None:
    """Channels that call the outside world: claim (committed, leased), send, record."""
    deliveries = deliveries_claim(delivery_ids)
    if not deliveries:
        return
    record = BatchRecord(provider=provider)
    ready = _prepare(provider, deliveries, record)
    if ready:
        with LeaseKeeper([d.pk for d in deliveries]):
            record.outcomes.update(provider.send_batch(ready))
    batch_record(record, deliveries)


def _send_locked(provider: Provider, delivery_ids: list) -> None:
    """Channels whose send is a write here (in-app): lock, write, record in one transaction."""
    with transaction.atomic():
        if provider.sends_uniform and connection.vendor == "postgresql":
            delivery_ids = _send_uniform_groups(provider, delivery_ids)
            if not delivery_ids:
                return
        deliveries = deliveries_lock(delivery_ids)
        if not deliveries:
            return
        record = BatchRecord(provider=provider)
        ready = _prepare(provider, deliveries, record)
        if ready:
            try:
                with transaction.atomic():  # a failed write is undone alone; the locks stay
                    record.outcomes.update(provider.send_bulk(ready))
            except Exception as exc:  # noqa: BLE001 — the whole batch failed; retry it all
                logger.exception("the %s batch failed", provider.channel)
                error = TransientError(f"{type(exc).__name__} while sending the batch.")
                record.outcomes.update({d.pk: error for d in ready})
        batch_record(record, deliveries, locked=True)
        # Rules with escalation: the follow-up e-mail/SMS waits, queued, for N minutes.
        escalations_create(deliveries=[d for d in ready
                                       if isinstance(record.outcomes.get(d.pk), SendResult)])


def _send_uniform_groups(provider: Provider, delivery_ids: list) -> list:
    """Send, set-based, every part of the batch whose words are the same for all its
    recipients (one event and rule, a template that reads nothing per recipient); return the
    ids left for the per-delivery path (personal words, digests, escalations, problems)."""
    started = timezone.now()
    groups: dict[tuple, list[LockedRow]] = {}
    rest = []
    for row in deliveries_lock_rows(delivery_ids):
        if row.parent_id or row.subscriber_id is None or row.recipient_key.startswith("digest:"):
            rest.append(row.pk)
        else:
            groups.setdefault((row.event_id, row.rule_id, row.locale), []).append(row)
    events = Event.objects.in_bulk({event_id for event_id, _, _ in groups})
    rules = Rule.objects.select_related("category").in_bulk({r for _, r, _ in groups if r})
    for (event_id, rule_id, locale), rows in groups.items():
        event, rule = events[event_id], rules.get(rule_id)
        rendered = render_uniform(channel=provider.channel, event=event, rule=rule, locale=locale)
        if rendered is None or (rule is not None and rule.escalate_channel):
            rest += [row.pk for row in rows]
            continue
        results = provider.send_uniform([row.pk for row in rows], rendered, event=event, rule=rule)
        attempts = {row.pk: row.attempts for row in rows}
        for delivered in (True, False):
            batch_record_sent([(pk, attempts[pk], result.provider_message_id)
                               for pk, result in results.items() if result.delivered == delivered],
                              delivered=delivered, rendered=rendered, started_at=started)
        rest += [row.pk for row in rows if row.pk not in results]
    return rest
