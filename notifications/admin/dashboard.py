"""Admin dashboard at ``/admin/dashboard/``: how deliveries went lately, and what is failing now.

For the last 24 hours or the last 7 days (``?period=24h|7d``) the page shows
deliveries per channel stacked by status, the same numbers as a table, failure
rates, succeeded vs failed over time, and the slowest providers; independent of
the period it lists providers and webhook endpoints that are failing right now.
All reads live in ``notifications.selectors.dashboard``; this module only picks
colours and lays the numbers out.

The page is a site-level view rather than a model's: ``config.admin.ClarionAdminSite``
routes it (behind ``admin_view``: staff only). Viewing it also needs the
permission to view deliveries, since that is what it summarises.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from notifications.admin.common import admin_url
from notifications.admin.svg import Series, line_series, stacked_bars
from notifications.models import DeliveryStatus
from notifications.selectors import dashboard as stats

STATUS_COLORS = {
    DeliveryStatus.DELIVERED: "#1b7a3d",
    DeliveryStatus.SENT: "#5cb85c",
    DeliveryStatus.QUEUED: "#8fa3b8",
    DeliveryStatus.SENDING: "#4a90d9",
    DeliveryStatus.SKIPPED: "#c4c4c4",
    DeliveryStatus.COMPLAINED: "#8e5bb5",
    DeliveryStatus.UNDELIVERED: "#f0a030",
    DeliveryStatus.BOUNCED: "#c2477a",
    DeliveryStatus.FAILED: "#d63b3b",
}
STATUS_SERIES = [Series(status.value, status.label, color)
                 for status, color in STATUS_COLORS.items()]
OUTCOME_SERIES = [Series("succeeded", "Sent or delivered", "#2e8b57"),
                  Series("failed", "Failed, bounced or undelivered", "#d63b3b")]


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.1%}"


def dashboard_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("notifications.view_delivery"):
        raise PermissionDenied
    period = stats.PERIODS.get(request.GET.get("period", ""), stats.PERIODS["24h"])
    now = timezone.now()
    since = stats.period_start(period, now)

    counts = stats.delivery_counts(since=since)
    statuses = [s for s in STATUS_SERIES if any(c.by_status.get(s.key) for c in counts)]
    table = [{"counts": c, "cells": [c.by_status.get(s.key, 0) for s in statuses],
              "rate": _percent(c.failure_rate)} for c in counts]
    column_totals = [sum(c.by_status.get(s.key, 0) for c in counts) for s in statuses]

    buckets = stats.outcome_series(period=period, now=now)
    if period.bucket == "hour":
        x_labels = [timezone.localtime(b.start).strftime("%H:%M") for b in buckets]
        label_every = 3
    else:
        x_labels = [timezone.localtime(b.start).strftime("%a %d") for b in buckets]
        label_every = 1
    total_succeeded = sum(b.succeeded for b in buckets)
    total_failed = sum(b.failed for b in buckets)

    endpoints, more_endpoints = stats.failing_endpoints()
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "period": period,
        "periods": stats.PERIODS.values(),
        "since": since,
        "now": now,
        "statuses": statuses,
        "table": table,
        "column_totals": column_totals,
        "grand_total": sum(c.total for c in counts),
        "overall_rate": _percent(stats.failure_rate(counts)),
        "finished": sum(c.finished for c in counts),
        "failed": sum(c.failed for c in counts),
        # Failed at least once and waiting for another try: what a provider "failing now"
        # usually means while the failure rate of finished deliveries still reads 0 %.
        "retrying": stats.retrying_count(),
        "status_chart": stacked_bars(
            title=f"Deliveries per channel and status, {period.label.lower()}",
            desc="One bar per channel, split by delivery status; the table below has the numbers.",
            rows=[(c.label, c.by_status) for c in counts], series=STATUS_SERIES),
        "outcome_chart": line_series(
            title=f"Succeeded and failed deliveries per {period.bucket}, {period.label.lower()}",
            desc=f"{total_succeeded} sent or delivered and {total_failed} failed, bounced or "
                 f"undelivered, by the {period.bucket} the delivery was created.",
            x_labels=x_labels, series=OUTCOME_SERIES, label_every=label_every,
            values={"succeeded": [b.succeeded for b in buckets],
                    "failed": [b.failed for b in buckets]}),
        "slowest": stats.slowest_providers(since=since),
        "failing_providers": stats.failing_providers(now=now),
        "recent_attempts": stats.RECENT_ATTEMPTS,
        "failing_endpoints": [{"endpoint": e, "url": admin_url(e)} for e in endpoints],
        "more_endpoints": more_endpoints,
    }
    return TemplateResponse(request, "admin/notifications/dashboard.html", context)
