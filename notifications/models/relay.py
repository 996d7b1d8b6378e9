"""Named destinations of the URL-only relay (``/post/channel/{name}/msg/{message}``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from notifications.models.audience import RecipientGroup
from notifications.models.choices import Channel

RELAY_NAME_VALIDATOR = RegexValidator(
    r"^[a-z0-9][a-z0-9_-]{0,62}$",
    "Use lowercase letters, digits, '-' and '_' (it is a URL path segment).",
)
#: Channels a relay can post to: the one-line messages of chat and SMS.
RELAY_CHANNELS = (Channel.MATRIX, Channel.MATTERMOST, Channel.SLACK, Channel.TEAMS,
                  Channel.APPRISE, Channel.SMS)


class RelayChannel(models.Model):
    """Where a relayed message goes: one chat target, or every chat target of a group."""

    name = models.CharField(max_length=63, unique=True, validators=[RELAY_NAME_VALIDATOR],
                            help_text="The {channel} in /post/channel/{channel}/msg/{message}.")
    description = models.CharField(max_length=200, blank=True)
    channel = models.CharField(
        max_length=20, blank=True,
        choices=[(c.value, c.label) for c in RELAY_CHANNELS],
        help_text="With an address: post to this one target.")
    address = models.CharField(
        max_length=500, blank=True,
        help_text="A Matrix room id or alias, a Mattermost channel id or webhook URL, a "
                  "Slack or Teams webhook URL, an Apprise URL or a phone number. URLs are "
                  "stored encrypted and shown masked.")
    group = models.ForeignKey(
        RecipientGroup, null=True, blank=True, on_delete=models.PROTECT,
        related_name="relay_channels",
        help_text="Instead of a channel and address: every chat and SMS target of this group.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(group__isnull=True) & ~models.Q(channel="")
                           & ~models.Q(address=""))
                | (models.Q(group__isnull=False) & models.Q(channel="") & models.Q(address="")),
                name="relay_channel_one_target",
                violation_error_message="Set either a channel and an address, or a group."),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        from notifications.targets import target_protect

        self.address = target_protect(channel=self.channel, address=self.address)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from notifications.addresses import address_validate
        from notifications.targets import target_protect

        if self.group_id and (self.channel or self.address):
            raise ValidationError("Set either a channel and an address, or a group — not both.")
        if not self.group_id:
            if not self.channel:
                raise ValidationError({"channel": "Choose a channel (or a group instead)."})
            address_validate(channel=self.channel, address=self.address, field="address")
            self.address = target_protect(channel=self.channel, address=self.address)

    @property
    def target_display(self) -> str:
        if self.group_id:
            return self.group.name
        return f"{self.channel}: {self.address}"
