"""Preferences applied when deliveries are created: muted → skipped, quiet hours → deferred.

Called by the dispatch step for each rule's new deliveries, with two queries
for the whole batch. Critical categories pass untouched. Quiet hours hold
every channel except the in-app inbox (a silent row disturbs nobody) until
the window ends in the subscriber's time zone; the delivery waits in the
database and the periodic dispatcher sends it when it is due. E-mail to a
subscriber whose address hard-bounced or drew a complaint is skipped as
``undeliverable`` whatever the category.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

from inbox.models import Preference, QuietHours
from notifications.models import Channel, Delivery, DeliveryStatus, Rule, SkipReason


def quiet_hours_end(*, now: datetime, start: time, end: time, tz_name: str) -> datetime | None:
    """When the window around ``now`` ends (aware), or None when ``now`` is outside it."""
    zone = zoneinfo.ZoneInfo(tz_name)
    local = now.astimezone(zone)
    clock = local.time()
    spans_midnight = start > end
    inside = (start <= clock or clock < end) if spans_midnight else (start <= clock < end)
    if not inside:
        return None
    end_date = local.date()
    if spans_midnight and clock >= start:
        end_date += timedelta(days=1)
    # Built as wall-clock time in the zone, so a DST change inside the window is honoured.
    return datetime.combine(end_date, end, tzinfo=zone)


def deliveries_skip_undeliverable(*, deliveries: list[Delivery]) -> None:
    """Skip e-mails to subscribers whose address hard-bounced or complained, in place.

    Applies to critical categories too: an address that bounces cannot be reached at all.
    """
    for delivery in deliveries:
        if (delivery.status == DeliveryStatus.QUEUED and delivery.channel == Channel.EMAIL
                and delivery.subscriber_id is not None
                and delivery.subscriber.email_undeliverable_at is not None):
            delivery.status, delivery.skip_reason = DeliveryStatus.SKIPPED, SkipReason.UNDELIVERABLE


def deliveries_gate(*, deliveries: list[Delivery], rule: Rule, now: datetime) -> None:
    """Mark muted deliveries skipped and defer those in quiet hours, in place."""
    deliveries_skip_undeliverable(deliveries=deliveries)
    if rule.category_id is not None and rule.category.critical:
        return
    subscriber_ids = {d.subscriber_id for d in deliveries
                      if d.subscriber_id and d.status == DeliveryStatus.QUEUED}
    if not subscriber_ids:
        return
    muted = set()
    if rule.category_id is not None:
        muted = set(Preference.objects.filter(
            subscriber_id__in=subscriber_ids, category_id=rule.category_id, enabled=False
        ).values_list("subscriber_id", "channel"))
    quiet = {q.subscriber_id: q for q in QuietHours.objects.filter(
        subscriber_id__in=subscriber_ids, enabled=True)}
    for delivery in deliveries:
        if delivery.status != DeliveryStatus.QUEUED or delivery.subscriber_id is None:
            continue
        if (delivery.subscriber_id, delivery.channel) in muted:
            delivery.status, delivery.skip_reason = DeliveryStatus.SKIPPED, SkipReason.PREFERENCE
            continue
        window = quiet.get(delivery.subscriber_id)
        if window is None or delivery.channel == Channel.INAPP:
            continue
        until = quiet_hours_end(now=now, start=window.start, end=window.end,
                                tz_name=window.timezone)
        if until is not None:
            delivery.next_attempt_at = until
            delivery.last_error = f"Held for quiet hours until {until.isoformat()}."
