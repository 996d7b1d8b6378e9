"""``manage.py dump_config``: write categories, groups, rules and templates as YAML or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from notifications.services.config_io import (
    ConfigError,
    config_dump,
    config_format_for,
    config_serialize,
)


class Command(BaseCommand):
    help = ("Write the notification configuration (categories, groups, rules, templates) "
            "to stdout or a file, for version control and `load_config`.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=["yaml", "json"],
                            help="Default: from the output file's extension, else yaml.")
        parser.add_argument("-o", "--output", metavar="FILE", help="Write here instead of stdout.")

    def handle(self, *args: Any, **options: Any) -> None:
        output = options["output"]
        fmt = options["format"]
        if fmt is None:
            try:
                fmt = config_format_for(path=output) if output else "yaml"
            except ConfigError as exc:
                raise CommandError(str(exc)) from exc
        text = config_serialize(config=config_dump(), fmt=fmt)
        if not output:
            self.stdout.write(text, ending="")
            return
        Path(output).write_text(text, encoding="utf-8")
        self.stderr.write(f"Wrote {output}.")
