"""One attempt: sign the stored payload afresh and POST it through the outbound door.

Every attempt goes through ``notifications.http.outbound_request``, which resolves
the host, refuses internal addresses, dials the checked address (no DNS-rebinding
gap), never follows redirects and keeps to the connect and total timeouts. The
attempt row is written before the request and completed after it; what it
keeps (redacted headers, status, response excerpt, latency, error class) is
what the logs show. Deciding what happens next is the caller's business
(``webhooks.services.messages``): this module only reports what happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from notifications.http import USER_AGENT, InvalidUrl, OutboundError, outbound_request
from webhooks.models import AttemptOutcome, ErrorClass, WebhookAttempt, WebhookMessage
from webhooks.selectors import secrets_valid
from webhooks.services.headers import headers_for_log
from webhooks.services.retries import RETRY_AFTER_STATUSES, retry_after_parse
from webhooks.services.signing import signed_headers

# Failures a later attempt cannot fix as long as the endpoint stays as it is.
_FINAL_ERRORS = frozenset({ErrorClass.BLOCKED, ErrorClass.INVALID_URL})


@dataclass(frozen=True)
class AttemptResult:
    attempt: WebhookAttempt
    succeeded: bool
    retryable: bool  # a later attempt may succeed
    gone: bool  # the endpoint answered 410 Gone
    retry_after: float | None  # seconds the receiver asked us to wait
    summary: str  # one line, free of secrets and query strings


def attempt_make(*, message: WebhookMessage, trigger: str) -> AttemptResult:
    """POST ``message`` to its endpoint once and record the attempt; never raises for the far end."""
    endpoint = message.endpoint
    body = bytes(message.payload)
    started_at = timezone.now()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               **(endpoint.headers or {}),
               **signed_headers(secrets_valid=secrets_valid(endpoint=endpoint, now=started_at),
                                webhook_id=message.webhook_id, timestamp=int(time.time()),
                                body=body)}
    attempt = WebhookAttempt.objects.create(message=message, endpoint=endpoint, trigger=trigger,
                                            started_at=started_at,
                                            request_headers=headers_for_log(headers))
    clock = time.monotonic()
    where = endpoint.display_url
    cap = settings.WEBHOOK_RESPONSE_EXCERPT_BYTES
    retry_after = None
    try:
        if settings.WEBHOOK_REQUIRE_HTTPS and urlsplit(endpoint.url).scheme.lower() != "https":
            raise InvalidUrl("this server only sends webhooks to https:// URLs")
        response = outbound_request("POST", endpoint.url, headers=headers, body=body,
                                    max_response_bytes=cap)
    except OutboundError as exc:
        error_class = ErrorClass(exc.kind) if exc.kind in ErrorClass.values else ErrorClass.CONNECT
        error = f"{error_class.label}: {exc}"
        _complete(attempt, clock, outcome=AttemptOutcome.FAILED, error_class=error_class,
                  error=error)
        return AttemptResult(attempt, False, error_class not in _FINAL_ERRORS, False, None,
                             f"{error} ({where})" if where not in error else error)
    excerpt = response.body[:cap].decode("utf-8", errors="replace")
    status = response.status
    if 200 <= status < 300:
        _complete(attempt, None, outcome=AttemptOutcome.SUCCEEDED, status_code=status,
                  response_excerpt=excerpt, latency_ms=response.elapsed_ms)
        return AttemptResult(attempt, True, False, False, None, f"HTTP {status} from {where}")
    error = _status_error(status, response.header("location"))
    if status in RETRY_AFTER_STATUSES:
        retry_after = retry_after_parse(response.header("retry-after"))
        if retry_after is not None:
            error += f" It asked to wait {retry_after:.0f} s (Retry-After)."
    _complete(attempt, None, outcome=AttemptOutcome.FAILED, status_code=status,
              response_excerpt=excerpt, latency_ms=response.elapsed_ms,
              error_class=ErrorClass.HTTP_STATUS, error=error)
    return AttemptResult(attempt, False, status != 410, status == 410, retry_after,
                         f"HTTP {status} from {where}. {error}")


def _status_error(status: int, location: str | None) -> str:
    if 300 <= status < 400:
        target = f" to {location[:300]}" if location else ""
        return (f"The endpoint redirects{target}; redirects are not followed. Update the "
                "endpoint's URL to the address that answers directly.")
    if status == 410:
        return "The endpoint answered 410 Gone, so it has been disabled."
    return f"Only 2xx counts as received; the endpoint answered {status}."


def _complete(attempt: WebhookAttempt, clock: float | None, **fields) -> None:
    fields.setdefault("latency_ms", int((time.monotonic() - clock) * 1000) if clock else None)
    fields["finished_at"] = timezone.now()
    for name, value in fields.items():
        setattr(attempt, name, value)
    attempt.save(update_fields=list(fields))
