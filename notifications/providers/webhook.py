"""Signed outgoing webhooks (Standard Webhooks) through the ``webhooks`` app.

A rule whose channels include ``webhook`` fans its event out to every enabled
endpoint of the event's Application that subscribes to the event's type: one
delivery per endpoint (recipient key ``endpoint:<id>``), whatever the rule's
audience. Events without an Application (staff triggers from the admin or the
CLI without ``--application``) reach no endpoint.

``send`` creates the endpoint's message for the event once (the payload bytes
and ``webhook-id`` it keeps for every retry) and makes one automatic attempt.
The delivery owns the retry schedule: a failed attempt raises
``TransientError`` whose ``retry_after`` is the webhook schedule's next delay
(5 s, 5 min, 30 min, … 24 h, ±20%, at least what the receiver's ``Retry-After``
asked), and ``retry_delay`` hands that delay back to the core unchanged, so
the wait is kept in the database like every other retry and the core's
generic backoff and attempt limit do not apply.
"""

from __future__ import annotations

import uuid

from notifications.models import Delivery, Event
from notifications.providers.base import PermanentError, Provider, SendResult, TransientError

RECIPIENT_PREFIX = "endpoint:"


class WebhookProvider(Provider):
    channel = "webhook"
    needs_template = False

    def endpoints_for(self, event: Event) -> list[tuple[str, str]]:
        from webhooks.selectors import endpoints_subscribed

        return [(f"{RECIPIENT_PREFIX}{endpoint.pk}", endpoint.display_url)
                for endpoint in endpoints_subscribed(event=event)]

    def retry_delay(self, *, attempts: int, retry_after: float | None) -> float | None:
        from webhooks.services.retries import retry_delay

        if retry_after is not None:
            return retry_after  # send() already applied the webhook schedule
        # An unexpected error inside send(): follow the same schedule.
        return retry_delay(attempts=attempts)

    def send(self, delivery: Delivery) -> SendResult:
        from webhooks.models import Endpoint, MessageStatus
        from webhooks.services.messages import message_deliver, message_for_delivery
        from webhooks.services.payloads import PayloadTooLarge

        endpoint_id = delivery.recipient_key.removeprefix(RECIPIENT_PREFIX)
        try:
            endpoint = Endpoint.objects.filter(pk=uuid.UUID(endpoint_id)).first()
        except ValueError:
            endpoint = None
        if endpoint is None:
            raise PermanentError("The webhook endpoint was deleted.")
        try:
            message = message_for_delivery(endpoint=endpoint, delivery=delivery)
        except PayloadTooLarge as exc:
            raise PermanentError(str(exc)) from exc
        if message.status == MessageStatus.SUCCEEDED:
            # Delivered already: by a manual resend, or just before a worker crash.
            return SendResult(provider_message_id=message.webhook_id, delivered=True)
        if message.delivery_id not in (None, delivery.pk):
            # Another rule's delivery carries this (endpoint, event) message and its retries.
            return SendResult(provider_message_id=message.webhook_id)
        outcome = message_deliver(message=message, attempt_number=delivery.attempts)
        if outcome.state == "succeeded":
            return SendResult(provider_message_id=message.webhook_id, delivered=True)
        if outcome.state == "retry":
            raise TransientError(outcome.summary, retry_after=outcome.retry_in)
        raise PermanentError(outcome.summary)
