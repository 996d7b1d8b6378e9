"""Test messages from the admin: one message, to one target, through the real provider.

Staff check a channel the way its users will meet it: the message is sent now
through the configured provider and the real outcome — the provider's id, or
its error — comes back. Like relay messages, each test is an Event with one
Delivery, so it is in the delivery log too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from notifications.addresses import address_validate
from notifications.models import Channel, Delivery, GroupTarget, RelayChannel
from notifications.providers import provider_for
from notifications.services.direct import direct_message_send

TEST_EVENT_TYPE = "clarion.test_message"
#: The channels the admin's channel page covers, in the order it lists them.
TESTABLE_CHANNELS = [Channel.SMS, Channel.MATRIX, Channel.MATTERMOST, Channel.SLACK,
                     Channel.TEAMS, Channel.APPRISE]


@dataclass(frozen=True)
class ChannelState:
    channel: str
    label: str
    configured: bool
    problem: str
    targets: list[tuple[str, str]]  # (address, where it is used)


def channel_states() -> list[ChannelState]:
    """Each testable channel: whether it can send, what to set if not, where it is used."""
    states = []
    for channel in TESTABLE_CHANNELS:
        provider = provider_for(channel)
        problem_of = getattr(provider, "configuration_problem", None)
        problem = problem_of() if problem_of else ""
        configured = provider is not None and provider.is_configured()
        if provider is None:
            problem = "No provider is installed for this channel."
        used: dict[str, list[str]] = {}
        for group_name, address in (GroupTarget.objects.filter(channel=channel)
                                    .values_list("group__name", "address")):
            used.setdefault(address, []).append(group_name)
        for name, address in RelayChannel.objects.filter(channel=channel).values_list(
                "name", "address"):
            used.setdefault(address, []).append(f"relay {name}")
        states.append(ChannelState(channel=channel, label=Channel(channel).label,
                                   configured=configured, problem=problem,
                                   targets=[(a, ", ".join(w)) for a, w in used.items()]))
    return states


def channel_test_send(*, channel: str, address: str, message: str, sent_by: str) -> Delivery:
    """Send ``message`` to ``address`` on ``channel`` now; return the delivery as it ended."""
    if channel not in TESTABLE_CHANNELS:
        raise ValidationError({"channel": f"Test messages are not available for {channel!r}."})
    address_validate(channel=channel, address=address, field="address")
    _event, [delivery] = direct_message_send(
        event_type=TEST_EVENT_TYPE, data={"sent_by": sent_by, "message": message},
        targets=[(channel, address)],
        rendered={"subject": "Clarion test message", "short_body": message,
                  "text_body": message})
    return delivery
