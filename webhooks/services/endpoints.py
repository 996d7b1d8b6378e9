"""Creating, changing and deleting endpoints, with the checks every URL and filter must pass.

A URL is checked when it is set, the same way every send checks it again: it
must parse, use HTTPS when ``WEBHOOK_REQUIRE_HTTPS`` is on, resolve, and
resolve only to addresses the outbound door may call (no loopback, private,
link-local, metadata or other internal address unless
``OUTBOUND_ALLOWED_NETWORKS`` opens it).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from notifications.http import OutboundError, url_check
from notifications.models import Application
from notifications.models.rules import EVENT_TYPE_PATTERN_VALIDATOR
from webhooks.models import DisabledReason, Endpoint, EndpointSecret
from webhooks.services.headers import headers_merge_masked, headers_validate
from webhooks.services.signing import secret_generate, secret_key

MAX_URL_LENGTH = 2000
MAX_EVENT_TYPES = 100
_UNSET = object()


@dataclass(frozen=True)
class CreatedEndpoint:
    endpoint: Endpoint
    secret: str  # shown once, in the answer to the create call


def endpoint_url_validate(*, url: object) -> str:
    """Return ``url`` when it may be called now; raise ``ValidationError`` on ``url``."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationError({"url": ["Give the endpoint's URL."]})
    if len(url) > MAX_URL_LENGTH:
        raise ValidationError({"url": [f"At most {MAX_URL_LENGTH} characters."]})
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        scheme = ""
    if settings.WEBHOOK_REQUIRE_HTTPS and scheme != "https":
        raise ValidationError({"url": ["This server only sends webhooks to https:// URLs."]})
    try:
        url_check(url)
    except OutboundError as exc:
        raise ValidationError({"url": [f"{exc}."]}) from None
    return url


def event_types_validate(*, event_types: object) -> list[str]:
    """Exact types or wildcards ('orders.*'); an empty list subscribes to every type."""
    if event_types is None:
        return []
    if not isinstance(event_types, list) or not all(isinstance(t, str) for t in event_types):
        raise ValidationError({"event_types": ["Must be a list of event types, e.g. "
                                               '["order.shipped", "invoices.*"].']})
    if len(event_types) > MAX_EVENT_TYPES:
        raise ValidationError({"event_types": [f"At most {MAX_EVENT_TYPES} entries."]})
    for pattern in event_types:
        try:
            EVENT_TYPE_PATTERN_VALIDATOR(pattern)
        except ValidationError as exc:
            raise ValidationError({"event_types": [f"{pattern!r}: {exc.messages[0]}"]}) from None
    return list(dict.fromkeys(event_types))


def endpoint_create(*, application: Application, url: str, description: str = "",
                    event_types: list[str] | None = None, enabled: bool = True,
                    headers: dict[str, str] | None = None,
                    secret: str | None = None) -> CreatedEndpoint:
    """Create an endpoint with a new secret (or ``secret``, when migrating one in)."""
    url = endpoint_url_validate(url=url)
    event_types = event_types_validate(event_types=event_types)
    headers = headers_validate(headers)
    if secret is not None:
        secret_key(secret)
    secret = secret or secret_generate()
    with transaction.atomic():
        endpoint = Endpoint.objects.create(
            application=application, url=url, description=description, event_types=event_types,
            enabled=enabled, headers=headers,
            disabled_reason="" if enabled else DisabledReason.MANUAL,
            disabled_at=None if enabled else timezone.now())
        EndpointSecret.objects.create(endpoint=endpoint, secret=secret)
    return CreatedEndpoint(endpoint=endpoint, secret=secret)


def endpoint_update(*, endpoint: Endpoint, url: object = _UNSET, description: object = _UNSET,
                    event_types: object = _UNSET, enabled: object = _UNSET,
                    headers: object = _UNSET) -> Endpoint:
    """Change the given fields. Re-enabling starts the endpoint's health afresh."""
    changed: list[str] = []
    if url is not _UNSET and url != endpoint.url:
        endpoint.url = endpoint_url_validate(url=url)
        changed.append("url")
    if description is not _UNSET:
        endpoint.description = str(description)
        changed.append("description")
    if event_types is not _UNSET:
        endpoint.event_types = event_types_validate(event_types=event_types)
        changed.append("event_types")
    if headers is not _UNSET:
        if isinstance(headers, dict):
            headers = headers_merge_masked(stored=endpoint.headers or {}, given=headers)
        endpoint.headers = headers_validate(headers)
        changed.append("headers")
    if enabled is not _UNSET and bool(enabled) != endpoint.enabled:
        endpoint.enabled = bool(enabled)
        if endpoint.enabled:
            endpoint.disabled_reason, endpoint.disabled_at, endpoint.failing_since = "", None, None
        else:
            endpoint.disabled_reason, endpoint.disabled_at = DisabledReason.MANUAL, timezone.now()
        changed += ["enabled", "disabled_reason", "disabled_at", "failing_since"]
    if changed:
        endpoint.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
    return endpoint


def endpoint_delete(*, endpoint: Endpoint) -> None:
    """Delete the endpoint with its secrets, messages and logs; queued deliveries to it fail."""
    endpoint.delete()
