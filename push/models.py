"""Devices (where a subscriber receives pushes) and each device's attempts.

A subscriber has any number of devices of four kinds. The token identifies the
device to its push service: an FCM registration token, an APNs device token, an
Expo push token, or — for a browser — the Web Push subscription's endpoint URL
(with its ``p256dh`` and ``auth`` keys). A token is unique within a directory,
so registering it again (for instance after another person signed in on the
same phone) moves the device rather than adding a second one.

A push delivery reaches every enabled device of its subscriber; each device's
try is a ``DeviceAttempt``. A device whose push service says the token is gone
is disabled at once and never tried again.
"""

from __future__ import annotations

import hashlib
import uuid

from django.db import models

from notifications.models import Delivery, Directory, Subscriber


class DeviceKind(models.TextChoices):
    WEBPUSH = "webpush", "Web Push (browser)"
    FCM = "fcm", "Firebase Cloud Messaging"
    APNS = "apns", "Apple Push Notification service"
    EXPO = "expo", "Expo"


class ApnsEnvironment(models.TextChoices):
    PRODUCTION = "production", "Production"
    SANDBOX = "sandbox", "Sandbox (development builds)"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Device(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="devices")
    # The subscriber's, kept here so that a token can be unique per directory.
    directory = models.ForeignKey(Directory, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=DeviceKind.choices)
    token = models.TextField(help_text="The push service's token, or a browser's endpoint URL.")
    token_digest = models.CharField(max_length=64, editable=False)
    p256dh = models.CharField(max_length=200, blank=True, help_text="Web Push: the browser's key.")
    auth = models.CharField(max_length=50, blank=True, help_text="Web Push: the auth secret.")
    apns_topic = models.CharField(max_length=200, blank=True,
                                  help_text="APNs: the app's bundle id (APNS_TOPIC when empty).")
    apns_environment = models.CharField(max_length=10, choices=ApnsEnvironment.choices,
                                        blank=True, help_text="APNs: production when empty.")
    label = models.CharField(max_length=200, blank=True,
                             help_text='What the device is, for people: "Firefox on Linux".')
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["directory", "kind", "token_digest"],
                                               name="unique_device_token")]
        indexes = [models.Index(fields=["subscriber", "enabled"], name="device_subscriber_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.masked_token}"

    def save(self, *args, **kwargs) -> None:
        self.token_digest = token_digest(self.token)
        if self.directory_id is None and self.subscriber_id is not None:
            self.directory_id = self.subscriber.directory_id
        super().save(*args, **kwargs)

    @property
    def masked_token(self) -> str:
        """Enough to tell devices apart, never enough to push to one."""
        if self.kind == DeviceKind.WEBPUSH:
            origin = "/".join(self.token.split("/", 3)[:3])
            return f"{origin}/…{self.token[-6:]}"
        return f"{self.token[:6]}…{self.token[-4:]}" if len(self.token) > 14 else "…"


class AttemptOutcome(models.TextChoices):
    SENT = "sent", "Sent"
    RETRY = "retry", "Failed for now (retried)"
    GONE = "gone", "Token gone (device disabled)"
    FAILED = "failed", "Failed"
    NOT_CONFIGURED = "not_configured", "Push service not configured"


class DeviceAttempt(models.Model):
    """One try of one delivery on one device."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="device_attempts")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField(help_text="The delivery's attempt this was part of.")
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["delivery", "device"], name="device_attempt_idx")]

    def __str__(self) -> str:
        return f"{self.device} · attempt {self.number} · {self.get_outcome_display()}"
