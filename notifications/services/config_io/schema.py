"""The JSON Schema of a configuration file, for editors and CI to check a file before
``load_config`` does: built from the same shapes the loader checks and from the model
fields the values end up in, so it cannot drift from what is accepted."""

from __future__ import annotations

from typing import Any

from django.db import models

from notifications.models import Audience, Category, Channel, GroupTarget, MessageTemplate, Rule
from notifications.services.config_io.base import CONFIG_VERSION
from notifications.services.config_io.checks import (
    RULE_TEMPLATE_SHAPE,
    SHAPES,
    TARGET_SHAPE,
    Shape,
)

_TIME = {"type": ["string", "null"], "pattern": r"^\d{2}:\d{2}(:\d{2})?$",
         "description": "A time of day, 07:30."}
# Values whose meaning is not a model column of the same name.
_SPECIAL: dict[str, dict[str, Any]] = {
    "channels": {"type": "array", "minItems": 1, "uniqueItems": True,
                 "items": {"enum": Channel.values}},
    "audience": {"enum": Audience.values},
    "category": {"type": ["string", "null"], "description": "A category's key."},
    "groups": {"type": "array", "items": {"type": "string"}, "description": "Group names."},
    "members": {"type": "array", "items": {"type": "string"},
                "description": "Subscribers' external ids (default directory)."},
    "sample_data": {"type": "object"},
    "escalate_channel": {"enum": ["", None, *Channel.values]},
    "channel": {"enum": Channel.values},
}


def _field_schema(model: type[models.Model], name: str) -> dict[str, Any]:
    if name in _SPECIAL:
        return _SPECIAL[name]
    field = model._meta.get_field(name)
    nullable = ["null"] if field.null or isinstance(field, models.CharField | models.TextField) \
        else []
    if isinstance(field, models.BooleanField):
        return {"type": "boolean"}
    if isinstance(field, models.TimeField):
        return _TIME
    if isinstance(field, models.IntegerField):
        return {"type": ["integer", *nullable], "minimum": 0}
    if isinstance(field, models.CharField | models.TextField):
        schema: dict[str, Any] = {"type": ["string", *nullable]}
        if getattr(field, "max_length", None):
            schema["maxLength"] = field.max_length
        return schema
    return {}


def _object(shape: Shape, model: type[models.Model],
            nested: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    properties = {name: (nested or {}).get(name) or _field_schema(model, name)
                  for name in (*shape.identity, *shape.optional)}
    for name in shape.identity:
        properties[name] = {**properties[name], "type": "string", "minLength": 1}
    return {"type": "object", "additionalProperties": False, "required": list(shape.identity),
            "properties": properties}


def config_json_schema() -> dict[str, Any]:
    """The schema (draft 2020-12) of the files ``dump_config`` writes and ``load_config`` reads."""
    target = _object(TARGET_SHAPE, GroupTarget)
    rule_template = _object(RULE_TEMPLATE_SHAPE, MessageTemplate)
    from notifications.models import RecipientGroup

    sections = {
        "categories": _object(SHAPES["categories"], Category),
        "groups": _object(SHAPES["groups"], RecipientGroup,
                          {"targets": {"type": "array", "items": target}}),
        "rules": _object(SHAPES["rules"], Rule,
                         {"templates": {"type": "array", "items": rule_template}}),
        "templates": _object(SHAPES["templates"], MessageTemplate),
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Clarion configuration",
        "description": "Categories, groups, rules and templates, as manage.py dump_config "
                       "writes them and manage.py load_config applies them.",
        "type": "object",
        "additionalProperties": False,
        "required": ["version"],
        "properties": {"version": {"const": CONFIG_VERSION},
                       **{kind: {"type": ["array", "null"], "items": item}
                          for kind, item in sections.items()}},
    }
