"""In-app notifications: what a subscriber sees in the inbox."""

from __future__ import annotations

from django.db import models

from notifications.models import Category, Delivery, Subscriber


class Level(models.TextChoices):
    INFO = "info", "Info"
    SUCCESS = "success", "Success"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"


class Notification(models.Model):
    """One inbox item. Ids only grow, so "everything after id N" is how clients catch up."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE,
                                   related_name="inbox_notifications")
    # The delivery that wrote this row; unique so a retried send never writes twice.
    delivery = models.OneToOneField(Delivery, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="inbox_notification")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    title = models.CharField(max_length=500)
    body = models.TextField(blank=True)
    action_url = models.CharField(max_length=1000, blank=True)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # "This subscriber's unread, newest first" (list?unread=true, unread-count).
            models.Index(fields=["subscriber", "-id"], name="inbox_unread_idx",
                         condition=models.Q(read_at__isnull=True, deleted_at__isnull=True)),
            # The inbox list and catch-up: filter(subscriber=…, deleted_at=None, id__gt=…).
            models.Index(fields=["subscriber", "-id"], name="inbox_visible_idx",
                         condition=models.Q(deleted_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber_id}: {self.title}"


class PendingPush(models.Model):
    """Inbox rows whose live push has not been confirmed sent: written with the rows, deleted
    once the channel layer took the push. One left behind (a worker killed between commit
    and push, a layer outage) is pushed again by the sweeper."""

    notification_ids = models.JSONField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "live push in flight"

    def __str__(self) -> str:
        return f"push of {len(self.notification_ids)} inbox rows"
