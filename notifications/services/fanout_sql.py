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

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from inbox.models import Preference, QuietHours
from notifications.models import Channel, Delivery, DeliveryStatus, Rule, SkipReason, Subscriber
from notifications.services.digests import rule_digests
from notifications.services.throttling import throttle_limits


def set_based_possible(rule: Rule) -> bool:
    """Whether this rule's subscriber deliveries can be written by ``deliveries_insert_select``."""
    return (connection.vendor == "postgresql" and settings.FANOUT_SET_BASED
            and not rule_digests(rule) and throttle_limits(rule) is None)


def quiet_hours_apply(rule: Rule, channels: list[str]) -> bool:
    """Whether quiet hours can hold any of these deliveries (they never hold the inbox)."""
    critical = rule.category_id is not None and rule.category.critical
    return not critical and any(channel != Channel.INAPP for channel in channels)


def deliveries_insert_select(*, event_id, rule: Rule, channels: list[str], chunk_sql: str,
                             chunk_params: list, now: datetime) -> list[tuple[object, str, str]]:
    """Write the rule's deliveries for the subscribers ``chunk_sql`` selects (their ids).

    Return ``(pk, channel, status)`` of each row written now; rows due now
    (queued, no delay) are already marked ``enqueued_at``.
    """
    qn = connection.ops.quote_name
    table = qn(Delivery._meta.db_table)
    subscribers = qn(Subscriber._meta.db_table)
    preferences = qn(Preference._meta.db_table)
    quiet_hours = qn(QuietHours._meta.db_table)
    critical = rule.category_id is not None and rule.category.critical
    muting = rule.category_id is not None and not critical
    due = now + timedelta(seconds=rule.delay_seconds) if rule.delay_seconds else None
    skip_quiet = quiet_hours_apply(rule, channels)
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
        )
        INSERT INTO {table} (id, event_id, rule_id, subscriber_id, channel, address,
            recipient_key, status, skip_reason, attempts, next_attempt_at, lease_expires_at,
            enqueued_at, provider_message_id, last_error, error_code, parent_id, opened_at,
            clicked_at, rendered, created_at, updated_at, sent_at)
        SELECT gen_random_uuid(), %(event)s, %(rule)s, j.subscriber_id, j.channel, j.address,
            'sub:' || j.subscriber_id,
            CASE WHEN j.skip_reason = '' THEN %(queued)s ELSE %(skipped)s END, j.skip_reason, 0,
            CASE WHEN j.skip_reason = '' THEN %(due)s::timestamptz END, NULL,
            CASE WHEN j.skip_reason = '' AND %(due)s::timestamptz IS NULL
                 THEN %(now)s::timestamptz END,
            '', '', '', NULL, NULL, NULL, '{{}}'::jsonb, %(now)s, %(now)s, NULL
        FROM judged j
        ON CONFLICT ON CONSTRAINT unique_delivery_per_recipient_channel DO NOTHING
        RETURNING id, channel, status
    """  # noqa: S608
    params = {
        "email": Channel.EMAIL, "sms": Channel.SMS, "inapp": Channel.INAPP,
        "channels": list(channels), "skip_quiet": skip_quiet, "muting": muting,
        "category": rule.category_id, "no_address": SkipReason.NO_ADDRESS,
        "undeliverable": SkipReason.UNDELIVERABLE, "preference": SkipReason.PREFERENCE,
        "event": event_id, "rule": rule.pk, "queued": DeliveryStatus.QUEUED,
        "skipped": DeliveryStatus.SKIPPED, "due": due, "now": now,
    }
    params.update({f"chunk{index}": value for index, value in enumerate(chunk_params)})
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
