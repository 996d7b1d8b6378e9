"""``manage.py load_config FILE``: apply a dumped configuration, all-or-nothing.

Upserts by name and never deletes unless ``--prune`` is given; see
``notifications.services.config_io`` for the exact rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from notifications.services.config_io import (
    ConfigError,
    config_format_for,
    config_load,
    config_parse,
)


class Command(BaseCommand):
    help = ("Create or update categories, groups, rules and templates from a YAML or JSON file "
            "(matched by key/name). Nothing is deleted unless --prune is given; any error "
            "leaves the database unchanged.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="A .yaml, .yml or .json file, e.g. from dump_config.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Validate and report what would change; write nothing.")
        parser.add_argument("--prune", action="store_true",
                            help="Also delete items of each section in the file that the file "
                                 "does not list (sections left out of the file are untouched).")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            fmt = config_format_for(path=path)
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError([f"{path}: {exc.strerror or exc}"]) from exc
            summary = config_load(config=config_parse(text=text, fmt=fmt),
                                  prune=options["prune"], dry_run=options["dry_run"])
        except ConfigError as exc:
            raise CommandError(f"{path}: nothing was changed.\n" + "\n".join(exc.problems)
                               ) from exc
        for line in summary.lines():
            self.stdout.write(line)
        for warning in summary.warnings:
            self.stdout.write(f"Warning: {warning}")
        if summary.dry_run:
            self.stdout.write("Dry run: nothing was written.")
        elif not summary.changed:
            self.stdout.write("Already up to date: nothing changed.")
