"""E-mail backend of the embedded default: one ``.eml`` file per message, echoed to the console.

The files under ``var/outbox`` are complete RFC 5322 messages (open them with
any mail client), so a developer sees exactly what an SMTP server would get.
"""

from __future__ import annotations

import re
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as ConsoleBackend

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class OutboxEmailBackend(BaseEmailBackend):
    """Write each message to ``EMAIL_OUTBOX_DIR`` and print it to standard output."""

    _lock = threading.Lock()

    def send_messages(self, email_messages) -> int:
        outbox = Path(settings.EMAIL_OUTBOX_DIR)
        outbox.mkdir(parents=True, exist_ok=True)
        sent = 0
        with self._lock:
            for message in email_messages:
                raw = message.message()
                message_id = _UNSAFE.sub("_", str(raw["Message-ID"] or "")).strip("_")
                stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
                (outbox / f"{stamp}-{message_id[:80]}.eml").write_bytes(raw.as_bytes())
                sent += 1
        ConsoleBackend(stream=sys.stdout, fail_silently=self.fail_silently).send_messages(
            email_messages)
        return sent
