"""Signed outgoing webhooks (Standard Webhooks) through the ``webhooks`` app.

A rule whose channels include ``webhook`` fans its event out to every enabled
endpoint of the event's Application that subscribes to the event's type: one
delivery per endpoint (recipient key ``endpoint:<id>``), whatever the rule's
audience. Events without an Application (staff triggers from the admin or the
CLI without ``--application``) reach no endpoint.

``send_batch`` creates each endpoint's message for the event once (the payload
bytes and ``webhook-id`` it keeps for every retry) and makes one automatic
attempt per delivery, the batch's requests in parallel
(``webhooks.services.automatic``).
The delivery owns the retry schedule: a failed attempt raises
``TransientError`` whose ``retry_after`` is the webhook schedule's next delay
(5 s, 5 min, 30 min, … 24 h, ±20%, at least what the receiver's ``Retry-After``
asked), and ``retry_delay`` hands that delay back to the core unchanged, so
the wait is kept in the database like every other retry and the core's
generic backoff and attempt limit do not apply.
"""

from __future__ import annotations

import logging

from notifications.models import Delivery, Event
from notifications.providers.base import (
    PermanentError,
    Provider,
    ProviderError,
    SendResult,
    TransientError,
)
from webhooks.selectors import endpoints_subscribed
from webhooks.services.automatic import deliveries_deliver
from webhooks.services.retries import retry_delay as schedule_delay

RECIPIENT_PREFIX = "endpoint:"
logger = logging.getLogger(__name__)


class WebhookProvider(Provider):
    channel = "webhook"
    needs_template = False

    def endpoints_for(self, event: Event) -> list[tuple[str, str]]:
        return [(f"{RECIPIENT_PREFIX}{endpoint.pk}", endpoint.display_url)
                for endpoint in endpoints_subscribed(event=event)]

    def retry_delay(self, *, attempts: int, retry_after: float | None) -> float | None:
        if retry_after is not None:
            return retry_after  # send() already applied the webhook schedule
        # An unexpected error inside send(): follow the same schedule.
        return schedule_delay(attempts=attempts)

    def send_batch(self, deliveries: list[Delivery]) -> dict[object, SendResult | ProviderError]:
        """The whole batch's messages in a few statements, their requests in parallel."""
        try:
            outcomes = deliveries_deliver(deliveries)
        except Exception as exc:  # noqa: BLE001 — a bug must not strand the batch; retry it
            logger.exception("webhook batch of %d deliveries failed", len(deliveries))
            error = TransientError(f"Unexpected {type(exc).__name__} in the webhook provider.")
            return {delivery.pk: error for delivery in deliveries}
        return {pk: _result(outcome) for pk, outcome in outcomes.items()}

    def send(self, delivery: Delivery) -> SendResult:
        result = self.send_batch([delivery])[delivery.pk]
        if isinstance(result, ProviderError):
            raise result
        return result


def _result(outcome) -> SendResult | ProviderError:
    if outcome.state == "succeeded":
        return SendResult(provider_message_id=outcome.webhook_id, delivered=True)
    if outcome.state == "carried":
        return SendResult(provider_message_id=outcome.webhook_id)
    if outcome.state == "retry":
        return TransientError(outcome.summary, retry_after=outcome.retry_in)
    return PermanentError(outcome.summary)
