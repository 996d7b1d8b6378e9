"""Data model of the notifications core (design §4), one module per concern."""

from notifications.models.applications import ApiKey, Application
from notifications.models.audience import (
    Directory,
    GroupTarget,
    RecipientGroup,
    Subscriber,
    default_directory_id,
)
from notifications.models.choices import (
    Audience,
    Channel,
    DeliveryStatus,
    EventStatus,
    SkipReason,
)
from notifications.models.digests import DigestBatch, DigestItem
from notifications.models.events import Delivery, DeliveryAttempt, Event, TrackingEvent
from notifications.models.handoffs import Handoff
from notifications.models.relay import RelayChannel
from notifications.models.rules import Category, MessageTemplate, Rule
from notifications.models.targets import ChannelAdminPage, TargetSecret

__all__ = [
    "ApiKey",
    "Application",
    "Audience",
    "Category",
    "Channel",
    "ChannelAdminPage",
    "Delivery",
    "Directory",
    "DeliveryAttempt",
    "DeliveryStatus",
    "DigestBatch",
    "DigestItem",
    "Event",
    "EventStatus",
    "GroupTarget",
    "Handoff",
    "MessageTemplate",
    "RecipientGroup",
    "RelayChannel",
    "Rule",
    "SkipReason",
    "Subscriber",
    "TargetSecret",
    "default_directory_id",
    "TrackingEvent",
]
