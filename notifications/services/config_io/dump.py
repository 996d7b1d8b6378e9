"""Writing the configuration out: ``config_dump`` gathers the categories, groups, rules and
templates staff configured in the admin as plain data in a stable order, and
``config_serialize`` renders it as YAML (multi-line text as literal blocks) or JSON, so the
file can live under version control and diff cleanly.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from notifications.models import Category, MessageTemplate, RecipientGroup, Rule, default_directory_id
from notifications.services.config_io.base import CONFIG_VERSION


def _template_out(template: MessageTemplate, *, with_event_type: bool) -> dict[str, Any]:
    # Empty text fields are left out: most templates use two or three of seven.
    head = {"event_type": template.event_type} if with_event_type else {}
    return {**head, "channel": template.channel, "locale": template.locale,
            **template.sources()}


def config_dump() -> dict[str, Any]:
    """Return the whole configuration as plain data, in a stable order for clean diffs."""
    groups = (RecipientGroup.objects.filter(directory_id=default_directory_id())
              .prefetch_related("members", "targets").order_by("name"))
    rules = (Rule.objects.select_related("category").prefetch_related("groups", "templates")
             .order_by("name"))
    event_templates = MessageTemplate.objects.filter(rule__isnull=True).order_by(
        "event_type", "channel", "locale")
    return {
        "version": CONFIG_VERSION,
        "categories": [
            {"key": c.key, "name": c.name, "description": c.description, "critical": c.critical,
             "throttle_limit": c.throttle_limit, "throttle_window_seconds": c.throttle_window_seconds}
            for c in Category.objects.order_by("key")
        ],
        "groups": [
            {"name": g.name, "description": g.description,
             "members": sorted(s.external_id for s in g.members.all()),
             "targets": [{"channel": t.channel, "address": t.address, "label": t.label}
                         for t in sorted(g.targets.all(), key=lambda t: (t.channel, t.address))]}
            for g in groups
        ],
        "rules": [
            {"name": r.name, "description": r.description, "event_type": r.event_type,
             "condition": r.condition, "category": r.category.key if r.category else None,
             "channels": r.channels, "audience": r.audience,
             "groups": sorted(g.name for g in r.groups.all()), "enabled": r.enabled,
             "delay_seconds": r.delay_seconds,
             "digest_window_seconds": r.digest_window_seconds,
             "digest_at": r.digest_at.isoformat("minutes" if not r.digest_at.second else "seconds")
             if r.digest_at is not None else None,
             "digest_key": r.digest_key,
             "escalate_after_minutes": r.escalate_after_minutes,
             "escalate_channel": r.escalate_channel,
             "sample_data": r.sample_data,
             "templates": [_template_out(t, with_event_type=False) for t in
                           sorted(r.templates.all(), key=lambda t: (t.channel, t.locale))]}
            for r in rules
        ],
        "templates": [_template_out(t, with_event_type=True) for t in event_templates],
    }


class _BlockDumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line text as literal blocks, so template diffs read well."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # PyYAML falls back to a quoted style by itself when a block cannot hold the value.
    return dumper.represent_scalar("tag:yaml.org,2002:str", value,
                                   style="|" if "\n" in value else None)


_BlockDumper.add_representer(str, _represent_str)


def config_serialize(*, config: dict[str, Any], fmt: str) -> str:
    """Render ``config`` as YAML or JSON text."""
    if fmt == "json":
        return json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    # yaml.safe_dump cannot take a Dumper; _BlockDumper is a SafeDumper, equally safe.
    return yaml.dump(config, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False)
