"""Reading a configuration file and checking its structure before anything touches the
database: the format from the file name, parsing with line and column in errors, and the shape
of every section and item (types, unknown keys, missing names, duplicates), reported all at
once so that one run lists every structural problem.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from notifications.services.config_io.base import (
    CONFIG_VERSION,
    FORMATS,
    KINDS,
    TEMPLATE_FIELDS,
    ConfigError,
)


def config_format_for(*, path: str | Path) -> str:
    """'yaml' or 'json' from the file name; raise ``ConfigError`` for anything else."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ConfigError([f"{path}: cannot tell the format; name it .yaml, .yml or .json."])
    return fmt


def config_parse(*, text: str, fmt: str) -> dict[str, Any]:
    """Parse the file's text; raise ``ConfigError`` (with line and column) when it is not valid."""
    try:
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ConfigError([f"Not valid JSON: {exc}"]) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError([f"Not valid YAML: {where}{exc.problem or exc.context}."]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([f"Not valid YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise ConfigError(["The file must hold a mapping with 'version' and any of "
                           f"{', '.join(KINDS)}."])
    return data


@dataclass(frozen=True)
class Shape:
    identity: tuple[str, ...]  # required non-empty strings that name the item
    optional: tuple[str, ...]
    lists: tuple[tuple[str, type], ...] = ()  # keys holding lists, and their element type
    strings: tuple[str, ...] = ()  # optional keys that must be text (or null) when given


# The settings beyond a rule's routing: delays, digests and escalation.
RULE_TIMING = ("delay_seconds", "digest_window_seconds", "digest_at", "digest_key",
               "escalate_after_minutes", "escalate_channel")
CATEGORY_THROTTLE = ("throttle_limit", "throttle_window_seconds")

SHAPES = {
    "categories": Shape(("key",), ("name", "description", "critical", *CATEGORY_THROTTLE)),
    "groups": Shape(("name",), ("description", "members", "targets"),
                     lists=(("members", str), ("targets", dict))),
    "rules": Shape(("name",), ("description", "event_type", "condition", "category", "channels",
                                "audience", "groups", "enabled", *RULE_TIMING, "sample_data",
                                "templates"),
                    lists=(("groups", str), ("templates", dict)),
                    strings=("category", "digest_at", "digest_key", "escalate_channel")),
    # YAML reads an unquoted `locale: no` as false; insisting on text catches that.
    "templates": Shape(("event_type", "channel"), ("locale", *TEMPLATE_FIELDS),
                        strings=("locale",)),
}
TARGET_SHAPE = Shape(("channel", "address"), ("label",))
RULE_TEMPLATE_SHAPE = Shape(("channel",), ("locale", *TEMPLATE_FIELDS), strings=("locale",))


def item_label(where: str, item: Any, shape: Shape) -> str:
    """How problems name an item: its position, plus its identity keys when they are text."""
    if not isinstance(item, dict):
        return where
    names = [f"{key} {item[key]!r}" for key in shape.identity if isinstance(item.get(key), str)]
    return f"{where} ({', '.join(names)})" if names else where


def _identity(item: dict[str, Any], shape: Shape) -> tuple[str, ...] | None:
    """What makes the item unique in its list; None when a part of it is not text."""
    keys = shape.identity + (("locale",) if "locale" in shape.optional else ())
    values = tuple("" if item.get(key) is None else item[key] for key in keys)
    return values if all(isinstance(v, str) for v in values) else None


def _check_items(items: Any, shape: Shape, where: str) -> list[str]:
    """Structural problems of a list of items: types, unknown keys, missing names, duplicates."""
    if items is None:
        return []
    if not isinstance(items, list):
        return [f"{where}: must be a list."]
    problems: list[str] = []
    seen: dict[tuple[str, ...], int] = {}
    known = shape.identity + shape.optional
    for index, item in enumerate(items):
        label = item_label(f"{where}[{index}]", item, shape)
        if not isinstance(item, dict):
            problems.append(f"{label}: must be a mapping, not {type(item).__name__}.")
            continue
        unknown = [key for key in item if key not in known]
        if unknown:
            problems.append(f"{label}: unknown key(s) {', '.join(repr(k) for k in unknown)}; "
                            f"known: {', '.join(known)}.")
        problems += [f"{label}: {key}: required, as non-empty text." for key in shape.identity
                     if not isinstance(item.get(key), str) or not item[key].strip()]
        problems += [f"{label}: {key}: must be text (quote it)." for key in shape.strings
                     if item.get(key) is not None and not isinstance(item[key], str)]
        for key, kind in shape.lists:
            value = item.get(key)
            if value is not None and not (isinstance(value, list)
                                          and all(isinstance(v, kind) for v in value)):
                problems.append(f"{label}: {key}: must be a list of "
                                f"{'text values' if kind is str else 'mappings'}.")
        identity = _identity(item, shape)
        if identity is None:
            continue
        if identity in seen:
            problems.append(f"{label}: listed twice (also {where}[{seen[identity]}]).")
        seen.setdefault(identity, index)
    return problems


def check_document(config: dict[str, Any]) -> list[str]:
    """Every structural problem of a parsed document; an empty list when it may be loaded."""
    unknown = [key for key in config if key not in ("version", *KINDS)]
    problems = [f"Unknown top-level key(s) {', '.join(repr(k) for k in unknown)}; "
                f"known: version, {', '.join(KINDS)}."] if unknown else []
    # Required so that an empty or unrelated file is never mistaken for "no configuration".
    if config.get("version") != CONFIG_VERSION:
        problems.append(f"version: must be {CONFIG_VERSION} (found {config.get('version')!r}).")
    for kind in KINDS:
        problems += _check_items(config.get(kind), SHAPES[kind], kind)
    # A section that is not a list was reported above; its items are not looked at.
    for index, item in enumerate(_listed(config.get("groups"))):
        if isinstance(item, dict) and isinstance(item.get("targets"), list):
            where = f"{item_label(f'groups[{index}]', item, SHAPES['groups'])}: targets"
            problems += _check_items(item["targets"], TARGET_SHAPE, where)
    for index, item in enumerate(_listed(config.get("rules"))):
        if isinstance(item, dict) and isinstance(item.get("templates"), list):
            where = f"{item_label(f'rules[{index}]', item, SHAPES['rules'])}: templates"
            problems += _check_items(item["templates"], RULE_TEMPLATE_SHAPE, where)
    return problems


def _listed(section: Any) -> list[Any]:
    return section if isinstance(section, list) else []
