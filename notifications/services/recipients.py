"""The ``to`` list of a trigger: parsed, checked against the database, and described.

An entry is one of:

* ``"user-123"`` — a subscriber's ``external_id``;
* ``"#admins"`` — a recipient group;
* ``{"email": "a@b.c"}`` — a raw address, keyed by its channel
  (also ``{"channel": "matrix", "address": "!room:hs"}``);
* ``{"subscriber_id": "user-9", "email": …, "phone": …, "first_name": …}`` —
  a subscriber created or updated on the fly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from notifications.addresses import address_validate
from notifications.models import Channel, RecipientGroup, Subscriber, default_directory_id

MAX_RECIPIENTS = 1000
INLINE_SUBSCRIBER_FIELDS = {"email", "phone", "first_name", "last_name", "locale", "timezone",
                            "data"}


@dataclass
class ParsedRecipients:
    subscriber_ids: list[str] = field(default_factory=list)
    group_names: list[str] = field(default_factory=list)
    targets: list[tuple[str, str]] = field(default_factory=list)  # (channel, address)
    inline_subscribers: list[dict] = field(default_factory=list)


def _parse_entry(entry: object, parsed: ParsedRecipients, *, staff: bool) -> None:
    if isinstance(entry, str):
        if not entry.strip():
            raise ValueError("an empty string is not a recipient")
        (parsed.group_names if entry.startswith("#") else parsed.subscriber_ids).append(entry)
        return
    if not isinstance(entry, dict):
        raise ValueError("a recipient is a string or an object")
    if "subscriber_id" in entry:
        extra = set(entry) - INLINE_SUBSCRIBER_FIELDS - {"subscriber_id"}
        if extra:
            raise ValueError(f"unknown subscriber field(s) {sorted(extra)}")
        if not isinstance(entry["subscriber_id"], str) or not entry["subscriber_id"].strip():
            raise ValueError("subscriber_id must be a non-empty string")
        parsed.inline_subscribers.append(entry)
        parsed.subscriber_ids.append(entry["subscriber_id"])
        return
    if set(entry) == {"channel", "address"}:
        channel, address = entry["channel"], entry["address"]
    elif len(entry) == 1:
        ((channel, address),) = entry.items()
    else:
        raise ValueError('an address is {"<channel>": "<address>"} or '
                         '{"channel": …, "address": …}')
    if channel not in Channel.values or channel == Channel.INAPP:
        raise ValueError(f"unknown channel {channel!r}")
    try:
        address_validate(channel=channel, address=address, staff=staff)
    except ValidationError as exc:
        raise ValueError(" ".join(exc.messages)) from exc
    parsed.targets.append((channel, address))


def recipients_parse(raw: object, *, check_exist: bool = True, directory_id: int | None = None,
                     staff: bool = True) -> ParsedRecipients:
    """Parse and check a ``to`` list; raise ``ValidationError({"to": [...]})`` naming each problem.

    With ``check_exist`` every named subscriber and group must exist.
    """
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise ValidationError({"to": ["Must be a list of recipients."]})
    if len(raw) > MAX_RECIPIENTS:
        raise ValidationError({"to": [f"At most {MAX_RECIPIENTS} recipients per event; "
                                      "use a group for larger audiences."]})
    parsed = ParsedRecipients()
    problems = []
    for index, entry in enumerate(raw):
        try:
            _parse_entry(entry, parsed, staff=staff)
        except ValueError as exc:
            problems.append(f"Recipient {index} ({entry!r}): {str(exc).rstrip('.')}.")
    if problems:
        raise ValidationError({"to": problems})
    if check_exist:
        _check_exist(parsed, directory_id=directory_id or default_directory_id())
    return parsed


def _check_exist(parsed: ParsedRecipients, *, directory_id: int) -> None:
    inline = {entry["subscriber_id"] for entry in parsed.inline_subscribers}
    wanted = set(parsed.subscriber_ids) - inline
    known = set(Subscriber.objects.filter(directory_id=directory_id, external_id__in=wanted)
                .values_list("external_id", flat=True))
    problems = [f"Unknown subscriber {name!r}." for name in sorted(wanted - known)]
    groups = set(parsed.group_names)
    known_groups = set(RecipientGroup.objects.filter(directory_id=directory_id, name__in=groups)
                       .values_list("name", flat=True))
    problems += [f"Unknown group {name!r}." for name in sorted(groups - known_groups)]
    if problems:
        raise ValidationError({"to": problems})


def inline_subscribers_upsert(parsed: ParsedRecipients, *, directory_id: int) -> None:
    """Create or update the subscribers given inline, in ``directory_id``; call inside the
    ingest transaction."""
    for entry in parsed.inline_subscribers:
        defaults = {k: v for k, v in entry.items() if k in INLINE_SUBSCRIBER_FIELDS}
        subscriber = (Subscriber.objects.filter(directory_id=directory_id,
                                                external_id=entry["subscriber_id"]).first()
                      or Subscriber(directory_id=directory_id, external_id=entry["subscriber_id"]))
        for name, value in defaults.items():
            setattr(subscriber, name, value)
        try:
            subscriber.full_clean(validate_unique=False)
        except ValidationError as exc:
            raise ValidationError({"to": [f"Subscriber {entry['subscriber_id']!r}: {m}"
                                          for m in exc.messages]}) from exc
        subscriber.save()
