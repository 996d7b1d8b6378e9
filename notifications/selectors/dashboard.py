"""Reads behind the admin dashboard: delivery counts, failure rates, latency and health.

Every function here runs a fixed number of aggregate queries, whatever the
number of deliveries, so the page costs the same on a quiet day as on a busy
one. Periods are "the last 24 hours" (hourly buckets) and "the last 7 days"
(daily buckets in the current time zone); deliveries belong to the period in
which they were created. Failure rate counts failed, bounced and undelivered
deliveries against all *finished* ones: queued and sending deliveries are not
finished yet, and skipped ones were never tried, so neither says anything about
how well a provider is doing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Max, Q, Window
from django.db.models.functions import RowNumber, TruncDay, TruncHour
from django.utils import timezone

from notifications.models import Channel, Delivery, DeliveryAttempt, DeliveryStatus
from notifications.providers import REGISTRY, provider_for
from webhooks.models import DisabledReason, Endpoint

SUCCEEDED = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
FAILED = (DeliveryStatus.FAILED, DeliveryStatus.BOUNCED, DeliveryStatus.UNDELIVERED)
FINISHED = (*SUCCEEDED, *FAILED, DeliveryStatus.COMPLAINED)
PENDING = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)
FAILED_ATTEMPTS = (DeliveryAttempt.Outcome.TRANSIENT, DeliveryAttempt.Outcome.PERMANENT)

#: Percentiles are computed in Python on SQLite from at most this many recent attempts
#: per channel: enough for a stable p95, small enough to load on every page view.
LATENCY_SAMPLE_PER_CHANNEL = 2000
#: A channel is "failing" when most of its last this-many attempts in the last hour failed.
RECENT_ATTEMPTS = 10
#: …and it made at least this many, so one unlucky attempt does not raise the alarm.
RECENT_ATTEMPTS_MIN = 3
RECENT_WINDOW = timedelta(hours=1)
ENDPOINT_LIMIT = 50


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    span: timedelta
    bucket: str  # "hour" or "day"


PERIODS = {
    "24h": Period("24h", "Last 24 hours", timedelta(hours=24), "hour"),
    "7d": Period("7d", "Last 7 days", timedelta(days=7), "day"),
}


@dataclass
class ChannelCounts:
    channel: str
    label: str
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def finished(self) -> int:
        return sum(self.by_status.get(status, 0) for status in FINISHED)

    @property
    def failed(self) -> int:
        return sum(self.by_status.get(status, 0) for status in FAILED)

    @property
    def failure_rate(self) -> float | None:
        """Failed ÷ finished, or None when nothing finished."""
        return self.failed / self.finished if self.finished else None


@dataclass(frozen=True)
class Bucket:
    start: datetime
    succeeded: int
    failed: int


@dataclass(frozen=True)
class Latency:
    channel: str
    label: str
    attempts: int
    median_ms: float
    p95_ms: float
    max_ms: int


@dataclass(frozen=True)
class ProviderProblem:
    channel: str
    label: str
    reason: str
    # The words of the channel's latest failure: often what to fix ("check EMAIL_URL").
    last_error: str = ""


def channel_label(channel: str) -> str:
    return dict(Channel.choices).get(channel, channel)


def period_start(period: Period, now: datetime) -> datetime:
    return now - period.span


def delivery_counts(*, since: datetime) -> list[ChannelCounts]:
    """Deliveries created since ``since`` per channel and status, busiest channel first."""
    rows = (Delivery.objects.filter(created_at__gte=since).order_by()
            .values("channel", "status").annotate(n=Count("pk")))
    channels: dict[str, ChannelCounts] = {}
    for row in rows:
        counts = channels.setdefault(row["channel"], ChannelCounts(
            row["channel"], channel_label(row["channel"])))
        counts.by_status[row["status"]] = row["n"]
    return sorted(channels.values(), key=lambda c: (-c.total, c.channel))


def retrying_count() -> int:
    """Deliveries that failed at least once and wait for another attempt."""
    return Delivery.objects.filter(status=DeliveryStatus.QUEUED, attempts__gt=0).count()


def failure_rate(counts: list[ChannelCounts]) -> float | None:
    finished = sum(c.finished for c in counts)
    return sum(c.failed for c in counts) / finished if finished else None


def bucket_starts(period: Period, now: datetime) -> list[datetime]:
    """The start of every hour (or local day) in the period, oldest first, the current one last."""
    local = timezone.localtime(now)
    if period.bucket == "hour":
        last = local.replace(minute=0, second=0, microsecond=0)
        return [last - timedelta(hours=n) for n in range(23, -1, -1)]
    today = local.date()
    tz = timezone.get_current_timezone()
    days = [today - timedelta(days=n) for n in range(period.span.days - 1, -1, -1)]
    return [datetime(d.year, d.month, d.day, tzinfo=tz) for d in days]


def outcome_series(*, period: Period, now: datetime) -> list[Bucket]:
    """Succeeded and failed deliveries per hour or day, created in the period's buckets."""
    starts = bucket_starts(period, now)
    trunc = TruncHour if period.bucket == "hour" else TruncDay
    rows = (Delivery.objects.filter(created_at__gte=starts[0]).order_by()
            .annotate(bucket=trunc("created_at")).values("bucket")
            .annotate(succeeded=Count("pk", filter=Q(status__in=SUCCEEDED)),
                      failed=Count("pk", filter=Q(status__in=FAILED))))
    found = {row["bucket"]: row for row in rows}
    return [Bucket(start, found.get(start, {}).get("succeeded", 0),
                   found.get(start, {}).get("failed", 0)) for start in starts]


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile(values: list[int], fraction: float) -> float:
    """Linear interpolation between closest ranks: the same answer as ``percentile_cont``."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = fraction * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def slowest_providers(*, since: datetime) -> list[Latency]:
    """Median and p95 attempt duration per channel since ``since``, slowest first."""
    attempts = (DeliveryAttempt.objects.filter(started_at__gte=since, duration_ms__isnull=False)
                .order_by().annotate(channel=F("delivery__channel")))
    totals = attempts.values("channel").annotate(n=Count("pk"), max_ms=Max("duration_ms"))
    if connection.vendor == "postgresql":
        rows = totals.annotate(median=PercentileCont("duration_ms", 0.5),
                               p95=PercentileCont("duration_ms", 0.95))
        stats = {row["channel"]: row for row in rows}
    else:
        stats = {row["channel"]: dict(row) for row in totals}
        sample = (attempts.annotate(rank=Window(RowNumber(), partition_by=F("delivery__channel"),
                                                order_by=F("started_at").desc()))
                  .filter(rank__lte=LATENCY_SAMPLE_PER_CHANNEL)
                  .values_list("channel", "duration_ms"))
        durations: dict[str, list[int]] = defaultdict(list)
        for channel, duration in sample:
            durations[channel].append(duration)
        for channel, row in stats.items():
            row["median"] = percentile(durations[channel], 0.5)
            row["p95"] = percentile(durations[channel], 0.95)
    result = [Latency(channel, channel_label(channel), row["n"], row["median"], row["p95"],
                      row["max_ms"]) for channel, row in stats.items()]
    return sorted(result, key=lambda lat: (-lat.median_ms, -lat.p95_ms, lat.channel))


def failing_providers(*, now: datetime) -> list[ProviderProblem]:
    """Channels whose recent attempts mostly failed, and unconfigured channels with work waiting."""
    recent = (DeliveryAttempt.objects.filter(started_at__gte=now - RECENT_WINDOW)
              .exclude(outcome=DeliveryAttempt.Outcome.PENDING).order_by()
              .annotate(channel=F("delivery__channel"),
                        rank=Window(RowNumber(), partition_by=F("delivery__channel"),
                                    order_by=F("started_at").desc()))
              .filter(rank__lte=RECENT_ATTEMPTS)
              .values_list("channel", "outcome", "started_at", "error"))
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    latest: dict[str, tuple[datetime, str]] = {}  # each channel's latest failure with words
    for channel, outcome, started_at, error in recent:
        tally[channel][0] += 1
        tally[channel][1] += outcome in FAILED_ATTEMPTS
        if outcome in FAILED_ATTEMPTS and error and (
                channel not in latest or started_at > latest[channel][0]):
            latest[channel] = (started_at, error)
    failing = [channel for channel, (total, failed) in sorted(tally.items())
               if total >= RECENT_ATTEMPTS_MIN and failed * 2 > total]
    problems = [
        ProviderProblem(channel, channel_label(channel),
                        f"{tally[channel][1]} of the last {tally[channel][0]} attempts in the "
                        f"last hour failed", latest[channel][1] if channel in latest else "")
        for channel in failing
    ]
    waiting = (Delivery.objects.filter(status__in=PENDING).order_by()
               .values_list("channel").annotate(n=Count("pk")))
    for channel, n in sorted(waiting):
        provider = provider_for(channel) if channel in REGISTRY else None
        if provider is None or not provider.is_configured():
            what = "has no provider" if provider is None else "is not configured"
            problems.append(ProviderProblem(
                channel, channel_label(channel),
                f"{what}; {n} deliver{'y' if n == 1 else 'ies'} waiting"))
    return problems


def failing_endpoints(*, limit: int = ENDPOINT_LIMIT) -> tuple[list[Endpoint], bool]:
    """Webhook endpoints failing now or switched off by the health check; and whether more exist."""
    rows = list(Endpoint.objects.filter(
        Q(failing_since__isnull=False)
        | Q(enabled=False, disabled_reason__in=[DisabledReason.FAILING, DisabledReason.GONE]))
        .select_related("application").order_by(F("failing_since").asc(nulls_last=True),
                                                "-disabled_at")[:limit + 1])
    return rows[:limit], len(rows) > limit
