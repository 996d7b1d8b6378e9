"""Turn an event and a rule into the concrete recipients it reaches.

Resolution happens when the event is processed, not when it is accepted, so a
group edited in the admin applies to the next event without a restart.
"""

from __future__ import annotations

from dataclasses import dataclass

from notifications.models import Audience, Event, GroupTarget, RecipientGroup, Rule, Subscriber
from notifications.services.recipients import ParsedRecipients, recipients_parse


@dataclass(frozen=True)
class Recipient:
    """A subscriber (reached on any channel they have an address for) or a raw target."""

    subscriber: Subscriber | None = None
    channel: str = ""  # raw targets only
    address: str = ""  # raw targets only

    @property
    def key(self) -> str:
        if self.subscriber is not None:
            return f"sub:{self.subscriber.pk}"
        return f"{self.channel}:{self.address}"


def _parsed_event_recipients(event: Event) -> ParsedRecipients:
    # Checked on ingest; a group or subscriber deleted since then simply drops
    # out of the queries below instead of failing the whole event.
    return recipients_parse(event.recipients, check_exist=False)


def audience_resolve(*, event: Event, rule: Rule) -> list[Recipient]:
    """Every distinct recipient of ``rule`` for ``event``, in a stable order."""
    subscriber_ids: set[str] = set()
    group_ids: set[int] = set()
    targets: list[tuple[str, str]] = []
    if rule.audience in (Audience.RECIPIENTS, Audience.BOTH):
        parsed = _parsed_event_recipients(event)
        subscriber_ids.update(parsed.subscriber_ids)
        group_ids.update(RecipientGroup.objects.filter(name__in=parsed.group_names)
                         .values_list("pk", flat=True))
        targets += parsed.targets
    if rule.audience in (Audience.GROUPS, Audience.BOTH):
        group_ids.update(rule.groups.values_list("pk", flat=True))

    subscribers = (Subscriber.objects.filter(external_id__in=subscriber_ids)
                   | Subscriber.objects.filter(groups__in=group_ids))
    recipients: dict[str, Recipient] = {}
    for subscriber in subscribers.distinct().order_by("pk"):
        recipient = Recipient(subscriber=subscriber)
        recipients.setdefault(recipient.key, recipient)
    group_targets = GroupTarget.objects.filter(group__in=group_ids).order_by("pk")
    for channel, address in [*targets, *group_targets.values_list("channel", "address")]:
        recipient = Recipient(channel=channel, address=address)
        recipients.setdefault(recipient.key, recipient)
    return list(recipients.values())
