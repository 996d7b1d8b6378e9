"""``manage.py load_demo``: the demo data ``make run`` starts with; safe to run every time.

Secrets (the admin password, a newly minted key) go to this command's stdout
only, never to logging.
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.core.management.base import BaseCommand

from notifications.services import demo
from notifications.services.demo import demo_load

BASE_URL = "http://127.0.0.1:8000"
DEFAULT_PASSWORD = "clarion-demo"  # noqa: S105 — the documented demo default
NEW_KEY_COMMAND = (".venv/bin/python manage.py create_api_key --application "
                   f"{demo.APPLICATION_NAME} --scopes all")


def curl_example(key: str, base_url: str = BASE_URL) -> str:
    body = json.dumps({"event": demo.EVENT_TYPE, "to": [demo.SUBSCRIBER_ID],
                       "data": demo.SAMPLE_DATA})
    return (f'curl -X POST {base_url}/api/events -H "Authorization: Bearer {key}" '
            f"-H \"Content-Type: application/json\" -d '{body}'")


class Command(BaseCommand):
    help = ("Create the demo admin, subscriber, application, API key, category, group and "
            "rule when missing. The admin password comes from CLARION_DEMO_ADMIN_PASSWORD.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--base-url", default=BASE_URL,
                            help=f"Where the server will listen, for the URLs printed "
                                 f"(default {BASE_URL}; make run passes its HOST and PORT).")

    def handle(self, *args: Any, **options: Any) -> None:
        base_url = options["base_url"].rstrip("/")
        password = os.environ.get("CLARION_DEMO_ADMIN_PASSWORD") or DEFAULT_PASSWORD
        result = demo_load(admin_password=password)
        if result.created:
            self.stdout.write(f"Demo data created: {', '.join(result.created)}.")
        if result.existing:
            self.stdout.write(f"Already present, left as is: {', '.join(result.existing)}.")
        self.stdout.write("")
        self.stdout.write(f"Admin:    {base_url}/admin/")
        self.stdout.write(f"Username: {demo.ADMIN_USERNAME}")
        self.stdout.write(f"Password: {password}"
                          + ("  (the admin's password was reset to this)"
                             if result.password_set else ""))
        self.stdout.write("")
        if result.minted is not None:
            self.stdout.write("Demo API key (all scopes), shown only now; store it:")
            self.stdout.write(f"  {result.minted.secret}")
            key = result.minted.secret
        else:
            prefix = result.existing_key.prefix if result.existing_key else "?"
            self.stdout.write(f"A demo API key already exists (prefix {prefix}); its secret was "
                              "shown only when it was created.")
            self.stdout.write(f"Mint a new one with: {NEW_KEY_COMMAND}")
            key = "<your key>"
        self.stdout.write("")
        self.stdout.write("Trigger the demo rule:")
        self.stdout.write(f"  {curl_example(key, base_url)}")
