"""Digests: events collected per recipient and sent later as one message."""

from __future__ import annotations

from django.db import models

from notifications.models.audience import Subscriber
from notifications.models.choices import Channel
from notifications.models.events import Delivery, Event
from notifications.models.rules import Rule


class DigestBatch(models.Model):
    """The items waiting for one recipient, rule, channel and digest key."""

    class Status(models.TextChoices):
        OPEN = "open", "Collecting"
        SENT = "sent", "Sent"

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="digest_batches")
    subscriber = models.ForeignKey(Subscriber, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="digest_batches")
    recipient_key = models.CharField(max_length=600)
    address = models.CharField(max_length=500, blank=True)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    digest_key = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    delivery = models.OneToOneField(Delivery, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="digest_batch")

    class Meta:
        constraints = [
            # One open batch per recipient/rule/channel/key: concurrent events join
            # the same batch instead of starting a second digest.
            models.UniqueConstraint(fields=["rule", "recipient_key", "channel", "digest_key"],
                                    condition=models.Q(status="open"),
                                    name="unique_open_digest_batch"),
        ]
        indexes = [
            # For the flusher: filter(status="open", due_at__lte=now).
            models.Index(fields=["due_at"], name="digest_due_idx",
                         condition=models.Q(status="open")),
        ]

    def __str__(self) -> str:
        return f"{self.rule} → {self.recipient_key} ({self.status})"


class DigestItem(models.Model):
    batch = models.ForeignKey(DigestBatch, on_delete=models.CASCADE, related_name="items")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="digest_items")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["batch", "added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "event"], name="unique_digest_item"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} in batch {self.batch_id}"
