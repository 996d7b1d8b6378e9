"""Reading and changing a subscriber's preferences: category × channel switches, quiet hours.

Critical categories are shown locked and cannot be muted; a request that tries
is refused as a whole, so a preferences form is saved entirely or not at all.
"""

from __future__ import annotations

import zoneinfo
from datetime import time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from inbox.models import Preference, QuietHours
from notifications.models import Category, Channel, Subscriber

#: Channels a person can switch (webhooks go to systems, not people).
PREFERENCE_CHANNELS = [c for c in Channel.values if c != Channel.WEBHOOK]


def preferences_get(*, subscriber: Subscriber) -> dict[str, Any]:
    switches = {(p.category_id, p.channel): p.enabled
                for p in Preference.objects.filter(subscriber=subscriber)}
    categories = [{
        "key": category.key, "name": category.name, "description": category.description,
        "critical": category.critical, "locked": category.critical,
        "channels": {channel: True if category.critical else switches.get((category.pk, channel), True)
                     for channel in PREFERENCE_CHANNELS},
    } for category in Category.objects.order_by("name")]
    quiet = QuietHours.objects.filter(subscriber=subscriber).first()
    return {
        "channels": _offered_channels(),
        "categories": categories,
        "quiet_hours": {
            "enabled": bool(quiet and quiet.enabled),
            "start": quiet.start.strftime("%H:%M") if quiet else None,
            "end": quiet.end.strftime("%H:%M") if quiet else None,
            "timezone": quiet.timezone if quiet else (subscriber.timezone or "UTC"),
        },
    }


def _offered_channels() -> list[str]:
    """The channels worth a switch: configured here and used by some enabled rule (its own
    or its escalation). In-app always, since this page is its inbox. The stored switches of
    the others are kept and still honoured, only not shown."""
    from notifications.models import Rule
    from notifications.providers import provider_for

    used = {Channel.INAPP}
    for channels, escalation in Rule.objects.filter(enabled=True).values_list(
            "channels", "escalate_channel"):
        used.update(channels or [])
        if escalation:
            used.add(escalation)
    return [channel for channel in PREFERENCE_CHANNELS if channel in used
            and (provider := provider_for(channel)) is not None and provider.is_configured()]


def _parse_time(value: object, field: str) -> time:
    try:
        if not isinstance(value, str):  # 2200 would read as 22:00
            raise ValueError
        return time.fromisoformat(value)
    except ValueError:
        raise ValidationError({field: [f"{value!r} is not a time like 22:00."]}) from None


def _quiet_hours_values(raw: object) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValidationError({"quiet_hours": ["Must be an object."]})
    unknown = set(raw) - {"enabled", "start", "end", "timezone"}
    if unknown:
        raise ValidationError({"quiet_hours": [f"Unknown field(s): {sorted(unknown)}."]})
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ValidationError({"quiet_hours.enabled": ["Must be true or false."]})
    if not enabled and not raw.get("start"):
        return {"enabled": False}
    tz = raw.get("timezone") or "UTC"
    if not isinstance(tz, str):
        raise ValidationError({"quiet_hours.timezone": ["Must be a time zone name such as "
                                                        "'Europe/Berlin'."]})
    if tz not in zoneinfo.available_timezones():
        raise ValidationError({"quiet_hours.timezone": [f"Unknown time zone {tz!r}."]})
    start = _parse_time(raw.get("start"), "quiet_hours.start")
    end = _parse_time(raw.get("end"), "quiet_hours.end")
    if start == end:
        raise ValidationError({"quiet_hours": ["Start and end must differ."]})
    return {"enabled": enabled, "start": start, "end": end, "timezone": tz}


def _as_mapping(raw: list) -> dict[str, object]:
    """The list ``preferences_get`` answers with, as ``{key: channels}``: a client may GET,
    change a switch and PUT the whole document back."""
    mapping: dict[str, object] = {}
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise ValidationError({"categories": ['Each entry needs a "key" and its "channels".']})
        mapping[item["key"]] = item.get("channels", {})
    return mapping


def _switches(raw: object) -> list[tuple[Category, str, bool]]:
    if raw is None:
        return []
    if isinstance(raw, list):
        raw = _as_mapping(raw)
    if not isinstance(raw, dict):
        raise ValidationError({"categories": ['Must be {"<category key>": {"<channel>": bool}}.']})
    by_key = {c.key: c for c in Category.objects.filter(key__in=list(raw))}
    changes, problems = [], []
    for key, channels in raw.items():
        category = by_key.get(key)
        if category is None:
            problems.append(f"Unknown category {key!r}.")
            continue
        if not isinstance(channels, dict):
            problems.append(f"{key}: must be an object of channel → true/false.")
            continue
        for channel, enabled in channels.items():
            if channel not in PREFERENCE_CHANNELS:
                problems.append(f"{key}: unknown channel {channel!r}.")
            elif not isinstance(enabled, bool):
                problems.append(f"{key}.{channel}: must be true or false.")
            elif category.critical and not enabled:
                problems.append(f"{key} is critical and cannot be muted.")
            else:
                changes.append((category, channel, enabled))
    if problems:
        raise ValidationError({"categories": problems})
    return changes


@transaction.atomic
def preferences_update(*, subscriber: Subscriber, data: dict[str, Any]) -> dict[str, Any]:
    """Apply ``{"categories": {...}, "quiet_hours": {...}}``; all or nothing. Return the result."""
    if not isinstance(data, dict):
        raise ValidationError("Send a JSON object.")
    # "channels" is the read-only list GET answers with; sent back, it is ignored.
    unknown = set(data) - {"categories", "quiet_hours", "channels"}
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    changes = _switches(data.get("categories"))
    quiet = _quiet_hours_values(data.get("quiet_hours"))
    for category, channel, enabled in changes:
        Preference.objects.update_or_create(subscriber=subscriber, category=category,
                                            channel=channel, defaults={"enabled": enabled})
    if quiet is not None:
        if quiet.get("start") is None:
            QuietHours.objects.filter(subscriber=subscriber).update(enabled=False)
        else:
            QuietHours.objects.update_or_create(subscriber=subscriber, defaults=quiet)
    return preferences_get(subscriber=subscriber)
