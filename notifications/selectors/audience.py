"""Turn an event and a rule into the recipients it reaches, a keyset chunk at a time.

Resolution happens when the event is processed, not when it is accepted, so a
group edited in the admin applies to the next event without a restart. An
audience is two parts: *subscribers* (named in ``to``, or members of the
rule's or the event's groups), walked in primary-key order in chunks so a
group of a million never sits in memory at once; and *raw targets* (inline
addresses and the groups' own targets), which are few and come whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from notifications.models import (
    Audience,
    Event,
    GroupTarget,
    RecipientGroup,
    Rule,
    Subscriber,
    default_directory_id,
)
from notifications.services.recipients import recipients_parse


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


@dataclass(frozen=True)
class AudienceSpec:
    """Who a rule reaches for one event, before anyone is looked up."""

    external_ids: frozenset[str] = frozenset()
    directory_id: int | None = None  # where ``external_ids`` are looked up
    group_ids: frozenset[int] = frozenset()
    targets: tuple[tuple[str, str], ...] = field(default=())


def audience_spec(*, event: Event, rule: Rule) -> AudienceSpec:
    external_ids: set[str] = set()
    group_ids: set[int] = set()
    targets: list[tuple[str, str]] = []
    directory_id = None
    if rule.audience in (Audience.RECIPIENTS, Audience.BOTH):
        # Names in ``to`` mean what they mean in the event's Application's directory.
        # They were checked on ingest; a group or subscriber deleted since then simply
        # drops out of the queries below instead of failing the whole event.
        directory_id = event.directory_id or default_directory_id()
        parsed = recipients_parse(event.recipients, check_exist=False)
        external_ids.update(parsed.subscriber_ids)
        group_ids.update(RecipientGroup.objects.filter(directory_id=directory_id,
                                                       name__in=parsed.group_names)
                         .values_list("pk", flat=True))
        targets += parsed.targets
    if rule.audience in (Audience.GROUPS, Audience.BOTH):
        # The rule's groups were chosen by staff, whichever directory they are in.
        group_ids.update(rule.groups.values_list("pk", flat=True))
    return AudienceSpec(frozenset(external_ids), directory_id, frozenset(group_ids),
                        tuple(targets))


def audience_subscribers(spec: AudienceSpec, *, after: int = 0,
                         upto: int | None = None) -> QuerySet[Subscriber]:
    """Every subscriber the audience names with ``after < pk <= upto``, each once (a
    semi-join, not a join with members).

    The bounds are repeated inside the membership subquery on purpose: PostgreSQL
    does not carry a range on ``subscriber.id`` over to ``members.subscriber_id``,
    so without them every chunk of a million-member group read the whole
    membership table and a broadcast's fan-out grew with the square of its size.
    With them each chunk is a range scan of the membership's (group, subscriber)
    index.
    """
    bounds = {"pk__gt": after} | ({"pk__lte": upto} if upto is not None else {})
    member_bounds = {f"subscriber_id__{lookup[4:]}": value for lookup, value in bounds.items()}
    membership = RecipientGroup.members.through.objects.filter(
        recipientgroup_id__in=spec.group_ids, **member_bounds).values("subscriber_id")
    named = Q(directory_id=spec.directory_id, external_id__in=spec.external_ids)
    return Subscriber.objects.filter(named | Q(pk__in=membership), **bounds)


def audience_chunk_end(spec: AudienceSpec, *, after: int, size: int) -> int | None:
    """The primary key ending the next chunk of ``size`` subscribers after ``after``,
    or None when fewer than ``size`` remain (the chunk runs to the end)."""
    ends = (audience_subscribers(spec, after=after).order_by("pk")
            .values_list("pk", flat=True)[size - 1:size])
    return next(iter(ends), None)


def audience_chunk(spec: AudienceSpec, *, after: int, upto: int | None) -> QuerySet[Subscriber]:
    """The subscribers with ``after < pk <= upto`` (``upto`` None: to the end), in pk order."""
    return audience_subscribers(spec, after=after, upto=upto).order_by("pk")


def audience_targets(spec: AudienceSpec) -> list[Recipient]:
    """The raw targets: inline addresses first, then the groups' own targets, each once."""
    recipients: dict[str, Recipient] = {}
    group_targets = GroupTarget.objects.filter(group__in=spec.group_ids).order_by("pk")
    for channel, address in [*spec.targets, *group_targets.values_list("channel", "address")]:
        recipient = Recipient(channel=channel, address=address)
        recipients.setdefault(recipient.key, recipient)
    return list(recipients.values())
