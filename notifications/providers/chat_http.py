"""HTTP for the chat providers: one call through the outbound door, failures classified.

Every chat provider posts JSON through ``notifications.http.outbound_request``;
here a refused or failed call becomes the provider contract's error: an
invalid or refused URL can never work (``PermanentError``), a timeout, broken
connection or DNS failure may work later (``TransientError``). Messages name
the service and the failure, never the URL, which may hold a token.
"""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from django.utils import timezone

from notifications.http import (
    BlockedAddress,
    InvalidUrl,
    OutboundError,
    OutboundResponse,
    outbound_request,
)
from notifications.providers.base import PermanentError, Provider, TransientError

_EXCERPT = 300


class HttpChatProvider(Provider):
    """A chat channel that posts over HTTP: a batch's targets are revealed with one query
    before sending, then its requests go out in parallel (per-host limited)."""

    sends_concurrently = True

    def batch_prepare(self, deliveries: list) -> dict[object, PermanentError]:
        from notifications.targets import targets_reveal, unknown_target_message

        revealed = targets_reveal(channel=self.channel,
                                  addresses=[delivery.address for delivery in deliveries])
        failures = {}
        for delivery in deliveries:
            target = revealed.get(delivery.address)
            if target is None:
                failures[delivery.pk] = PermanentError(unknown_target_message(
                    channel=self.channel, address=delivery.address))
            else:
                delivery.revealed_target = target
        return failures

    def host_of(self, delivery) -> str:
        target = getattr(delivery, "revealed_target", "")
        try:
            return urlsplit(target).hostname or ""
        except ValueError:
            return ""


def target_for(delivery, *, channel: str) -> str:
    """The delivery's real target (a stored credential URL is looked up); unknown → permanent."""
    from notifications.targets import UnknownTarget, target_reveal

    if (revealed := getattr(delivery, "revealed_target", None)) is not None:
        return revealed  # looked up with the rest of its batch
    try:
        return target_reveal(channel=channel, address=delivery.address)
    except UnknownTarget as exc:
        raise PermanentError(str(exc)) from exc


def call(method: str, url: str, *, service: str, json_body: object = None,
         headers: dict[str, str] | None = None, trusted: bool = False) -> OutboundResponse:
    """Send one request; raise ``PermanentError`` / ``TransientError`` when it could not be made.

    ``trusted`` is for operator-configured servers only (see ``outbound_request``).
    """
    try:
        return outbound_request(method, url, headers=headers, json=json_body, trusted=trusted)
    except (InvalidUrl, BlockedAddress) as exc:
        raise PermanentError(f"{service}: the address cannot be used ({exc}).") from exc
    except OutboundError as exc:
        raise TransientError(f"{service}: {exc.kind} error ({exc}).") from exc


def retry_after(response: OutboundResponse) -> float | None:
    """Seconds the service asked us to wait (``Retry-After`` as seconds or HTTP date)."""
    return retry_after_seconds(response.header("retry-after"))


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` value (seconds or an HTTP date) as seconds from now, or None."""
    value = (value or "").strip()
    if not value:
        return None
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - timezone.now()).total_seconds(), 0.0)


def body_json(response: OutboundResponse) -> dict:
    """The response body as a JSON object, or {} when it is not one."""
    try:
        value = json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def excerpt(response: OutboundResponse) -> str:
    """The start of the response body as text, for error messages."""
    text = response.body[:_EXCERPT].decode("utf-8", "replace").strip()
    return " ".join(text.split()) or "(empty body)"


def raise_for_status(response: OutboundResponse, *, service: str, detail: str = "") -> None:
    """The usual classification of an HTTP answer: 2xx passes, 429 and 5xx are transient
    (honouring ``Retry-After``), 3xx and other 4xx are permanent."""
    status = response.status
    if 200 <= status < 300:
        return
    detail = detail or excerpt(response)
    if status == 429:
        raise TransientError(f"{service} is rate limiting (429): {detail}",
                             retry_after=retry_after(response))
    if status >= 500:
        raise TransientError(f"{service} answered {status}: {detail}",
                             retry_after=retry_after(response))
    if 300 <= status < 400:
        raise PermanentError(f"{service} answered with a redirect ({status}), which is not "
                             "followed; check the configured URL.")
    raise PermanentError(f"{service} refused the message ({status}): {detail}")
