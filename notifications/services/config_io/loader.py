"""The section-by-section work behind ``config_load``: ``ConfigLoader`` upserts a
structurally checked document inside the caller's transaction, resolves references between
items, prunes what the file no longer lists, and collects every problem with the item and
field it belongs to instead of stopping at the first.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models

from notifications.models import (
    Category,
    GroupTarget,
    MessageTemplate,
    RecipientGroup,
    Rule,
    Subscriber,
    default_directory_id,
)
from notifications.services.config_io.base import TEMPLATE_FIELDS, ConfigError, LoadSummary
from notifications.services.config_io.checks import (
    CATEGORY_THROTTLE,
    SHAPES,
    item_label,
)

# Bookkeeping columns are not configuration; comparing them would make every
# row look changed.
_NOT_COMPARED = {"id", "created_at", "updated_at"}


def _text(item: dict[str, Any], key: str) -> Any:
    """A text field's value; an empty YAML value (null) means empty text."""
    value = item.get(key)
    return "" if value is None else value


def _snapshot(instance: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields
            if f.name not in _NOT_COMPARED}


def _problems_of(exc: ValidationError, label: str, prefix: str = "") -> list[str]:
    """'label: prefix.field: message' for each message, so the file's author can find it."""
    if not hasattr(exc, "error_dict"):
        where = f"{prefix.rstrip('.')}: " if prefix else ""
        return [f"{label}: {where}{message}" for message in exc.messages]
    problems = []
    for name, messages in exc.message_dict.items():
        where = prefix.rstrip(".") if name == NON_FIELD_ERRORS else f"{prefix}{name}"
        problems += [f"{label}: {where + ': ' if where else ''}{m}" for m in messages]
    return problems


class ConfigLoader:
    """Applies one checked document inside the caller's transaction, collecting problems."""

    def __init__(self, *, config: dict[str, Any], prune: bool, summary: LoadSummary):
        self.config = config
        self.summary = summary
        # A configuration file holds the default directory's groups (staff's own).
        self.directory_id = default_directory_id()
        self.problems: list[str] = []
        # Names the file keeps per pruned kind; references must stay inside them.
        self.kept: dict[str, set[str]] = {}
        if prune:
            for kind, key in (("categories", "key"), ("groups", "name"), ("rules", "name")):
                if kind in config:
                    self.kept[kind] = {item[key] for item in config[kind] or []}
        self.prune_templates = prune and "templates" in config

    def items(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        return [(item_label(f"{kind}[{i}]", item, SHAPES[kind]), item)
                for i, item in enumerate(self.config.get(kind) or [])]

    def count(self, kind: str, outcome: str, n: int = 1) -> None:
        counts = self.summary.counts[kind]
        setattr(counts, outcome, getattr(counts, outcome) + n)

    def upsert(self, instance: models.Model, values: dict[str, Any], label: str,
               prefix: str = "", *, save: bool = True) -> str | None:
        """Validate and save when different; return the outcome, or None after a problem.

        With ``save=False`` only validate (the caller already found a problem) and return None.
        """
        before = None if instance.pk is None else _snapshot(instance)
        # Django treats [] and {} as "empty" and skips validating them, then fails saving
        # them into a number or text column: refuse them here, by name.
        misfits = [name for name, value in values.items() if isinstance(value, list | dict)
                   and not isinstance(instance._meta.get_field(name),
                                      models.JSONField | models.ForeignKey)]
        if misfits:
            self.problems += [f"{label}: {prefix}{name}: must be a single value, not a "
                              f"{type(values[name]).__name__}." for name in misfits]
            return None
        for name, value in values.items():
            setattr(instance, name, value)
        try:
            instance.full_clean()
        except ValidationError as exc:
            self.problems += _problems_of(exc, label, prefix)
            return None
        if not save:
            return None
        if before is not None and before == _snapshot(instance):
            return "unchanged"
        instance.save()
        return "created" if before is None else "updated"

    def fail_if_problems(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)

    def referenced(self, model: type[models.Model], kind: str, key: str, names: list[str],
                   label: str, what: str) -> list[models.Model] | None:
        rows = model._default_manager.filter(**{f"{key}__in": names})
        if model is RecipientGroup:
            rows = rows.filter(directory_id=self.directory_id)
        found = {getattr(o, key): o for o in rows}
        if kind in self.kept:
            found = {name: o for name, o in found.items() if name in self.kept[kind]}
        missing = [name for name in names if name not in found]
        if missing:
            hint = " (with --prune only items listed in the file are kept)" if kind in self.kept \
                else ""
            noun = {"categories": "category", "groups": "group(s)"}[kind]
            self.problems.append(f"{label}: {what}: unknown {noun} "
                                 f"{', '.join(repr(n) for n in missing)}{hint}.")
            return None
        return [found[name] for name in names]

    def groups(self) -> models.QuerySet[RecipientGroup]:
        return RecipientGroup.objects.filter(directory_id=self.directory_id)

    def load_categories(self) -> None:
        for label, item in self.items("categories"):
            category = Category.objects.filter(key=item["key"]).first() or Category(key=item["key"])
            outcome = self.upsert(category, {
                "name": _text(item, "name"), "description": _text(item, "description"),
                "critical": item.get("critical", False),
                **{name: item.get(name) for name in CATEGORY_THROTTLE}}, label)
            if outcome:
                self.count("categories", outcome)

    def load_groups(self) -> None:
        for label, item in self.items("groups"):
            group = self.groups().filter(name=item["name"]).first() \
                or RecipientGroup(directory_id=self.directory_id, name=item["name"])
            outcome = self.upsert(group, {"description": _text(item, "description")}, label)
            if outcome is None:
                continue
            members = self.referenced_subscribers(item.get("members") or [], label)
            targets_changed = self.sync_targets(group, item.get("targets") or [], label)
            if members is None or targets_changed is None:
                continue
            members_changed = set(group.members.all()) != set(members)
            if members_changed:
                group.members.set(members)
            if outcome == "unchanged" and (members_changed or targets_changed):
                outcome = "updated"
            self.count("groups", outcome)

    def referenced_subscribers(self, names: list[str], label: str) -> list[Subscriber] | None:
        found = {s.external_id: s for s in Subscriber.objects.filter(
            directory_id=self.directory_id, external_id__in=names)}
        missing = [name for name in names if name not in found]
        if missing:
            self.problems.append(f"{label}: members: unknown subscriber(s) "
                                 f"{', '.join(repr(n) for n in missing)}.")
            return None
        return [found[name] for name in names]

    def sync_targets(self, group: RecipientGroup, items: list[dict[str, Any]],
                     label: str) -> bool | None:
        """Make the group's targets exactly ``items``; return whether anything changed."""
        existing = {(t.channel, t.address): t for t in group.targets.all()}
        wanted = {(t["channel"], t["address"]) for t in items}
        stale = [t.pk for key, t in existing.items() if key not in wanted]
        GroupTarget.objects.filter(pk__in=stale).delete()
        outcomes = [
            self.upsert(existing.get((item["channel"], item["address"]))
                        or GroupTarget(group=group, channel=item["channel"],
                                       address=item["address"]),
                        {"label": _text(item, "label")}, label, prefix=f"targets[{index}].")
            for index, item in enumerate(items)
        ]
        if None in outcomes:
            return None
        return bool(stale) or any(outcome != "unchanged" for outcome in outcomes)

    def load_rules(self) -> None:
        for label, item in self.items("rules"):
            rule = Rule.objects.filter(name=item["name"]).first() or Rule(name=item["name"])
            categories = self.referenced(Category, "categories", "key",
                                         [item["category"]] if item.get("category") else [],
                                         label, "category")
            groups = self.referenced(RecipientGroup, "groups", "name", item.get("groups") or [],
                                     label, "groups")
            # A broken reference is reported, but the rule's own fields are still checked
            # so that one run lists every problem of the item.
            resolved = categories is not None and groups is not None
            outcome = self.upsert(rule, {
                "description": _text(item, "description"),
                "event_type": _text(item, "event_type"), "condition": _text(item, "condition"),
                "category": categories[0] if categories else None,
                "channels": item.get("channels", []),
                "audience": item.get("audience", Rule._meta.get_field("audience").default),
                "enabled": item.get("enabled", True), "sample_data": item.get("sample_data", {}),
                "delay_seconds": item.get("delay_seconds") or 0,
                "digest_window_seconds": item.get("digest_window_seconds"),
                "digest_at": item.get("digest_at"), "digest_key": _text(item, "digest_key"),
                "escalate_after_minutes": item.get("escalate_after_minutes"),
                "escalate_channel": _text(item, "escalate_channel"),
            }, label, save=resolved)
            if outcome is None or groups is None:
                continue
            if set(rule.groups.all()) != set(groups):
                rule.groups.set(groups)
                outcome = "updated" if outcome == "unchanged" else outcome
            self.count("rules", outcome)
            self.load_templates(item.get("templates") or [], label, rule=rule)

    def load_templates(self, items: list[dict[str, Any]], label: str, *,
                       rule: Rule | None = None) -> None:
        kept: list[int] = []
        for index, item in enumerate(items):
            if rule is None:
                label = item_label(f"templates[{index}]", item, SHAPES["templates"])
            scope = {"rule": rule} if rule else {"rule__isnull": True,
                                                  "event_type": item["event_type"]}
            identity = {"channel": item["channel"], "locale": _text(item, "locale")}
            template = MessageTemplate.objects.filter(**scope, **identity).first() \
                or MessageTemplate(rule=rule, event_type="" if rule else item["event_type"],
                                   **identity)
            outcome = self.upsert(template, {f: _text(item, f) for f in TEMPLATE_FIELDS}, label,
                                  prefix=f"templates[{index}]." if rule else "")
            if outcome:
                self.count("templates", outcome)
                kept.append(template.pk)
        if rule is not None and "rules" in self.kept:
            self.count("templates", "deleted", rule.templates.exclude(pk__in=kept).delete()[0])

    def prune(self) -> None:
        if "rules" in self.kept:
            stale = Rule.objects.exclude(name__in=self.kept["rules"])
            self.count("templates", "deleted",
                       MessageTemplate.objects.filter(rule__in=stale).count())
            self.count("rules", "deleted", stale.count())
            stale.delete()
        if self.prune_templates:
            listed = {(i["event_type"], i["channel"], _text(i, "locale"))
                      for i in self.config.get("templates") or []}
            stale_ids = [t.pk for t in MessageTemplate.objects.filter(rule__isnull=True)
                         if (t.event_type, t.channel, t.locale) not in listed]
            self.count("templates", "deleted",
                       MessageTemplate.objects.filter(pk__in=stale_ids).delete()[0])
        if "groups" in self.kept:
            stale_groups = self.groups().exclude(name__in=self.kept["groups"])
            self.count("groups", "deleted", stale_groups.count())
            stale_groups.delete()
        if "categories" in self.kept:
            for category in Category.objects.exclude(key__in=self.kept["categories"]):
                users = _references(category)
                if users:
                    self.problems.append(f"categories (key {category.key!r}): not in the file, "
                                         f"but --prune cannot delete it: still used by {users}.")
                else:
                    category.delete()
                    self.count("categories", "deleted")


def _references(instance: models.Model) -> str:
    """Describe the rows that still point at ``instance`` ('' when none do)."""
    used = []
    for relation in instance._meta.related_objects:
        if relation.many_to_many or relation.one_to_many or relation.one_to_one:
            n = relation.related_model._default_manager.filter(
                **{relation.field.name: instance}).count()
            if n:
                used.append(f"{n} {relation.related_model._meta.verbose_name_plural}")
    return ", ".join(used)
