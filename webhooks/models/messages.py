"""What was sent: one message per endpoint and event, and every attempt to deliver it.

The message keeps the exact payload bytes, signed and sent on every attempt,
and the ``webhook-id`` receivers de-duplicate on; each attempt is written
before the request and completed after it, with redacted request headers, the
response's status and an excerpt of its body, latency and the error class.
"""

from __future__ import annotations

import uuid

from django.db import models

from notifications.models import Delivery, Event
from webhooks.models.endpoints import Endpoint


def new_webhook_id() -> str:
    # Standard Webhooks: unique per message and free of '.', which separates the signed parts.
    return f"msg_{uuid.uuid4().hex}"


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Trigger(models.TextChoices):
    AUTOMATIC = "automatic", "Automatic"
    MANUAL = "manual", "Manual resend"
    TEST = "test", "Test"


class AttemptOutcome(models.TextChoices):
    PENDING = "pending", "In progress"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ErrorClass(models.TextChoices):
    DNS = "dns", "DNS lookup failed"
    CONNECT = "connect", "Connection failed"
    TLS = "tls", "TLS failed"
    TIMEOUT = "timeout", "Timed out"
    BLOCKED = "blocked", "Blocked address"
    INVALID_URL = "invalid_url", "Invalid URL"
    PROTOCOL = "protocol", "Invalid HTTP response"
    HTTP_STATUS = "http_status", "HTTP status"
    TOO_LARGE = "too_large", "Payload too large"


class WebhookMessage(models.Model):
    """One event for one endpoint (or one test message); its id is the ``webhook-id``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook_id = models.CharField(max_length=40, unique=True, default=new_webhook_id,
                                  editable=False)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="messages")
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="webhook_messages")
    # The pipeline delivery that drives automatic attempts; empty for test messages.
    delivery = models.ForeignKey(Delivery, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="webhook_messages")
    event_type = models.CharField(max_length=200)
    payload = models.BinaryField(help_text="The exact bytes signed and sent.")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.AUTOMATIC)
    status = models.CharField(max_length=10, choices=MessageStatus.choices,
                              default=MessageStatus.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "webhook message"
        constraints = [
            # One message per endpoint and event, however many rules route the event here.
            models.UniqueConstraint(fields=["endpoint", "event"],
                                    condition=models.Q(event__isnull=False),
                                    name="one_webhook_message_per_endpoint_event"),
        ]
        indexes = [
            # For "recover failed since T": filter(endpoint=…, status="failed", created_at__gte=T).
            models.Index(fields=["endpoint", "status", "created_at"], name="webhook_msg_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.webhook_id} ({self.event_type}, {self.status})"


class WebhookAttempt(models.Model):
    """One POST to an endpoint: written before the request, completed after it."""

    message = models.ForeignKey(WebhookMessage, on_delete=models.CASCADE, related_name="attempts")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="attempts")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    request_headers = models.JSONField(default=dict, blank=True, help_text="Secrets redacted.")
    outcome = models.CharField(max_length=10, choices=AttemptOutcome.choices,
                               default=AttemptOutcome.PENDING)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error_class = models.CharField(max_length=12, choices=ErrorClass.choices, blank=True)
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = "webhook attempt"
        indexes = [
            # For the logs page and the success rate: filter(endpoint=…).order_by("-started_at").
            models.Index(fields=["endpoint", "-started_at"], name="webhook_attempt_endpoint_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.trigger} attempt {self.outcome} ({self.status_code or self.error_class})"
