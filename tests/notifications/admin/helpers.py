"""Helpers that build the POST bodies the admin's forms send, and run the pipeline."""

from __future__ import annotations

import json
from typing import Any

from notifications.models import MessageTemplate, Rule

TEMPLATE_FIELDS = ("channel", "locale", *MessageTemplate.TEXT_FIELDS,
                   *MessageTemplate.HTML_FIELDS)


def rule_form_data(*, rule: Rule | None = None, templates: list[dict[str, Any]] | None = None,
                   **overrides: Any) -> dict[str, Any]:
    """The rule change form as a browser posts it, with its inline templates.

    ``templates`` are dicts of template fields; one with an ``id`` edits that
    existing template, the others are new rows.
    """
    data: dict[str, Any] = {
        "name": rule.name if rule else "new rule",
        "description": rule.description if rule else "",
        "category": rule.category_id or "" if rule else "",
        "event_type": rule.event_type if rule else "order.shipped",
        "condition": rule.condition if rule else "",
        "audience": rule.audience if rule else "recipients",
        "groups": [g.pk for g in rule.groups.all()] if rule else [],
        "channels": list(rule.channels) if rule else ["email"],
        "sample_data": json.dumps(rule.sample_data if rule else {}),
        "delay_seconds": rule.delay_seconds if rule else 0,
    }
    if rule is None or rule.enabled:
        data["enabled"] = "on"
    data.update(overrides)
    if isinstance(data.get("sample_data"), dict):
        data["sample_data"] = json.dumps(data["sample_data"])
    templates = templates or []
    initial = sum(1 for t in templates if t.get("id"))
    data.update({"templates-TOTAL_FORMS": str(len(templates)),
                 "templates-INITIAL_FORMS": str(initial),
                 "templates-MIN_NUM_FORMS": "0", "templates-MAX_NUM_FORMS": "1000"})
    # Existing rows first: a formset binds its initial forms to the first indexes.
    ordered = sorted(templates, key=lambda t: not t.get("id"))
    for index, template in enumerate(ordered):
        prefix = f"templates-{index}-"
        data[f"{prefix}id"] = template.get("id", "")
        data[f"{prefix}rule"] = rule.pk if rule else ""
        for name in TEMPLATE_FIELDS:
            data[prefix + name] = template.get(name, "")
    return data


def template_fields(template: MessageTemplate) -> dict[str, Any]:
    """An existing template's fields, as the inline or standalone form posts them."""
    return {"id": template.pk, **{name: getattr(template, name) for name in TEMPLATE_FIELDS}}


def template_form_data(template: MessageTemplate, **overrides: Any) -> dict[str, Any]:
    """The standalone message template change form as a browser posts it."""
    data = template_fields(template)
    data.pop("id")
    data.update(rule=template.rule_id or "", event_type=template.event_type)
    data.update(overrides)
    return data


def action_data(action: str, *objects: Any) -> dict[str, Any]:
    """A changelist POST that runs ``action`` on ``objects``."""
    return {"action": action, "_selected_action": [str(obj.pk) for obj in objects]}
