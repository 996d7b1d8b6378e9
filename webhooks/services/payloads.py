"""The body of a webhook: ``{"type", "timestamp", "data"}`` as compact JSON, built once.

The bytes built here are stored on the message and are exactly what is signed
and sent on every attempt, so a retry or a resend carries the same body. A body
over ``WEBHOOK_MAX_PAYLOAD_BYTES`` is refused with ``PayloadTooLarge``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.conf import settings


class PayloadTooLarge(Exception):
    """The event's payload is over the size cap; the message says by how much."""


def timestamp_text(moment: datetime) -> str:
    """ISO 8601 in UTC with millisecond precision and a ``Z``, e.g. 2025-01-31T12:00:00.000Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def payload_build(*, event_type: str, occurred_at: datetime, data: object) -> bytes:
    """The compact JSON body; raise ``PayloadTooLarge`` when it is over the cap."""
    document = {"type": event_type, "timestamp": timestamp_text(occurred_at), "data": data}
    try:
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        # A lone surrogate in the data cannot be UTF-8; escaped JSON carries it losslessly.
        body = json.dumps(document, separators=(",", ":")).encode()
    limit = settings.WEBHOOK_MAX_PAYLOAD_BYTES
    if len(body) > limit:
        raise PayloadTooLarge(f"The webhook payload of this {event_type!r} event is {len(body)} "
                              f"bytes, over the {limit}-byte limit (WEBHOOK_MAX_PAYLOAD_BYTES); "
                              "send less data with the event, e.g. an id the receiver can look up.")
    return body
