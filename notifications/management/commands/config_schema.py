"""``manage.py config_schema``: print the JSON Schema of configuration files (for editors)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from notifications.services.config_io.schema import config_json_schema


class Command(BaseCommand):
    help = ("Print the JSON Schema of the files dump_config writes and load_config reads; "
            "point your editor's YAML/JSON language server at it.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(config_json_schema(), indent=2))
