"""``manage.py create_api_key``: mint an API key from the shell.

The key is printed alone on the last line of stdout, so a script can take it
with ``KEY=$(manage.py create_api_key … | tail -1)``. Only its hash is stored;
it cannot be shown again.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from notifications.models import ApiKey, Application
from notifications.models.applications import SCOPES
from notifications.services.api_keys import api_key_create, scopes_validate


def scopes_from_argument(value: str) -> list[str]:
    """'events:write,events:read' → checked scopes; 'all' → every scope."""
    if value.strip() == "all":
        return list(SCOPES)
    scopes = [scope.strip() for scope in value.split(",") if scope.strip()]
    if not scopes:
        raise CommandError(f"--scopes: name at least one scope, or 'all'. Known: "
                           f"{', '.join(SCOPES)}.")
    try:
        return scopes_validate(scopes)
    except ValidationError as exc:
        raise CommandError(f"--scopes: {' '.join(exc.messages)}") from exc


class Command(BaseCommand):
    help = ("Create an API key and print it on the last line, e.g. "
            "create_api_key --application shop --scopes events:write,events:read.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--application", required=True, metavar="NAME")
        parser.add_argument("--scopes", required=True,
                            help=f"Comma-separated, or 'all'. Known: {', '.join(SCOPES)}.")
        parser.add_argument("--name", default="command-line key", help="A label for the key.")
        parser.add_argument("--create-application", action="store_true",
                            help="Create the application when it does not exist yet.")

    def handle(self, *args: Any, **options: Any) -> None:
        # Scopes first, so a typo creates no application either.
        scopes = scopes_from_argument(options["scopes"])
        key_name = options["name"].strip()
        max_length = ApiKey._meta.get_field("name").max_length
        if not key_name or len(key_name) > max_length:
            raise CommandError(f"--name: give 1-{max_length} characters.")
        name = options["application"].strip()
        with transaction.atomic():
            application = Application.objects.filter(name=name).first()
            if application is None:
                if not options["create_application"]:
                    raise CommandError(f"--application: no application named {name!r}; "
                                       "add --create-application to create it.")
                application = Application(name=name)
                try:
                    application.full_clean()
                except ValidationError as exc:
                    raise CommandError(f"--application: {' '.join(exc.messages)}") from exc
                application.save()
                self.stdout.write(f"Created application {name!r}.")
            minted = api_key_create(application=application, name=key_name, scopes=scopes)
        key = minted.api_key
        self.stdout.write(f"Application: {application.name}")
        self.stdout.write(f"Key name:    {key.name}")
        self.stdout.write(f"Prefix:      {key.prefix}")
        self.stdout.write(f"Scopes:      {', '.join(key.scopes)}")
        if not application.is_active:
            self.stdout.write("Warning: this application is inactive; the key will be refused "
                              "until the application is activated in the admin.")
        self.stdout.write("The key follows; store it now, it cannot be shown again:")
        self.stdout.write(minted.secret)
