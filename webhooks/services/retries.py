"""When to try a message again: the Standard Webhooks schedule, jitter and ``Retry-After``.

After the first attempt (at once) a failed message is retried after 5 s, 5 min,
30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (``WEBHOOK_RETRY_SCHEDULE``), each
±20% so that many messages failing together do not come back together. A
receiver that answers 429, 502, 503 or 504 with ``Retry-After`` (seconds or an
HTTP date) is not called again sooner than it asked, up to
``WEBHOOK_RETRY_AFTER_MAX_SECONDS``. The next attempt's time is kept in the
database, on the pipeline's delivery row, not as a countdown in the broker.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.utils import timezone

# Statuses whose Retry-After header is honoured.
RETRY_AFTER_STATUSES = frozenset({429, 502, 503, 504})
JITTER = 0.2


def attempts_allowed() -> int:
    """Automatic attempts a message gets in all: the first plus one per scheduled retry."""
    return 1 + len(settings.WEBHOOK_RETRY_SCHEDULE)


def retry_delay(*, attempts: int, retry_after: float | None = None) -> float | None:
    """Seconds until the next automatic attempt after ``attempts`` failed ones; None: give up."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    if attempts < 1 or attempts > len(schedule):
        return None
    delay = schedule[attempts - 1] * random.uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS))
    return delay


def retry_after_parse(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delay-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # "-0000": HTTP dates are GMT anyway
        when = when.replace(tzinfo=UTC)
    return max((when - (now or timezone.now())).total_seconds(), 0.0)
