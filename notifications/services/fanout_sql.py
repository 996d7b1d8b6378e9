"""Fan-out, set-based: one ``INSERT … SELECT`` writes a chunk of a rule's deliveries (PostgreSQL).

The statement joins the chunk of the audience with each channel, takes the
address from the subscriber's columns, judges every pair the way the
row-by-row path does — no address, undeliverable e-mail, muted by a
preference — and inserts the rows with ``ON CONFLICT DO NOTHING`` on the
delivery's unique key, so processing an event twice writes nothing twice. Rows
due at once are marked handed over in the same statement, and ``RETURNING``
gives back exactly the rows written now, which are the ones to enqueue.

Only the common case comes here (see ``set_based_possible``): a rule that
neither digests nor throttles. Subscribers with quiet hours are left out of
the statement and go through the row-by-row path, which computes the end of
each window in the subscriber's own time zone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q

from inbox.models import Notification, Preference, QuietHours
from notifications.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    MessageTemplate,
    Rule,
    SkipReason,
    Subscriber,
)
from notifications.services.digests import rule_digests
from notifications.services.rendering import render_uniform
from notifications.services.throttling import throttle_limits


def set_based_possible(rule: Rule) -> bool:
    """Whether this rule's subscriber deliveries can be written by ``deliveries_insert_select``."""
    return (connection.vendor == "postgresql" and settings.FANOUT_SET_BASED
            and not rule_digests(rule) and throttle_limits(rule) is None)


def quiet_hours_apply(rule: Rule, channels: list[str]) -> bool:
    """Whether quiet hours can hold any of these deliveries (they never hold the inbox)."""
    critical = rule.category_id is not None and rule.category.critical
    return not critical and any(channel != Channel.INAPP for channel in channels)


def inbox_words_uniform(event, rule: Rule) -> InboxWords | None:
    """The in-app words of ``rule`` for ``event`` when every recipient gets the same ones and
    nothing must happen between writing and sending (no delay, no escalation); else None."""
    from notifications.providers import provider_for

    if rule.delay_seconds or rule.escalate_channel:
        return None
    per_locale = MessageTemplate.objects.filter(
        Q(rule=rule) | Q(rule__isnull=True, event_type=event.event_type),
        channel__in=[Channel.INAPP, Channel.EMAIL]).exclude(locale="")
    if per_locale.exists():
        return None  # the words depend on each subscriber's language
    rendered = render_uniform(channel=Channel.INAPP, event=event, rule=rule)
    if rendered is None:
        return None
    words = provider_for(Channel.INAPP).words_for(rendered, event=event)
    return InboxWords(title=words["title"], body=words["body"], action_url=words["action_url"],
                      level=words["level"], category_id=rule.category_id, data=words["data"],
                      rendered=rendered)


@dataclass(frozen=True)
class InboxWords:
    """An in-app message that says the same to every recipient, written during the fan-out."""

    title: str
    body: str
    action_url: str
    level: str
    category_id: int | None
    data: dict
    rendered: dict


@dataclass
class ChunkWritten:
    """What one chunk wrote: rows to hand to the senders and inbox rows already delivered."""

    queued: list[tuple[object, str]] = field(default_factory=list)  # (pk, channel), due now
    inbox: list[tuple[int, int, object]] = field(default_factory=list)  # (id, subscriber, delivery)


def deliveries_insert_select(*, event_id, rule: Rule, channels: list[str], chunk_sql: str,
                             chunk_params: list, now: datetime,
                             inbox_words: InboxWords | None = None) -> ChunkWritten:
    """Write the rule's deliveries for the subscribers ``chunk_sql`` selects (their ids).

    Rows due now (queued, no delay) are marked ``enqueued_at`` and returned for
    the caller to enqueue. With ``inbox_words`` the in-app deliveries are not
    queued at all: the same statement writes their inbox rows and attempts
    and inserts them ``delivered`` — the inbox row *is* the in-app send, so a
    broadcast writes each of its rows once, as ``COPY`` would.
    """
    qn = connection.ops.quote_name
    table = qn(Delivery._meta.db_table)
    subscribers = qn(Subscriber._meta.db_table)
    preferences = qn(Preference._meta.db_table)
    quiet_hours = qn(QuietHours._meta.db_table)
    inbox = qn(Notification._meta.db_table)
    attempts = qn(DeliveryAttempt._meta.db_table)
    critical = rule.category_id is not None and rule.category.critical
    muting = rule.category_id is not None and not critical
    due = now + timedelta(seconds=rule.delay_seconds) if rule.delay_seconds else None
    skip_quiet = quiet_hours_apply(rule, channels)
    direct = inbox_words is not None and due is None
    words = inbox_words or InboxWords("", "", "", "info", None, {}, {})
    # The chunk's query comes with positional placeholders: name them for one parameter dict.
    chunk_named = chunk_sql
    for index in range(len(chunk_params)):
        chunk_named = chunk_named.replace("%s", f"%(chunk{index})s", 1)
    # Names come from model metadata and the chunk's compiled query; values are all bound.
    sql = f"""
        WITH pairs AS (
            SELECT s.id AS subscriber_id, ch.channel, s.email_undeliverable_at,
                   CASE ch.channel WHEN %(email)s THEN s.email WHEN %(sms)s THEN s.phone
                        WHEN %(inapp)s THEN s.external_id
                        ELSE COALESCE(s.channel_addresses ->> ch.channel, '') END AS address
            FROM {subscribers} s CROSS JOIN unnest(%(channels)s::varchar[]) AS ch(channel)
            WHERE s.id IN ({chunk_named})
              AND NOT (%(skip_quiet)s AND ch.channel <> %(inapp)s AND EXISTS (
                  SELECT 1 FROM {quiet_hours} q WHERE q.subscriber_id = s.id AND q.enabled))
        ), judged AS (
            SELECT p.*, CASE
                WHEN p.address = '' THEN %(no_address)s
                WHEN p.channel = %(email)s AND p.email_undeliverable_at IS NOT NULL
                    THEN %(undeliverable)s
                WHEN %(muting)s AND EXISTS (
                    SELECT 1 FROM {preferences} pr WHERE pr.subscriber_id = p.subscriber_id
                      AND pr.category_id = %(category)s AND pr.channel = p.channel
                      AND NOT pr.enabled) THEN %(preference)s
                ELSE '' END AS skip_reason
            FROM pairs p
        ), numbered AS (
            -- Inbox rows written here take their ids from the inbox's own sequence now,
            -- so the delivery can name its inbox row in the same INSERT.
            SELECT j.*, CASE WHEN %(direct)s AND j.skip_reason = '' AND j.channel = %(inapp)s
                             THEN nextval(pg_get_serial_sequence(%(inbox_table)s, 'id'))
                        END AS inbox_id
            FROM judged j
        ), written AS (
            INSERT INTO {table} (id, event_id, rule_id, subscriber_id, channel, address,
                recipient_key, status, skip_reason, attempts, next_attempt_at, lease_expires_at,
                enqueued_at, provider_message_id, last_error, error_code, parent_id, opened_at,
                clicked_at, rendered, created_at, updated_at, sent_at)
            SELECT gen_random_uuid(), %(event)s, %(rule)s, n.subscriber_id, n.channel, n.address,
                'sub:' || n.subscriber_id,
                CASE WHEN n.inbox_id IS NOT NULL THEN %(delivered)s
                     WHEN n.skip_reason = '' THEN %(queued)s ELSE %(skipped)s END,
                n.skip_reason, CASE WHEN n.inbox_id IS NOT NULL THEN 1 ELSE 0 END,
                CASE WHEN n.skip_reason = '' AND n.inbox_id IS NULL THEN %(due)s::timestamptz END,
                NULL,
                CASE WHEN n.skip_reason = '' AND %(due)s::timestamptz IS NULL
                     THEN %(now)s::timestamptz END,
                CASE WHEN n.inbox_id IS NOT NULL THEN 'inbox:' || n.inbox_id ELSE '' END,
                '', '', NULL, NULL, NULL,
                CASE WHEN n.inbox_id IS NOT NULL THEN %(rendered)s::jsonb ELSE '{{}}'::jsonb END,
                %(now)s, %(now)s,
                CASE WHEN n.inbox_id IS NOT NULL THEN %(now)s::timestamptz END
            FROM numbered n
            ON CONFLICT ON CONSTRAINT unique_delivery_per_recipient_channel DO NOTHING
            RETURNING id, channel, status, subscriber_id, provider_message_id
        ), inboxed AS (
            INSERT INTO {inbox} (id, subscriber_id, delivery_id, category_id, title, body,
                action_url, level, data, created_at)
            SELECT substr(w.provider_message_id, 7)::bigint, w.subscriber_id, w.id,
                %(inbox_category)s, %(title)s, %(body)s, %(action_url)s, %(level)s,
                %(data)s::jsonb, %(now)s
            FROM written w WHERE w.status = %(delivered)s
        ), attempted AS (
            INSERT INTO {attempts} (delivery_id, number, started_at, finished_at, duration_ms,
                outcome, error, provider_message_id)
            SELECT w.id, 1, %(now)s, %(now)s, 0, %(sent)s, '', w.provider_message_id
            FROM written w WHERE w.status = %(delivered)s
        )
        SELECT id, channel, status, subscriber_id, provider_message_id FROM written
    """  # noqa: S608
    params = {
        "email": Channel.EMAIL, "sms": Channel.SMS, "inapp": Channel.INAPP,
        "channels": list(channels), "skip_quiet": skip_quiet, "muting": muting,
        "category": rule.category_id, "no_address": SkipReason.NO_ADDRESS,
        "undeliverable": SkipReason.UNDELIVERABLE, "preference": SkipReason.PREFERENCE,
        "event": event_id, "rule": rule.pk, "queued": DeliveryStatus.QUEUED,
        "skipped": DeliveryStatus.SKIPPED, "delivered": DeliveryStatus.DELIVERED,
        "due": due, "now": now, "direct": direct, "inbox_table": Notification._meta.db_table,
        "rendered": json.dumps(words.rendered), "inbox_category": words.category_id,
        "title": words.title, "body": words.body, "action_url": words.action_url,
        "level": words.level, "data": json.dumps(words.data),
        "sent": DeliveryAttempt.Outcome.SENT,
    }
    params.update({f"chunk{index}": value for index, value in enumerate(chunk_params)})
    result = ChunkWritten()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for pk, channel, status, subscriber_id, message_id in cursor.fetchall():
            if status == DeliveryStatus.DELIVERED:
                result.inbox.append((int(message_id[6:]), subscriber_id, pk))
            elif status == DeliveryStatus.QUEUED and due is None:
                result.queued.append((pk, channel))
    return result
