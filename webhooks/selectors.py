"""Reads of the webhooks app: an Application's endpoints with their health, the endpoints an
event fans out to, the secrets valid now, and the logs."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from notifications.models import Application, Event
from webhooks.models import (
    AttemptOutcome,
    Endpoint,
    EndpointSecret,
    Trigger,
    WebhookAttempt,
    WebhookMessage,
)

# The success rate covers real messages (automatic and manual), not test pings.
SUCCESS_RATE_WINDOW = timedelta(hours=24)


def endpoints_of(*, application: Application, now: datetime | None = None) -> QuerySet[Endpoint]:
    """The Application's endpoints, annotated with ``recent_attempts`` / ``recent_successes``."""
    since = (now or timezone.now()) - SUCCESS_RATE_WINDOW
    real = Q(attempts__started_at__gte=since) & ~Q(attempts__trigger=Trigger.TEST) & ~Q(
        attempts__outcome=AttemptOutcome.PENDING)
    return (Endpoint.objects.filter(application=application)
            .annotate(recent_attempts=Count("attempts", filter=real),
                      recent_successes=Count("attempts", filter=real & Q(
                          attempts__outcome=AttemptOutcome.SUCCEEDED)))
            .prefetch_related("secrets")
            .order_by("-created_at", "pk"))  # Meta.ordering does not survive the GROUP BY


def endpoint_success_rate(*, endpoint: Endpoint) -> float | None:
    """Share of real attempts in the last 24 h that succeeded; None when there were none."""
    total = getattr(endpoint, "recent_attempts", None)
    successes = getattr(endpoint, "recent_successes", None)
    if total is None or successes is None:
        since = timezone.now() - SUCCESS_RATE_WINDOW
        attempts = endpoint.attempts.filter(started_at__gte=since).exclude(
            trigger=Trigger.TEST).exclude(outcome=AttemptOutcome.PENDING)
        total = attempts.count()
        successes = attempts.filter(outcome=AttemptOutcome.SUCCEEDED).count()
    return round(successes / total, 4) if total else None


def endpoints_subscribed(*, event: Event) -> list[Endpoint]:
    """Enabled endpoints of the event's Application whose filter matches its type.

    An event with no Application (triggered by staff from the admin or the CLI
    without ``--application``) reaches no endpoint: every endpoint belongs to one
    Application and only hears about that Application's events.
    """
    if event.application_id is None:
        return []
    candidates = Endpoint.objects.filter(application_id=event.application_id, enabled=True)
    return [endpoint for endpoint in candidates.order_by("created_at")
            if endpoint.subscribes_to(event.event_type)]


def secrets_valid(*, endpoint: Endpoint, now: datetime | None = None) -> list[str]:
    """Every secret that signs at ``now``: the current one first, then those still in grace."""
    moment = now or timezone.now()
    rows = EndpointSecret.objects.filter(endpoint=endpoint).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=moment))
    return [row.secret for row in _current_first(rows)]


def secrets_valid_many(*, endpoint_ids, now: datetime | None = None) -> dict[object, list[str]]:
    """``secrets_valid`` for many endpoints with one query: ``{endpoint id: secrets}``."""
    moment = now or timezone.now()
    rows = EndpointSecret.objects.filter(endpoint_id__in=list(endpoint_ids)).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=moment))
    by_endpoint: dict[object, list[EndpointSecret]] = {}
    for row in rows:
        by_endpoint.setdefault(row.endpoint_id, []).append(row)
    return {endpoint_id: [row.secret for row in _current_first(secrets)]
            for endpoint_id, secrets in by_endpoint.items()}


def secrets_summary(*, endpoint: Endpoint, now: datetime | None = None) -> list[EndpointSecret]:
    """The endpoint's secrets valid at ``now`` (for showing their dates, never their values)."""
    moment = now or timezone.now()
    return _current_first(s for s in endpoint.secrets.all()
                          if s.expires_at is None or s.expires_at > moment)


def _current_first(secrets) -> list[EndpointSecret]:
    return sorted(secrets, key=lambda s: (s.expires_at is not None, -s.created_at.timestamp()))


def attempts_of(*, endpoint: Endpoint) -> QuerySet[WebhookAttempt]:
    return (WebhookAttempt.objects.filter(endpoint=endpoint)
            .select_related("message").order_by("-started_at", "-id"))


def messages_of(*, endpoint: Endpoint) -> QuerySet[WebhookMessage]:
    return WebhookMessage.objects.filter(endpoint=endpoint).order_by("-created_at")
