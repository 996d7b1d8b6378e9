"""Accepting triggers: validation, idempotency, and the hand-off to the pipeline.

Accepted means committed: the Event row is written in one transaction and the
processing task is queued only after that commit, so a broker outage delays an
event but cannot lose it (the sweeper re-queues events left ``received``).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.handoff import event_enqueue_on_commit
from notifications.models import ApiKey, Application, Event, EventStatus
from notifications.models.applications import directory_id_for

EVENT_TYPE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")


class IdempotencyConflict(Exception):
    """The idempotency key was used before with a different request."""


def _request_hash(event_type: str, recipients: Any, data: Any,
                  send_at: datetime | None = None) -> str:
    parts = [event_type, recipients, data]
    if send_at is not None:  # only when given, so hashes of earlier requests stay valid
        parts.append(send_at.isoformat())
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def event_ingest(*, event_type: str, recipients: list | None, data: dict | None,
                 application: Application | None = None, api_key: ApiKey | None = None,
                 idempotency_key: str | None = None,
                 send_at: datetime | None = None,
                 directory_id: int | None = None) -> tuple[Event, bool]:
    """Validate and store a trigger; return ``(event, created)``.

    Raise ``ValidationError`` naming the bad field, or ``IdempotencyConflict``
    when the key was already used for a different request. A repeated request
    with the same key returns the original event and queues nothing.
    A future ``send_at`` stores the event as ``scheduled``; the scheduler
    queues it when it is due. A past one means now.
    """
    from notifications.services.recipients import inline_subscribers_upsert, recipients_parse
    from notifications.services.scheduling import send_at_check

    if not isinstance(event_type, str) or not EVENT_TYPE_RE.match(event_type):
        raise ValidationError({"event": ["Use 1-200 letters, digits, '.', '_', '-' or ':'."]})
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ValidationError({"data": ["Must be a JSON object."]})
    if idempotency_key is not None and not (0 < len(idempotency_key) <= 255):
        raise ValidationError({"idempotency_key": ["Must be 1-255 characters."]})
    recipients = recipients or []
    later = send_at_check(send_at=send_at, now=timezone.now())
    request_hash = _request_hash(event_type, recipients, data, send_at)

    if idempotency_key:
        existing = _existing(application, idempotency_key)
        if existing is not None:
            return _replayed(existing, request_hash), False

    # Names in ``to`` are the Application's (staff may name a directory of their own).
    directory_id = directory_id or directory_id_for(application)
    # A trigger through an API key may not name Apprise URLs (staff's only).
    parsed = recipients_parse(recipients, directory_id=directory_id, staff=api_key is None)
    try:
        with transaction.atomic():
            inline_subscribers_upsert(parsed, directory_id=directory_id)
            event = Event.objects.create(
                application=application, api_key=api_key, directory_id=directory_id,
                event_type=event_type, data=data,
                recipients=recipients, idempotency_key=idempotency_key or None,
                request_hash=request_hash, send_at=send_at,
                status=EventStatus.SCHEDULED if later else EventStatus.RECEIVED,
            )
            if later is None:
                event_enqueue_on_commit(event_id=event.pk)
    except IntegrityError:
        # Two identical requests raced; the other one committed first.
        existing = _existing(application, idempotency_key) if idempotency_key else None
        if existing is None:
            raise
        return _replayed(existing, request_hash), False
    return event, True


def _existing(application: Application | None, key: str) -> Event | None:
    return Event.objects.filter(application=application, idempotency_key=key).first()


def _replayed(event: Event, request_hash: str) -> Event:
    if event.request_hash != request_hash:
        raise IdempotencyConflict(
            "This idempotency key was already used with a different request body.")
    return event


