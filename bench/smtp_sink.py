"""An SMTP server that accepts and drops every message (aiosmtpd), for the e-mail benchmarks.

Run as its own process (``python bench/smtp_sink.py PORT [LOG]``) so neither side of
the benchmark shares its interpreter with the server both of them talk to. With LOG,
the Message-ID of every message received is appended to that file, one per line, so
a benchmark can count what arrived, and what arrived twice.
"""

from __future__ import annotations

import re
import signal
import sys
import threading

from aiosmtpd.controller import Controller

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class Sink:
    def __init__(self, log_path: str | None):
        self.log = open(log_path, "a", buffering=1) if log_path else None  # noqa: SIM115

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's hook name
        if self.log is not None:
            found = _MESSAGE_ID.search(envelope.content)
            self.log.write((found.group(1).decode() if found else "-") + "\n")
        return "250 OK"


if __name__ == "__main__":
    controller = Controller(Sink(sys.argv[2] if len(sys.argv) > 2 else None),
                            hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()
