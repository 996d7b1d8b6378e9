"""The fixed vocabularies shared by models, services and the API."""

from __future__ import annotations

from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    INAPP = "inapp", "In-app"
    WEBHOOK = "webhook", "Webhook"
    MATRIX = "matrix", "Matrix"
    MATTERMOST = "mattermost", "Mattermost"
    SLACK = "slack", "Slack"
    TEAMS = "teams", "Microsoft Teams"
    APPRISE = "apprise", "Apprise"
    PUSH = "push", "Push (phones and browsers)"


class EventStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    RECEIVED = "received", "Received"
    PROCESSING = "processing", "Processing"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    # The provider accepted the message but the carrier could not hand it over (SMS).
    UNDELIVERED = "undelivered", "Undelivered"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    # E-mail tracking (ESP webhooks): the message came back, or the recipient reported it.
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Marked as spam"


class SkipReason(models.TextChoices):
    NO_ADDRESS = "no_address", "Recipient has no address for this channel"
    NOT_CONFIGURED = "not_configured", "Channel not configured"
    PREFERENCE = "preference", "Muted by the recipient's preferences"
    QUIET_HOURS = "quiet_hours", "Recipient's quiet hours"
    UNDELIVERABLE = "undeliverable", "Address marked undeliverable (hard bounce or complaint)"
    DIGESTED = "digested", "Folded into a digest"
    READ = "read", "Read in the inbox before it escalated"


class Audience(models.TextChoices):
    RECIPIENTS = "recipients", "The event's own recipients"
    GROUPS = "groups", "The rule's groups"
    BOTH = "both", "Both"
