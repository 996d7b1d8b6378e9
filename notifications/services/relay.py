"""The URL-only relay: one message, posted now to a named relay channel's targets.

A relay channel points at one chat or SMS target, or at a group (then every
chat and SMS target of that group). The message becomes a ``relay.post`` event
with one delivery per target, each sent inline (``notifications.services.direct``),
so the caller learns the real outcome and the delivery log shows the message
like any other.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

from notifications.models import ApiKey, Delivery, DeliveryStatus, Event, RelayChannel
from notifications.models.relay import RELAY_CHANNELS
from notifications.services.direct import direct_message_send

RELAY_EVENT_TYPE = "relay.post"


class NoRelayTargets(Exception):
    """The relay channel's group has no chat or SMS target to post to."""


@dataclass(frozen=True)
class RelayOutcome:
    event: Event
    deliveries: list[Delivery]

    @property
    def accepted(self) -> bool:
        """Every target's provider took the message."""
        return bool(self.deliveries) and all(
            d.status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED) for d in self.deliveries)


def relay_channel_targets(*, relay: RelayChannel) -> list[tuple[str, str]]:
    """The (channel, address) pairs a relay channel posts to."""
    if relay.group_id is None:
        return [(relay.channel, relay.address)]
    return list(relay.group.targets.filter(channel__in=RELAY_CHANNELS).order_by("pk")
                .values_list("channel", "address"))


def relay_message_validate(message: str) -> str:
    """The message as it will be posted; ``ValidationError`` naming ``message`` otherwise."""
    limit = settings.RELAY_MAX_MESSAGE_LENGTH
    if not message.strip():
        raise ValidationError({"message": ["The message is empty."]})
    if len(message) > limit:
        raise ValidationError({"message": [f"The message is {len(message)} characters long; "
                                           f"the limit is {limit}."]})
    return message


def relay_post(*, relay: RelayChannel, message: str, api_key: ApiKey) -> RelayOutcome:
    """Post ``message`` to the relay channel's targets; raise ``NoRelayTargets`` when it has none."""
    message = relay_message_validate(message)
    targets = relay_channel_targets(relay=relay)
    if not targets:
        raise NoRelayTargets(f"The relay channel {relay.name!r} has no chat or SMS target "
                             f"(its group {relay.group.name if relay.group_id else ''} has none).")
    event, deliveries = direct_message_send(
        event_type=RELAY_EVENT_TYPE, data={"channel": relay.name, "message": message},
        targets=targets, rendered={"short_body": message, "text_body": message},
        application=api_key.application, api_key=api_key)
    return RelayOutcome(event=event, deliveries=deliveries)
