"""``manage.py notify EVENT --to …``: trigger an event from the shell, like ``POST /api/events``.

Recipients take the API's forms: a subscriber's external id, ``#group``, a raw
JSON object, and on the command line also ``channel:address`` (``email:a@b.c``)
as a shorthand for ``{"email": "a@b.c"}``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from notifications.models import Application, Channel, Event, EventStatus
from notifications.services.events import IdempotencyConflict, event_ingest
from notifications.services.scheduling import send_at_parse


def recipient_from_argument(value: str) -> object:
    """Turn one ``--to`` value into a ``to`` entry; raise ``CommandError`` on bad JSON."""
    if value.lstrip().startswith("{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--to {value!r}: not valid JSON ({exc}).") from exc
    channel, sep, address = value.partition(":")
    # Only a known channel name makes a shorthand, so external ids such as
    # "github:42" stay subscriber ids.
    if sep and channel in Channel.values:
        return {channel: address}
    return value


def _describe(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "\n".join(f"{field}: {message}" for field, messages in error.message_dict.items()
                         for message in messages)
    return "\n".join(error.messages)


@contextlib.contextmanager
def _quietly() -> Iterator[None]:
    """Hide what the work prints while it runs in this process (tasks run eagerly on the
    embedded default): the outbox's echo of every e-mail, and routine task log lines.
    Warnings and errors still show; the summary below says what happened."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.WARNING))
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        root.setLevel(level)


class Command(BaseCommand):
    help = ("Trigger an event, e.g. notify order.shipped --to user-1 --to '#admins' "
            "--to email:ops@example.com --data '{\"order_id\": \"A-1\"}'.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("event", help="Event type, e.g. order.shipped.")
        parser.add_argument("--to", action="append", default=[], metavar="RECIPIENT",
                            help="external id, #group, channel:address or a JSON object; "
                                 "repeat for more.")
        parser.add_argument("--data", default="{}", help="Event data as a JSON object.")
        parser.add_argument("--idempotency-key", help="Repeat-safe key (per application).")
        parser.add_argument("--send-at", metavar="WHEN",
                            help="Process at this ISO-8601 time with offset, e.g. "
                                 "2026-05-01T09:00:00+02:00 (default: now).")
        parser.add_argument("--application", metavar="NAME",
                            help="Record the event under this application.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = json.loads(options["data"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--data: not valid JSON ({exc}).") from exc
        recipients = [recipient_from_argument(value) for value in options["to"]]
        try:
            send_at = send_at_parse(options["send_at"])
        except ValidationError as exc:
            raise CommandError(f"--send-at: {' '.join(exc.messages)}") from exc
        application = None
        if options["application"]:
            application = Application.objects.filter(name=options["application"]).first()
            if application is None:
                raise CommandError(f"--application: no application named "
                                   f"{options['application']!r}.")
        try:
            with _quietly():
                event, created = event_ingest(
                    event_type=options["event"], recipients=recipients, data=data,
                    application=application, idempotency_key=options["idempotency_key"],
                    send_at=send_at)
        except ValidationError as exc:
            raise CommandError(f"Event not accepted; nothing was written.\n{_describe(exc)}"
                               ) from exc
        except IdempotencyConflict as exc:
            raise CommandError(str(exc)) from exc
        self.report(event, created)

    def report(self, event: Event, created: bool) -> None:
        event.refresh_from_db()
        verb = "accepted" if created else "already accepted earlier (idempotency key replayed)"
        self.stdout.write(f"Event {event.pk} ({event.event_type}) {verb}.")
        self.stdout.write(f"Status: {event.status}")
        if event.error:
            self.stdout.write(f"Notes: {event.error}")
        if event.status == EventStatus.SCHEDULED:
            self.stdout.write(f"Scheduled for {event.send_at.isoformat()}.")
            return
        if event.status == EventStatus.RECEIVED:
            # Tasks run on a worker (or after an enclosing transaction commits).
            self.stdout.write("Queued for processing; follow it with GET /api/events/"
                              f"{event.pk}.")
            return
        deliveries = list(event.deliveries.order_by("channel", "address"))
        if not deliveries:
            self.stdout.write("No deliveries: no enabled rule matched, or its audience is empty.")
        for delivery in deliveries:
            reason = delivery.skip_reason or delivery.last_error
            self.stdout.write(f"  {delivery.channel} → {delivery.address or delivery.recipient_key}"
                              f": {delivery.status}{f' ({reason})' if reason else ''}")
        if settings.EMAIL_BACKEND == "notifications.mail.OutboxEmailBackend" and any(
                d.channel == Channel.EMAIL for d in deliveries):
            self.stdout.write(f"E-mails are written to {settings.EMAIL_OUTBOX_DIR}/.")
