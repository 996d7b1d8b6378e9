"""One attempt: sign the stored payload afresh and POST it through the outbound door.

Every attempt goes through the outbound door (``notifications.http``), which resolves
the host, refuses internal addresses, dials the checked address (no DNS-rebinding
gap), never follows redirects and keeps to the connect and total timeouts.

An attempt is three steps so that a batch can make its requests in parallel:
``attempt_prepare`` (sign; the caller has read what it needs), ``attempts_perform``
(the requests alone, a batch at once, touching no database) and ``attempt_judge``
(what the answer means, as an attempt row: redacted headers, status, response
excerpt, latency, error class). ``attempt_make`` does all three for one manual or test attempt.
Deciding what happens next is the caller's business (``webhooks.services.messages``
and ``webhooks.services.automatic``): this module only reports what happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from notifications.http import (
    USER_AGENT,
    InvalidUrl,
    OutboundCall,
    OutboundError,
    OutboundResponse,
    outbound_requests,
)
from webhooks.models import AttemptOutcome, Endpoint, ErrorClass, WebhookAttempt, WebhookMessage
from webhooks.selectors import secrets_valid
from webhooks.services.headers import excerpt_redacted, headers_for_log
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


@dataclass(frozen=True)
class PreparedAttempt:
    """Everything one POST needs, read from the database beforehand: the request can then
    be made from any thread."""

    message: WebhookMessage
    endpoint: Endpoint
    headers: dict[str, str]
    body: bytes
    started_at: datetime


def attempt_prepare(*, message: WebhookMessage, secrets: list[str],
                    now: datetime | None = None) -> PreparedAttempt:
    """Sign ``message``'s stored payload afresh with the endpoint's valid ``secrets``."""
    endpoint = message.endpoint
    body = bytes(message.payload)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               **(endpoint.headers or {}),
               **signed_headers(secrets_valid=secrets, webhook_id=message.webhook_id,
                                timestamp=int(time.time()), body=body)}
    return PreparedAttempt(message, endpoint, headers, body, now or timezone.now())


def attempts_perform(prepared: list[PreparedAttempt]) -> list[OutboundResponse | OutboundError]:
    """Make each POST, the batch concurrently (at most ``OUTBOUND_PER_HOST_CONCURRENCY`` at a
    time to one host); return each response or ``OutboundError`` in order. Touches no
    database."""
    answers: list[OutboundResponse | OutboundError | None] = []
    calls = []
    for one in prepared:
        if settings.WEBHOOK_REQUIRE_HTTPS and urlsplit(one.endpoint.url).scheme.lower() != "https":
            answers.append(InvalidUrl("this server only sends webhooks to https:// URLs"))
            continue
        try:
            calls.append(OutboundCall(
                "POST", one.endpoint.url, headers=one.headers, body=one.body,
                max_response_bytes=settings.WEBHOOK_RESPONSE_EXCERPT_BYTES).prepared())
        except OutboundError as exc:
            answers.append(exc)
            continue
        except ValueError as exc:  # the headers were stored before a rule they now break
            answers.append(InvalidUrl(str(exc)))
            continue
        answers.append(None)
    made = iter(outbound_requests(calls))
    return [answer if answer is not None else next(made) for answer in answers]


def attempt_perform(prepared: PreparedAttempt) -> OutboundResponse | OutboundError:
    """Make one POST; return the response or the ``OutboundError`` (touches no database)."""
    return attempts_perform([prepared])[0]


def attempt_judge(prepared: PreparedAttempt, answer: OutboundResponse | OutboundError, *,
                  trigger: str, attempt: WebhookAttempt | None = None,
                  finished_at: datetime | None = None) -> AttemptResult:
    """What the answer means, with the attempt's fields filled in on ``attempt`` (a new,
    unsaved one unless given; the caller saves it)."""
    where = prepared.endpoint.display_url
    attempt = attempt or WebhookAttempt(
        message=prepared.message, endpoint=prepared.endpoint, trigger=trigger,
        started_at=prepared.started_at, request_headers=headers_for_log(prepared.headers))
    attempt.finished_at = finished_at or timezone.now()
    if isinstance(answer, OutboundError):
        error_class = ErrorClass(answer.kind) if answer.kind in ErrorClass.values \
            else ErrorClass.CONNECT
        error = f"{error_class.label}: {answer}"
        _fill(attempt, outcome=AttemptOutcome.FAILED, error_class=error_class, error=error,
              latency_ms=_elapsed_ms(prepared, attempt))
        return AttemptResult(attempt, False, error_class not in _FINAL_ERRORS, False, None,
                             f"{error} ({where})" if where not in error else error)
    cap = settings.WEBHOOK_RESPONSE_EXCERPT_BYTES
    excerpt = excerpt_redacted(answer.body[:cap].decode("utf-8", errors="replace"),
                               prepared.headers)
    status = answer.status
    if 200 <= status < 300:
        _fill(attempt, outcome=AttemptOutcome.SUCCEEDED, status_code=status,
              response_excerpt=excerpt, latency_ms=answer.elapsed_ms)
        return AttemptResult(attempt, True, False, False, None, f"HTTP {status} from {where}")
    error = _status_error(status, answer.header("location"))
    retry_after = None
    if status in RETRY_AFTER_STATUSES:
        retry_after = retry_after_parse(answer.header("retry-after"))
        if retry_after is not None:
            error += f" It asked to wait {retry_after:.0f} s (Retry-After)."
    _fill(attempt, outcome=AttemptOutcome.FAILED, status_code=status, response_excerpt=excerpt,
          latency_ms=answer.elapsed_ms, error_class=ErrorClass.HTTP_STATUS, error=error)
    return AttemptResult(attempt, False, status != 410, status == 410, retry_after,
                         f"HTTP {status} from {where}. {error}")


def attempt_make(*, message: WebhookMessage, trigger: str) -> AttemptResult:
    """POST ``message`` to its endpoint once and record the attempt; never raises for the far end.

    The attempt row is written before the request (a crash leaves it ``pending``) and
    completed after it.
    """
    prepared = attempt_prepare(message=message, secrets=secrets_valid(endpoint=message.endpoint))
    attempt = WebhookAttempt.objects.create(
        message=message, endpoint=message.endpoint, trigger=trigger,
        started_at=prepared.started_at, request_headers=headers_for_log(prepared.headers))
    result = attempt_judge(prepared, attempt_perform(prepared), trigger=trigger, attempt=attempt)
    attempt.save(update_fields=["finished_at", "latency_ms", "outcome", "status_code",
                                "response_excerpt", "error_class", "error"])
    return result


def _status_error(status: int, location: str | None) -> str:
    if 300 <= status < 400:
        target = f" to {location[:300]}" if location else ""
        return (f"The endpoint redirects{target}; redirects are not followed. Update the "
                "endpoint's URL to the address that answers directly.")
    if status == 410:
        return "The endpoint answered 410 Gone, so it has been disabled."
    return f"Only 2xx counts as received; the endpoint answered {status}."


def _elapsed_ms(prepared: PreparedAttempt, attempt: WebhookAttempt) -> int:
    return max(int((attempt.finished_at - prepared.started_at).total_seconds() * 1000), 0)


def _fill(attempt: WebhookAttempt, **fields) -> None:
    for name, value in fields.items():
        setattr(attempt, name, value)
