"""Credential-bearing chat targets kept encrypted, and the admin's channel page.

A Slack, Teams or Mattermost incoming-webhook URL, or an Apprise URL, is itself
the credential: whoever reads it can post. Such a target is stored once here,
encrypted, and everywhere else (group targets, subscribers' channel addresses,
an event's recipients, deliveries, relay channels) only its *reference* is
kept: a masked hint followed by ``[ref:<digest>]``. Providers turn the
reference back into the URL at send time (``notifications.targets``).
"""

from __future__ import annotations

from django.db import models

from notifications.fields import EncryptedTextField
from notifications.models.choices import Channel


class TargetSecret(models.Model):
    """One credential-bearing target; ``digest`` is a keyed hash of (channel, value)."""

    channel = models.CharField(max_length=20, choices=Channel.choices)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    value = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel", "created_at"]
        verbose_name = "stored chat target"

    def __str__(self) -> str:
        return f"{self.channel}:{self.digest[:12]}"


class ChannelAdminPage(models.Model):
    """No table: gives the admin its "Channels" page (configuration and test messages) and
    the permission to send test messages, which reach real people and rooms."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("send_test_message", "Can send test messages through a channel")]
        verbose_name = "channel"
        verbose_name_plural = "channels: status and test messages"

    def __str__(self) -> str:
        return "channels"
