"""What a subscriber wants to receive: per category × channel switches and quiet hours."""

from __future__ import annotations

from django.db import models

from notifications.models import Category, Channel, Subscriber
from notifications.models.audience import validate_timezone


class Preference(models.Model):
    """A switch for one category on one channel; no row means the default (on)."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE,
                                   related_name="preferences")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="preferences")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "category", "channel"],
                                    name="unique_preference"),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber_id} {self.category_id}/{self.channel}: {self.enabled}"


class QuietHours(models.Model):
    """A daily window (in the subscriber's time zone) during which messages wait.

    ``start`` after ``end`` spans midnight (22:00–07:00).
    """

    subscriber = models.OneToOneField(Subscriber, on_delete=models.CASCADE,
                                      related_name="quiet_hours")
    enabled = models.BooleanField(default=True)
    start = models.TimeField()
    end = models.TimeField()
    timezone = models.CharField(max_length=64, validators=[validate_timezone],
                                help_text="IANA time zone, e.g. Europe/Vienna.")

    class Meta:
        verbose_name_plural = "quiet hours"

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M} {self.timezone}"
