"""Where webhooks go: an Application's endpoints and the secrets that sign their messages.

An endpoint has one current secret (``expires_at`` empty) and, after a
regeneration, previous secrets that stay valid until their ``expires_at``; every
message is signed once per valid secret, so receivers can switch over without
losing a message. Health is kept on the row (last success, failing since) so
the 5-day disable check is one indexed query.
"""

from __future__ import annotations

import fnmatch
import uuid
from urllib.parse import urlsplit

from django.db import models

from notifications.fields import EncryptedTextField
from notifications.models import Application
from webhooks.fields import EncryptedJSONObjectField


class DisabledReason(models.TextChoices):
    MANUAL = "manual", "Disabled by its owner"
    GONE = "gone", "The endpoint answered 410 Gone"
    FAILING = "failing", "Failed continuously for too long"


class Endpoint(models.Model):
    """An HTTPS URL that receives signed POSTs for the event types it subscribes to."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE,
                                    related_name="webhook_endpoints")
    url = models.CharField(max_length=2000)
    description = models.CharField(max_length=300, blank=True)
    # Exact types ("order.shipped") or wildcards ("orders.*"); empty: every type.
    event_types = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=10, choices=DisabledReason.choices, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    headers = EncryptedJSONObjectField(blank=True, default=dict,
                                       help_text="Extra request headers, stored encrypted.")
    last_success_at = models.DateTimeField(null=True, blank=True)
    # Set by the first automatic failure after a success; cleared by the next
    # successful delivery. Manual resends and tests never set it.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "webhook endpoint"
        indexes = [
            # For the disable check: filter(enabled=True, failing_since__lte=now - period).
            models.Index(fields=["failing_since"], name="endpoint_failing_idx",
                         condition=models.Q(enabled=True, failing_since__isnull=False)),
            # For the fan-out: filter(application=…, enabled=True).
            models.Index(fields=["application", "enabled"], name="endpoint_app_enabled_idx"),
        ]

    def __str__(self) -> str:
        return self.description or self.display_url

    @property
    def display_url(self) -> str:
        """Scheme, host and port only: paths and query strings may carry tokens."""
        try:
            parts = urlsplit(self.url)
            return f"{parts.scheme}://{parts.hostname or '?'}{f':{parts.port}' if parts.port else ''}"
        except ValueError:
            return "(invalid URL)"

    def subscribes_to(self, event_type: str) -> bool:
        return not self.event_types or any(
            fnmatch.fnmatchcase(event_type, pattern) for pattern in self.event_types)


class EndpointSecret(models.Model):
    """A signing secret (``whsec_`` + base64 of 32 random bytes), encrypted at rest."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="secrets")
    secret = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Empty for the current secret; set when a newer one replaced it.
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint"], condition=models.Q(expires_at__isnull=True),
                                    name="one_current_secret_per_endpoint"),
        ]

    def __str__(self) -> str:
        return f"secret of {self.endpoint_id} ({'current' if self.expires_at is None else 'previous'})"
