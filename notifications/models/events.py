"""What happened and what was sent: events, deliveries and each delivery attempt."""

from __future__ import annotations

import uuid

from django.db import models

from notifications.models.applications import ApiKey, Application
from notifications.models.audience import Directory, Subscriber
from notifications.models.choices import Channel, DeliveryStatus, EventStatus, SkipReason
from notifications.models.rules import Rule


class Event(models.Model):
    """One accepted trigger. Committed before anything is sent: the row is the outbox."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.ForeignKey(Application, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="events")
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="events")
    # Where the names in ``recipients`` are looked up: the Application's directory when the
    # event was accepted (a later move of the Application does not re-target it). Empty on
    # events accepted before directories existed, which mean the default directory.
    directory = models.ForeignKey(Directory, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    event_type = models.CharField(max_length=200)
    data = models.JSONField(default=dict, blank=True)
    recipients = models.JSONField(default=list, blank=True, help_text="As given in the trigger.")
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=12, choices=EventStatus.choices,
                              default=EventStatus.RECEIVED)
    error = models.TextField(blank=True)
    # Accepted now, processed at this time (status "scheduled" until then).
    send_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    # Fan-out tasks of this event still running or queued; the last one marks it processed.
    fanout_open = models.PositiveIntegerField(default=0, editable=False)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Idempotency is per Application rather than per key, so rotating a
            # key mid-retry still returns the original event.
            models.UniqueConstraint(fields=["application", "idempotency_key"],
                                    condition=models.Q(idempotency_key__isnull=False),
                                    name="unique_idempotency_key_per_application"),
        ]
        indexes = [
            # For the sweeper: Event.objects.filter(status__in=[received, processing],
            # created_at__lt=…) — only unfinished events are indexed.
            models.Index(fields=["created_at"], name="event_unfinished_idx",
                         condition=models.Q(status__in=["received", "processing"])),
            models.Index(fields=["event_type", "-created_at"], name="event_type_idx"),
            # For the scheduler: filter(status="scheduled", send_at__lte=now).
            models.Index(fields=["send_at"], name="event_scheduled_idx",
                         condition=models.Q(status="scheduled")),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} ({self.id})"

    def save(self, *args, **kwargs) -> None:
        from notifications.targets import recipients_protect

        # An inline webhook or Apprise URL in ``to`` is a credential: keep only its reference.
        self.recipients = recipients_protect(self.recipients)
        super().save(*args, **kwargs)


class Delivery(models.Model):
    """One message to one recipient over one channel; never sent twice."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the unique constraint below starts with the event, and every
    # index a broadcast's rows must update costs it time.
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries",
                              db_index=False)
    rule = models.ForeignKey(Rule, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="deliveries")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    address = models.CharField(max_length=500, blank=True)
    # "sub:<id>" for a subscriber, "<channel>:<address>" for a raw target; part
    # of the uniqueness that makes dispatching twice harmless.
    recipient_key = models.CharField(max_length=600)
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.QUEUED)
    skip_reason = models.CharField(max_length=20, choices=SkipReason.choices, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When the delivery was last handed to the broker; the sweeper re-sends
    # only what has waited too long since, so nothing is queued twice in a row.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    # The provider's own code for the last failure, when it gives one (Twilio's 30003, …).
    error_code = models.CharField(max_length=32, blank=True)
    # The delivery this one follows from: an e-mail escalating an unread in-app message.
    # Indexed only where set (see Meta): nearly every delivery has no parent.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="children", db_index=False)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    rendered = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "rule", "recipient_key", "channel"],
                                    name="unique_delivery_per_recipient_channel"),
        ]
        indexes = [
            # For the due-work query: filter(status="queued", next_attempt_at__lte=now).
            models.Index(fields=["next_attempt_at"], name="delivery_due_idx",
                         condition=models.Q(status="queued")),
            # For the lease sweeper: filter(status="sending", lease_expires_at__lt=now).
            models.Index(fields=["lease_expires_at"], name="delivery_lease_idx",
                         condition=models.Q(status="sending")),
            models.Index(fields=["status", "channel", "-created_at"], name="delivery_status_idx"),
            models.Index(fields=["parent"], name="delivery_parent_idx",
                         condition=models.Q(parent__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.address or self.recipient_key} ({self.status})"


class DeliveryAttempt(models.Model):
    """One call to a provider: written before the call, completed after it."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "In progress"
        SENT = "sent", "Sent"
        TRANSIENT = "transient", "Transient error"
        PERMANENT = "permanent", "Permanent error"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    error = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.outcome}"


class TrackingEvent(models.Model):
    """What a provider reported about a sent message afterwards (ESP or carrier webhooks)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tracking")
    kind = models.CharField(max_length=20)  # delivered, bounced, complained, opened, clicked, …
    occurred_at = models.DateTimeField()
    # The provider's own id for the event, so a webhook sent twice is recorded once.
    provider_event_id = models.CharField(max_length=255, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "occurred_at"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "provider_event_id"],
                                    condition=~models.Q(provider_event_id=""),
                                    name="unique_tracking_event"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.occurred_at:%Y-%m-%d %H:%M}"
