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
from notifications.providers import subscriber_addressed_channels
from notifications.services.digests import rule_digests
from notifications.services.rendering import SubscriberWords, render_uniform, template_lookup
from notifications.services.throttling import throttle_limits
from notifications.templating import TemplateProblem


def set_based_possible(rule: Rule) -> bool:
    """Whether this rule's subscriber deliveries can be written by ``deliveries_insert_select``."""
    return (connection.vendor == "postgresql" and settings.FANOUT_SET_BASED
            and not rule_digests(rule) and throttle_limits(rule) is None)


def quiet_hours_apply(rule: Rule, channels: list[str]) -> bool:
    """Whether quiet hours can hold any of these deliveries (they never hold the inbox)."""
    critical = rule.category_id is not None and rule.category.critical
    return not critical and any(channel != Channel.INAPP for channel in channels)


def inbox_words_for(event, rule: Rule) -> InboxWords | None:
    """How ``rule``'s in-app words for ``event`` can be written during the fan-out: rendered
    once when they are the same for everyone, else per subscriber of each chunk; None when
    something must happen between writing and sending (a delay, an escalation) or the words
    depend on each subscriber's language."""
    if rule.delay_seconds or rule.escalate_channel:
        return None
    per_locale = MessageTemplate.objects.filter(
        Q(rule=rule) | Q(rule__isnull=True, event_type=event.event_type),
        channel__in=[Channel.INAPP, Channel.EMAIL]).exclude(locale="")
    if per_locale.exists():
        return None
    rendered = render_uniform(channel=Channel.INAPP, event=event, rule=rule)
    if rendered is not None:
        return InboxWords(event=event, category_id=rule.category_id, rendered=rendered)
    template = template_lookup(rule=rule, event_type=event.event_type, channel=Channel.INAPP,
                               locale="")
    if template is None:
        return None
    return InboxWords(event=event, category_id=rule.category_id,
                      personal=SubscriberWords(template, event))


@dataclass
class InboxWords:
    """In-app words written by the fan-out itself: ``rendered`` once for everyone, or
    ``personal``, rendered for each subscriber of a chunk (``chunk_render``)."""

    event: object
    category_id: int | None
    rendered: dict | None = None
    personal: SubscriberWords | None = None

    def inbox_fields(self, rendered: dict) -> dict:
        from notifications.providers import provider_for

        return provider_for(Channel.INAPP).words_for(rendered, event=self.event)

    def chunk_render(self, chunk_sql: str, chunk_params: list) -> dict[int, dict]:
        """Each chunk subscriber's rendered words, by subscriber id; a subscriber whose
        words cannot be rendered is left out (their delivery reports the problem)."""
        if self.personal is None:
            return {}
        columns = ("external_id", "email", "phone", "first_name", "last_name", "locale",
                   "timezone", "data")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, {', '.join(columns)} FROM "  # noqa: S608
                           f"{Subscriber._meta.db_table} WHERE id IN ({chunk_sql})", chunk_params)
            rows = cursor.fetchall()
        words = {}
        for subscriber_id, *values in rows:
            context = dict(zip(columns, values, strict=True))
            context["data"] = context["data"] or {}
            try:
                words[subscriber_id] = self.personal.render(
                    context, channel=Channel.INAPP, address=context["external_id"])
            except TemplateProblem:
                continue
        return words


@dataclass
class ChunkWritten:
    """What one chunk wrote: rows to hand to the senders and inbox rows already delivered."""

    queued: list[tuple[object, str]] = field(default_factory=list)  # (pk, channel), due now
    inbox: list[tuple[int, int, object]] = field(default_factory=list)  # (id, subscriber, delivery)
    words: dict[int, dict] = field(default_factory=dict)  # personal words, by subscriber id


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
    shared = inbox_words.inbox_fields(inbox_words.rendered) if (
        direct and inbox_words.rendered is not None) else None
    personal = inbox_words.chunk_render(chunk_sql, chunk_params) if direct else {}
    fields = {subscriber_id: inbox_words.inbox_fields(rendered)
              for subscriber_id, rendered in personal.items()}
    template_row = shared or (next(iter(fields.values())) if fields else None) or {
        "title": "", "body": "", "action_url": "", "level": "info", "data": {}}
    # The chunk's query comes with positional placeholders: name them for one parameter dict.
    chunk_named = chunk_sql
    for index in range(len(chunk_params)):
        chunk_named = chunk_named.replace("%s", f"%(chunk{index})s", 1)
    # Names come from model metadata and the chunk's compiled query; values are all bound.
    sql = f"""
        WITH pairs AS (
            SELECT s.id AS subscriber_id, ch.channel, s.email_undeliverable_at,
                   CASE ch.channel WHEN %(email)s THEN s.email WHEN %(sms)s THEN s.phone
                        ELSE CASE WHEN ch.channel = ANY(%(by_subscriber)s::varchar[])
                                  THEN s.external_id
                                  ELSE COALESCE(s.channel_addresses ->> ch.channel, '') END
                   END AS address
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
        ), words AS (
            -- Personal words, rendered per subscriber in Python (empty for shared words).
            SELECT * FROM unnest(%(w_ids)s::bigint[], %(w_titles)s::text[],
                                 %(w_bodies)s::text[], %(w_urls)s::text[], %(w_rendered)s::text[])
                AS w(subscriber_id, title, body, action_url, rendered)
        ), numbered AS (
            -- Inbox rows written here take their ids from the inbox's own sequence now,
            -- so the delivery can name its inbox row in the same INSERT.
            SELECT j.*, w.rendered AS words_rendered,
                   CASE WHEN %(direct)s AND j.skip_reason = '' AND j.channel = %(inapp)s
                             AND (%(shared)s OR w.subscriber_id IS NOT NULL)
                        THEN nextval(pg_get_serial_sequence(%(inbox_table)s, 'id'))
                   END AS inbox_id
            FROM judged j LEFT JOIN words w
                ON w.subscriber_id = j.subscriber_id AND j.channel = %(inapp)s
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
                CASE WHEN n.inbox_id IS NOT NULL
                     THEN COALESCE(n.words_rendered, %(rendered)s)::jsonb ELSE '{{}}'::jsonb END,
                %(now)s, %(now)s,
                CASE WHEN n.inbox_id IS NOT NULL THEN %(now)s::timestamptz END
            FROM numbered n
            ON CONFLICT ON CONSTRAINT unique_delivery_per_recipient_channel DO NOTHING
            RETURNING id, channel, status, subscriber_id, provider_message_id
        ), inboxed AS (
            INSERT INTO {inbox} (id, subscriber_id, delivery_id, category_id, title, body,
                action_url, level, data, created_at)
            SELECT substr(d.provider_message_id, 7)::bigint, d.subscriber_id, d.id,
                %(inbox_category)s, COALESCE(w.title, %(title)s), COALESCE(w.body, %(body)s),
                COALESCE(w.action_url, %(action_url)s), %(level)s, %(data)s::jsonb, %(now)s
            FROM written d LEFT JOIN words w ON w.subscriber_id = d.subscriber_id
            WHERE d.status = %(delivered)s
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
        "by_subscriber": sorted(subscriber_addressed_channels()), "channels": list(channels),
        "skip_quiet": skip_quiet, "muting": muting,
        "category": rule.category_id, "no_address": SkipReason.NO_ADDRESS,
        "undeliverable": SkipReason.UNDELIVERABLE, "preference": SkipReason.PREFERENCE,
        "event": event_id, "rule": rule.pk, "queued": DeliveryStatus.QUEUED,
        "skipped": DeliveryStatus.SKIPPED, "delivered": DeliveryStatus.DELIVERED,
        "due": due, "now": now, "direct": direct, "inbox_table": Notification._meta.db_table,
        "rendered": json.dumps(inbox_words.rendered if shared else {}),
        "inbox_category": inbox_words.category_id if inbox_words else None,
        "title": template_row["title"], "body": template_row["body"],
        "action_url": template_row["action_url"], "level": template_row["level"],
        "data": json.dumps(template_row["data"]), "shared": shared is not None,
        "w_ids": list(fields), "w_titles": [f["title"] for f in fields.values()],
        "w_bodies": [f["body"] for f in fields.values()],
        "w_urls": [f["action_url"] for f in fields.values()],
        "w_rendered": [json.dumps(personal[subscriber_id]) for subscriber_id in fields],
        "sent": DeliveryAttempt.Outcome.SENT,
    }
    params.update({f"chunk{index}": value for index, value in enumerate(chunk_params)})
    result = ChunkWritten(words=personal)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for pk, channel, status, subscriber_id, message_id in cursor.fetchall():
            if status == DeliveryStatus.DELIVERED:
                result.inbox.append((int(message_id[6:]), subscriber_id, pk))
            elif status == DeliveryStatus.QUEUED and due is None:
                result.queued.append((pk, channel))
    return result
