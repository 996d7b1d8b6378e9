"""Who can be reached: directories, subscribers, recipient groups and the raw targets on groups.

A *directory* is the namespace an Application's key sees: its subscribers and
groups, each unique by external id or name within it. Each Application gets a
directory of its own, so two integrators cannot read or change each other's
people and the same external id may exist in both; staff may point several
Applications at one directory when one organisation wants a single inbox per
person. Staff-made rows (admin, config files, the command line) live in the
``default`` directory unless staff pick another.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from notifications.models.choices import Channel

GROUP_NAME_VALIDATOR = RegexValidator(
    r"^#[a-z0-9][a-z0-9._-]{0,62}$",
    "A group name is '#' followed by lowercase letters, digits, '.', '_' or '-'.",
)
# The external id is a URL path segment in the API (/api/subscribers/<external_id>).
EXTERNAL_ID_VALIDATOR = RegexValidator(r"^[^/\s][^/]*$", "An external id cannot contain '/' "
                                       "or start with a space.")
E164_VALIDATOR = RegexValidator(r"^\+[1-9]\d{6,14}$", "Use E.164 format, e.g. +14155550100.")


DEFAULT_DIRECTORY_NAME = "default"


class Directory(models.Model):
    """A namespace of subscribers and groups, read and written by the Applications using it."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "directories"

    def __str__(self) -> str:
        return self.name


def default_directory_id() -> int:
    """The ``default`` directory's id, creating it when a flushed database lost it.

    Not cached: tests that flush the database re-create it under a new id.
    """
    directory, _ = Directory.objects.get_or_create(name=DEFAULT_DIRECTORY_NAME)
    return directory.pk


def validate_timezone(value: str) -> None:
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone {value!r}.")


class Subscriber(models.Model):
    """A person the platform can reach, keyed by the integrator's own id within a directory."""

    directory = models.ForeignKey(Directory, on_delete=models.PROTECT, related_name="subscribers",
                                  default=default_directory_id)
    external_id = models.CharField(max_length=200, validators=[EXTERNAL_ID_VALIDATOR])
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=16, blank=True, validators=[E164_VALIDATOR])
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    locale = models.CharField(max_length=35, blank=True, help_text="e.g. 'en' or 'de-AT'.")
    timezone = models.CharField(max_length=64, blank=True, validators=[validate_timezone])
    # Chat handles by channel, e.g. {"matrix": "@ana:example.org", "slack": "https://hooks…"}.
    channel_addresses = models.JSONField(default=dict, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Set by a hard bounce or a spam complaint; later e-mails are skipped until cleared.
    email_undeliverable_at = models.DateTimeField(null=True, blank=True)
    email_undeliverable_reason = models.CharField(max_length=300, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="subscriber",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["external_id"]
        constraints = [
            models.UniqueConstraint(fields=["directory", "external_id"],
                                    name="unique_subscriber_per_directory"),
        ]

    def __str__(self) -> str:
        return self.external_id

    def save(self, *args, **kwargs) -> None:
        from notifications.targets import channel_addresses_protect

        # Webhook and Apprise URLs are credentials: only their references are kept here.
        self.channel_addresses = channel_addresses_protect(self.channel_addresses)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        unknown = set(self.channel_addresses or {}) - set(Channel.values)
        if unknown:
            raise ValidationError({"channel_addresses": f"Unknown channel(s): {sorted(unknown)}."})
        from notifications.addresses import address_validate, phone_validate

        if self.phone:
            try:  # a number the SMS channel would refuse is refused where it is entered
                self.phone = phone_validate(self.phone)
            except ValidationError as exc:
                raise ValidationError({"phone": exc.messages}) from exc
        for channel, address in (self.channel_addresses or {}).items():
            address_validate(channel=channel, address=address, field="channel_addresses")

    def address_for(self, channel: str) -> str:
        """Return this subscriber's address on ``channel``, or '' when there is none."""
        if channel == Channel.EMAIL:
            return self.email
        if channel == Channel.SMS:
            return self.phone
        from notifications.providers import subscriber_addressed_channels

        if channel in subscriber_addressed_channels():
            return self.external_id
        return str((self.channel_addresses or {}).get(channel, ""))

    def as_context(self) -> dict[str, object]:
        """What templates see as ``subscriber``."""
        return {
            "external_id": self.external_id,
            "email": self.email,
            "phone": self.phone,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "locale": self.locale,
            "timezone": self.timezone,
            "data": self.data or {},
        }


class RecipientGroup(models.Model):
    """A named audience such as ``#admins``: subscribers plus raw channel targets."""

    directory = models.ForeignKey(Directory, on_delete=models.PROTECT, related_name="groups",
                                  default=default_directory_id)
    name = models.CharField(max_length=64, validators=[GROUP_NAME_VALIDATOR])
    description = models.CharField(max_length=200, blank=True)
    members = models.ManyToManyField(Subscriber, blank=True, related_name="groups")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "recipient group"
        constraints = [
            models.UniqueConstraint(fields=["directory", "name"], name="unique_group_per_directory"),
        ]

    def __str__(self) -> str:
        return self.name


class GroupTargetQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for target in objs:
            target.protect_address()
        return super().bulk_create(objs, *args, **kwargs)


class GroupTarget(models.Model):
    """An address on one channel that belongs to a group: a room, a list, a webhook URL.

    A credential-bearing address (webhook or Apprise URL) is stored encrypted
    elsewhere; ``address`` then holds its masked reference (see
    ``notifications.targets``), which keeps the uniqueness below meaningful.
    """

    group = models.ForeignKey(RecipientGroup, on_delete=models.CASCADE, related_name="targets")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    address = models.CharField(max_length=500)
    label = models.CharField(max_length=100, blank=True)

    objects = GroupTargetQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "channel", "address"],
                                    name="unique_group_target"),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.label or self.address}"

    def save(self, *args, **kwargs) -> None:
        self.protect_address()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from notifications.addresses import address_validate

        address_validate(channel=self.channel, address=self.address, field="address")
        # Compare references, not plain URLs, when the form checks uniqueness next.
        self.protect_address()

    def protect_address(self) -> None:
        from notifications.targets import target_protect

        self.address = target_protect(channel=self.channel, address=self.address)
