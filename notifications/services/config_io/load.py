"""Applying a configuration document: ``config_load`` checks the file's structure, then runs
the loader over every section in dependency order inside one transaction, so a file is applied
all-or-nothing and a dry run rolls back after counting what would change.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from notifications.services.config_io.base import ConfigError, LoadSummary
from notifications.services.config_io.checks import check_document
from notifications.services.config_io.loader import ConfigLoader


def config_load(*, config: dict[str, Any], prune: bool = False,
                dry_run: bool = False) -> LoadSummary:
    """Apply ``config`` all-or-nothing; return what was (or, dry run, would be) changed.

    Raise ``ConfigError`` listing every problem found; nothing is written then.

    Loading is an upsert by name: categories by ``key``, groups and rules by
    ``name``, a rule's templates by (channel, locale) and event-type templates by
    (event_type, channel, locale). Each listed item is taken as a whole: a key left
    out means that field's default (empty text, no category, …), and a group's
    members and targets and a rule's groups become exactly what the file lists.
    Every row goes through its model's ``full_clean()``, the whole load is one
    transaction, and an item already equal to the file is not written at all, so
    loading the same file twice changes nothing.

    Items absent from the file are kept. With ``prune``, every section present in
    the file is authoritative: items of that kind the file does not list are
    deleted (a rule's templates are pruned for the rules the file lists), and the
    file's references may only name items the file keeps. A section left out of
    the file is never pruned, so a file holding only ``rules`` cannot wipe groups.
    """
    problems = check_document(config)
    if problems:
        raise ConfigError(problems)
    summary = LoadSummary(dry_run=dry_run)
    loader = ConfigLoader(config=config, prune=prune, summary=summary)
    with transaction.atomic():
        # Sections go in dependency order; a broken section stops the load so that its
        # failures do not reappear as confusing "unknown group" errors further down.
        for step in (loader.load_categories, loader.load_groups, loader.load_rules):
            step()
            loader.fail_if_problems()
        loader.load_templates(loader.config.get("templates") or [], "templates")
        loader.fail_if_problems()
        summary.warnings += _rules_missing_templates(loader.config.get("rules") or [])
        loader.prune()
        loader.fail_if_problems()
        if dry_run:
            transaction.set_rollback(True)
    return summary


def _rules_missing_templates(items: list[dict[str, Any]]) -> list[str]:
    from notifications.models import Rule
    from notifications.selectors.rules import rule_channels_without_template

    warnings = []
    for rule in Rule.objects.filter(name__in=[item["name"] for item in items]).order_by("name"):
        if missing := rule_channels_without_template(rule):
            warnings.append(f"rules (name {rule.name!r}): no template for {', '.join(missing)}; "
                            f"those deliveries will fail until one is added.")
    return warnings
