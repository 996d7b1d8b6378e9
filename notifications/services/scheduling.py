"""Time-shifted sending: events scheduled for later, rule delays and recurring events.

A scheduled event is committed at once with status ``scheduled`` and its
``send_at``; a beat task (every few seconds) moves the due ones to
``received`` and queues them, so a restart or a long wait loses nothing — the
database is the schedule, not a broker countdown. Rule delays work the same
way one level down: the rule's deliveries are written with a future
``next_attempt_at`` and the due-delivery sweeper sends them when they are due.
Recurring events are django-celery-beat periodic tasks that run
``notifications.trigger_event`` on a crontab in a chosen time zone.
"""

from __future__ import annotations

import json
import logging
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from notifications.handoff import event_enqueue_on_commit
from notifications.models import Delivery, DeliveryStatus, Event, EventStatus, Rule

logger = logging.getLogger(__name__)

# Far enough for "remind me next quarter", near enough that a typo in the
# year is refused instead of silently parking an event for a decade.
SEND_AT_MAX_AHEAD = timedelta(days=366)
TRIGGER_EVENT_TASK = "notifications.trigger_event"


def send_at_parse(value: Any) -> datetime | None:
    """Parse an ISO-8601 timestamp with an offset; raise ``ValidationError`` naming ``send_at``."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = parse_datetime(str(value))
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationError({"send_at": ["Use an ISO-8601 date and time with an offset, "
                                           "e.g. 2026-05-01T09:00:00+02:00."]})
    if timezone.is_naive(parsed):
        # A time without an offset means different moments to different readers.
        raise ValidationError({"send_at": ["Add a UTC offset (e.g. +02:00 or Z)."]})
    try:
        # In UTC: PostgreSQL refuses offsets beyond ±15:59, which Python accepts.
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValidationError({"send_at": ["The date is out of range."]}) from None


def send_at_check(*, send_at: datetime | None, now: datetime) -> datetime | None:
    """Return the moment to process at, or None for "now"; refuse one beyond the cap."""
    if send_at is None or send_at <= now:
        return None
    if send_at - now > SEND_AT_MAX_AHEAD:
        raise ValidationError({"send_at": [f"At most {SEND_AT_MAX_AHEAD.days} days ahead."]})
    return send_at


def events_release_due(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Move scheduled events whose time has come to ``received`` and queue their processing."""
    now = now or timezone.now()
    with transaction.atomic():
        # skip_locked: two beat ticks overlapping (or two dispatchers) split the
        # work instead of queueing the same event twice.
        ids = list(Event.objects.select_for_update(skip_locked=True)
                   .filter(status=EventStatus.SCHEDULED, send_at__lte=now)
                   .order_by("send_at").values_list("pk", flat=True)[:limit])
        if not ids:
            return 0
        Event.objects.filter(pk__in=ids, status=EventStatus.SCHEDULED).update(
            status=EventStatus.RECEIVED)
        for event_id in ids:
            event_enqueue_on_commit(event_id=event_id)
    logger.info("released %d scheduled events", len(ids))
    return len(ids)


def deliveries_delay(*, deliveries: list[Delivery], rule: Rule, now: datetime) -> None:
    """Hold a delayed rule's queued deliveries until ``now + delay``, in place.

    Runs after the preference gate, so a later quiet-hours end wins over a
    shorter delay and the delay never shortens a quiet-hours hold.
    """
    if not rule.delay_seconds:
        return
    due = now + timedelta(seconds=rule.delay_seconds)
    for delivery in deliveries:
        if delivery.status != DeliveryStatus.QUEUED:
            continue
        if delivery.next_attempt_at is None or delivery.next_attempt_at < due:
            delivery.next_attempt_at = due


@dataclass(frozen=True)
class Crontab:
    minute: str = "0"
    hour: str = "*"
    day_of_week: str = "*"
    day_of_month: str = "*"
    month_of_year: str = "*"
    timezone: str = "UTC"


def recurring_event_save(*, task=None, name: str, event_type: str, recipients: list,
                         data: dict, crontab: Crontab, enabled: bool = True,
                         application_name: str = "", description: str = "",
                         commit: bool = True):
    """Create or update the periodic task that triggers an event on a crontab.

    Raise ``ValidationError`` naming the field for a bad event type, recipient
    (unknown group or subscriber), data, time zone, crontab field or a task
    name in use. With ``commit=False`` everything is checked and nothing is
    written (an admin form validates first and saves later): save the
    returned task's ``crontab`` first when it has no primary key yet.
    """
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from notifications.models import Application
    from notifications.models.applications import directory_id_for
    from notifications.services.events import EVENT_TYPE_RE
    from notifications.services.recipients import recipients_parse

    if not EVENT_TYPE_RE.match(event_type or ""):
        raise ValidationError({"event_type": ["Use 1-200 letters, digits, '.', '_', '-' or ':'."]})
    application = Application.objects.filter(name=application_name).first() \
        if application_name else None
    if application_name and application is None:
        raise ValidationError({"application": [f"No application named {application_name!r}."]})
    # Names in ``to`` are looked up where the Application's events will look them up.
    recipients_parse(recipients, directory_id=directory_id_for(application))
    if not isinstance(data, dict):
        raise ValidationError({"data": ["Must be a JSON object."]})
    try:
        zone = zoneinfo.ZoneInfo(crontab.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"timezone": [f"Unknown time zone {crontab.timezone!r}."]}) from None
    schedule = CrontabSchedule(minute=crontab.minute, hour=crontab.hour,
                               day_of_week=crontab.day_of_week,
                               day_of_month=crontab.day_of_month,
                               month_of_year=crontab.month_of_year, timezone=zone)
    schedule.full_clean(exclude=["timezone"])
    # Tasks with the same crontab share one schedule row, as in beat's own admin.
    schedule = CrontabSchedule.objects.filter(
        minute=schedule.minute, hour=schedule.hour, day_of_week=schedule.day_of_week,
        day_of_month=schedule.day_of_month, month_of_year=schedule.month_of_year,
        timezone=zone).first() or schedule
    task = task or PeriodicTask()
    task.name, task.task, task.enabled = name, TRIGGER_EVENT_TASK, enabled
    task.description = description
    task.crontab, task.interval, task.solar, task.clocked = schedule, None, None, None
    task.args = "[]"
    task.kwargs = json.dumps({"event_type": event_type, "to": recipients, "data": data,
                              "application": application_name or None})
    task.validate_unique()  # the name is unique; say so as a field error, not a 500
    if commit:
        recurring_event_commit(task=task)
    return task


def recurring_event_commit(*, task) -> None:
    """Write a task prepared by ``recurring_event_save(commit=False)`` and its new crontab."""
    with transaction.atomic():
        if task.crontab.pk is None:
            task.crontab.save()
        task.save()
