"""Data model of outgoing webhooks: endpoints with their secrets, messages and attempts."""

from webhooks.models.endpoints import DisabledReason, Endpoint, EndpointSecret
from webhooks.models.messages import (
    AttemptOutcome,
    ErrorClass,
    MessageStatus,
    Trigger,
    WebhookAttempt,
    WebhookMessage,
)

__all__ = [
    "AttemptOutcome",
    "DisabledReason",
    "Endpoint",
    "EndpointSecret",
    "ErrorClass",
    "MessageStatus",
    "Trigger",
    "WebhookAttempt",
    "WebhookMessage",
]
